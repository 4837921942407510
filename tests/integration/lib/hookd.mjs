// Start and stop a real hookd on 127.0.0.1 for a test, with its own temporary database.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BIN = process.env.HOOKD_BIN || new URL('../../../hookd', import.meta.url).pathname;

// startHookd runs `hookd serve` on a free port; resolves once it prints its address.
export async function startHookd({ dir, args = [], env = {}, token = 'test-admin-token' } = {}) {
  dir = dir || mkdtempSync(join(tmpdir(), 'hookd-it-'));
  const db = `sqlite:${join(dir, 'hookd.db')}`;
  const fullArgs = ['serve', '--listen', '127.0.0.1:0', '--db', db, ...(token ? ['--token', token] : []), ...args];
  const child = spawn(BIN, fullArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
