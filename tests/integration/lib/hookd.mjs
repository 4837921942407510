// Start and stop a real hookd on 127.0.0.1 for a test, with its own temporary database:
// an SQLite file in a temporary folder, or, when HOOKD_TEST_DB names a PostgreSQL server
// (tests/pg.sh start), a fresh database created on it for each new folder.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = process.env.HOOKD_BIN || new URL('../../../hookd', import.meta.url).pathname;
export const PG = process.env.HOOKD_TEST_DB || '';
// every node of a test shares one master key (64 hex characters), as nodes of a cluster must
const TEST_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
export const backend = PG ? 'postgres' : 'sqlite';
// skipOn('postgres', why) is a test option: { skip } on that backend, {} elsewhere.
export const skipOn = (name, why) => (backend === name ? { skip: `${name}: ${why}` } : {});

// psql runs SQL on the test server's maintenance database (or on db).
export function psql(sql, db) {
  const url = db || PG.replace(/\/[^/?]*(\?.*)?$/, '/postgres');
  return execFileSync('psql', ['-qAtX', '-v', 'ON_ERROR_STOP=1', url, '-c', sql], { encoding: 'utf8' });
}

// newDatabase creates an empty database on the test server and returns its URL.
export function newDatabase() {
  const name = `hookd_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  psql(`CREATE DATABASE ${name}`);
  return PG.replace(/\/[^/?]*(\?.*)?$/, `/${name}`);
}

// dbFor gives a folder its database URL: kept in the folder, so a restart finds the same one.
function dbFor(dir) {
  if (!PG) return `sqlite:${join(dir, 'hookd.db')}`;
  const file = join(dir, 'db-url');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const url = newDatabase();
  writeFileSync(file, url);
  writeFileSync(join(dir, 'master.key'), `${TEST_KEY}\n`);
  return url;
}

// startHookd runs `hookd serve` on a free port; resolves once it prints its address.
// On PostgreSQL it also passes a master key and, unless args say otherwise, a short lease.
export async function startHookd({ dir, args = [], env = {}, token = 'test-admin-token', db } = {}) {
  dir = dir || mkdtempSync(join(tmpdir(), 'hookd-it-'));
  db = db || dbFor(dir);
  const pgArgs = db.startsWith('postgres') ? [
    ...(args.includes('--master-key-file') ? [] : ['--master-key-file', join(dir, 'master.key')]),
    ...(args.includes('--lease-seconds') ? [] : ['--lease-seconds', '2'])] : [];
  if (pgArgs.length && !existsSync(join(dir, 'master.key'))) writeFileSync(join(dir, 'master.key'), `${TEST_KEY}\n`);
  const fullArgs = ['serve', '--listen', '127.0.0.1:0', '--db', db, ...(token ? ['--token', token] : []), ...pgArgs, ...args];
  const child = spawn(BIN, fullArgs, { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stderr.on('data', (d) => { err += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hookd did not start: ${err}`)), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (https?:\/\/[\d.]+:\d+)/);
      if (m && out.includes('admin token:') && out.trimEnd().split('\n').length >= 3) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`hookd exited ${code}: ${err}`)); });
  });
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const printedToken = (out.match(/admin token: (\S+)/) || [])[1];
  return {
    url, dir, db, child, token: token || printedToken, stdout: () => out, stderr: () => err,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    cleanup() { rmSync(dir, { recursive: true, force: true }); },
  };
}

// api is a tiny fetch wrapper for requests the SDK cannot make (bad input, raw bodies).
export async function api(h, method, path, { body, headers = {}, token = h.token, raw } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.authorization = `Bearer ${token}`;
  if (raw !== undefined) {
    init.body = raw;
  } else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(h.url + path, init);
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}
