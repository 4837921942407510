// Issue: operations. A backup taken under load holds every message acknowledged before it began;
// the systemd unit installed by `make install` passes systemd-analyze verify; hookd says READY=1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHookd, api, BIN, skipOn } from './lib/hookd.mjs';

test('a backup under load opens and holds every message acknowledged before it started', skipOn('postgres', 'hookd backup copies SQLite files; PostgreSQL is backed up with pg_dump'), async () => {
  const h = await startHookd({ args: ['--role', 'api'] });
  const out = join(h.dir, 'copy.db');
  try {
    await api(h, 'POST', '/api/v1/app', { body: { name: 'B', uid: 'b' } });
    const acked = [];
    let stop = false;
    const pub = async () => {
      while (!stop) {
        const r = await api(h, 'POST', '/api/v1/app/b/msg', { body: { eventType: 'b.k', payload: { n: acked.length } } });
        if (r.status === 202) acked.push(r.json.id);
      }
    };
    const workers = [pub(), pub(), pub(), pub()];
    while (acked.length < 200) await new Promise((r) => setTimeout(r, 5));
    const before = [...acked];
    const r = spawnSync(BIN, ['backup', out, '--db', h.db], { encoding: 'utf8' });
    stop = true;
    await Promise.all(workers);
    assert.equal(r.status, 0, r.stderr);
    const ids = new Set(execFileSync('sqlite3', [out, 'SELECT id FROM msg'], { encoding: 'utf8' }).trim().split('\n'));
    for (const id of before) assert.ok(ids.has(id), `${id} in the backup`);
    assert.equal(execFileSync('sqlite3', [out, 'PRAGMA integrity_check'], { encoding: 'utf8' }).trim(), 'ok');
    const again = spawnSync(BIN, ['backup', out, '--db', h.db], { encoding: 'utf8' });
    assert.equal(again.status, 1, 'an existing file is not overwritten');
  } finally { await h.stop(); h.cleanup(); }
});

test('the installed systemd unit verifies, and hookd sends READY=1 to $NOTIFY_SOCKET', async () => {
  const prefix = mkdtempSync(join(tmpdir(), 'hookd-unit-'));
  try {
    const env = { ...process.env };
    for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'BUILD', 'HOOKD_BIN', 'HOOKD_OUT', 'CC', 'OPT', 'LDFLAGS']) delete env[k];
    const root = new URL('../..', import.meta.url).pathname;
    execFileSync('make', ['-C', root, '--no-print-directory', '-o', BIN, 'install', `PREFIX=${prefix}`, `HOOKD_OUT=${BIN}`], { env, stdio: 'ignore' });
    const unit = join(prefix, 'lib/systemd/system/hookd.service');
    assert.ok(existsSync(unit));
    const text = readFileSync(unit, 'utf8');
    assert.match(text, new RegExp(`ExecStart=${prefix}/bin/hookd serve`));
    for (const want of ['Type=notify', 'User=hookd', 'ProtectSystem=strict', 'NoNewPrivileges=yes']) assert.ok(text.includes(want), want);
    const v = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });
    assert.equal(v.status, 0, v.stderr);
  } finally { rmSync(prefix, { recursive: true, force: true }); }

  const dir = mkdtempSync(join(tmpdir(), 'hookd-notify-'));
  const sockPath = join(dir, 'notify.sock');
  try {
    // node's dgram has no unix sockets: listen with a tiny python3 helper
    const listener = spawn('python3', ['-c', `import socket,sys\ns=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint('bound', flush=True)\nprint(s.recv(100).decode(), flush=True)`, sockPath]);
    let got = '';
    listener.stdout.on('data', (d) => { got += d; });
    for (let i = 0; i < 250 && !got.includes('bound'); i++) await new Promise((r) => setTimeout(r, 20));
    try {
      const h = await startHookd({ env: { NOTIFY_SOCKET: sockPath } });
      try {
        for (let i = 0; i < 100 && !got.includes('READY=1'); i++) await new Promise((r) => setTimeout(r, 20));
        assert.match(got, /READY=1/);
      } finally { await h.stop(); h.cleanup(); }
    } finally { listener.kill(); }
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('prune removes what is older than --before and keeps what is newer', async (t) => {
  if (process.env.HOOKD_TEST_DB) return t.skip('prune on PostgreSQL runs beside the server; covered on SQLite');
  const h = await startHookd();
  await api(h, 'POST', '/api/v1/app', { body: { name: 'P', uid: 'p' } });
  const old = [];
  for (let i = 0; i < 5; i++) old.push((await api(h, 'POST', '/api/v1/app/p/msg', { body: { eventType: 'p.o', payload: { i } } })).json.id);
  await new Promise((r) => setTimeout(r, 1100));
  const cut = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 1100));
  const fresh = [];
  for (let i = 0; i < 5; i++) fresh.push((await api(h, 'POST', '/api/v1/app/p/msg', { body: { eventType: 'p.n', payload: { i } } })).json.id);
  await h.stop();
  const r = spawnSync(BIN, ['prune', '--before', cut, '--db', h.db], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /removed \d+ rows/);
  const h2 = await startHookd({ dir: h.dir });
  try {
    for (const id of old) assert.equal((await api(h2, 'GET', `/api/v1/app/p/msg/${id}`)).status, 404, `${id} pruned`);
    for (const id of fresh) assert.equal((await api(h2, 'GET', `/api/v1/app/p/msg/${id}`)).status, 200, `${id} kept`);
  } finally { await h2.stop(); h2.cleanup(); }
  assert.equal(spawnSync(BIN, ['prune', '--before', 'yesterday'], { encoding: 'utf8' }).status, 2);
});
