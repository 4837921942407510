// Issue: the hookd command line for people. Every command runs as a user would run it:
// a spawned process with pipes (no terminal), checked by its output and exit status.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { startHookd, api, BIN } from './lib/hookd.mjs';
import { sleep } from './lib/receiver.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
let h, home;

// a clean environment: no inherited hookd settings, a private config folder
function cleanEnv(extra = {}) {
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'xdg') };
  for (const k of ['HOOKD_URL', 'HOOKD_TOKEN', 'HOOKD_APP', 'HOOKD_SECRET', 'HOOKD_LISTEN_PORT', 'NO_COLOR']) delete env[k];
  return { ...env, ...extra };
}

// run executes hookd to completion: { code, stdout, stderr }
function run(args, { input, env = {}, timeoutMs = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`hookd ${args.join(' ')} timed out: ${stderr}`)); }, timeoutMs);
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
    child.stdin.on('error', () => {}); // a command that exits before reading its input closes the pipe early
    child.stdin.end(input ?? '');
  });
}

// spawnLines starts a long-running hookd command and collects its stdout lines
function spawnLines(args, env = {}) {
  const child = spawn(BIN, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let partial = '', stderr = '';
  const waiters = [];
  const poke = () => { for (const w of [...waiters]) if (w.check()) { waiters.splice(waiters.indexOf(w), 1); w.done(); } };
  child.stdout.on('data', (d) => {
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop();
    lines.push(...parts);
    poke();
  });
  child.stderr.on('data', (d) => { stderr += d; poke(); });
  const waitFor = (pred, what, timeoutMs = 10000) => new Promise((resolve, reject) => {
    const w = { check: () => pred(), done: () => { clearTimeout(t); resolve(); } };
    const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); reject(new Error(`timed out waiting for ${what}; stdout: ${lines.join('\n')} stderr: ${stderr}`)); }, timeoutMs);
    if (w.check()) { clearTimeout(t); resolve(); } else waiters.push(w);
  });
  return {
    child, lines, stderr: () => stderr, waitFor,
    waitLines: (n, timeoutMs) => waitFor(() => lines.length >= n, `${n} lines`, timeoutMs),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.on('close', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

const newSecret = () => 'whsec_' + randomBytes(24).toString('base64');
const server = () => ['--server', h.url, '--token', h.token];

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'hookd-cli-'));
  h = await startHookd({ args: ['--allow-private'] });
});
after(async () => { await h.stop(); h.cleanup(); rmSync(home, { recursive: true, force: true }); });

let app, ep, secret, listener, port, msgId;

test('listen --json receives and verifies a delivery published with send', async () => {
  secret = newSecret();
  listener = spawnLines(['listen', '--port', '0', '--json', '--secret', secret]);
  await listener.waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(listener.stderr()), 'the listen banner');
  port = Number(listener.stderr().match(/listening on http:\/\/127\.0\.0\.1:(\d+)/)[1]);

  app = (await api(h, 'POST', '/api/v1/app', { body: { name: 'CLI shop', uid: 'cli-shop' } })).json;
  ep = (await api(h, 'POST', '/api/v1/app/cli-shop/endpoint', { body: { url: `http://127.0.0.1:${port}/hook`, secret } })).json;
  assert.ok(app.id && ep.id);

  const sent = await run(['send', '--app', 'cli-shop', '--type', 'order.created',
    '--data', '{"type":"order.created","order":{"id":42,"total":"9.90"}}', '--wait', ...server()]);
  assert.equal(sent.code, 0, sent.stderr);
  msgId = sent.stdout.split('\n')[0];
  assert.match(msgId, /^msg_/);
  // --wait printed where it went, and no progress line without a terminal
  assert.match(sent.stdout, new RegExp(`${ep.id}\\s+http://127\\.0\\.0\\.1:${port}/hook\\s+success`));
  assert.doesNotMatch(sent.stderr, /\r/);

  await listener.waitLines(1);
  const got = JSON.parse(listener.lines[0]);
  assert.equal(got.method, 'POST');
  assert.equal(got.path, '/hook');
  assert.equal(got.webhookId, msgId);
  assert.equal(got.eventType, 'order.created');
  assert.equal(got.verified, true);
  assert.equal(got.reason, null);
  assert.deepEqual(got.body, { type: 'order.created', order: { id: 42, total: '9.90' } });
  assert.equal(got.headers['webhook-id'], msgId);
  assert.match(got.time, /^\d{4}-\d\d-\d\dT/);
});

test('listen reports a bad signature with its reason, and answers --status', async () => {
  const other = spawnLines(['listen', '--port', '0', '--json', '--secret', secret, '--status', '202']);
  try {
    await other.waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(other.stderr()), 'the listen banner');
    const p = Number(other.stderr().match(/:(\d+)/)[1]);
    const body = '{"type":"a.b","x":1}';
    const ts = new Date();
    const sig = new Webhook(secret.replace(/^whsec_/, '')).sign('msg_tampered', ts, body);
    const res = await fetch(`http://127.0.0.1:${p}/x?q=1`, {
      method: 'POST', body: body.replace('1', '2'),
      headers: { 'webhook-id': 'msg_tampered', 'webhook-timestamp': String(Math.floor(ts / 1000)), 'webhook-signature': sig },
    });
    assert.equal(res.status, 202);
    const plain = await fetch(`http://127.0.0.1:${p}/plain`, { method: 'POST', body: 'not json' });
    assert.equal(plain.status, 202);
    await other.waitLines(2);
    const bad = JSON.parse(other.lines[0]);
    assert.equal(bad.verified, false);
    assert.equal(bad.reason, 'no matching signature');
    assert.equal(bad.path, '/x?q=1');
    assert.equal(bad.eventType, 'a.b');
    const unsigned = JSON.parse(other.lines[1]);
    assert.equal(unsigned.verified, false);
    assert.match(unsigned.reason, /missing webhook-id/);
    assert.equal(unsigned.body, 'not json');
  } finally { await other.stop(); }
});

test('listen without a secret prints plain text when piped, and forwards', async () => {
  const sink = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(201); res.end('made'); }); });
  await new Promise((r) => sink.listen(0, '127.0.0.1', r));
  const plain = spawnLines(['listen', '--port', '0', '--forward', `http://127.0.0.1:${sink.address().port}/in`]);
  try {
    await plain.waitFor(() => /listening on/.test(plain.stderr()), 'the listen banner');
    const p = Number(plain.stderr().match(/:(\d+)/)[1]);
    await fetch(`http://127.0.0.1:${p}/gh`, { method: 'POST', body: '{"eventType":"push","n":1}', headers: { 'webhook-id': 'evt_1' } });
    await plain.waitFor(() => plain.lines.some((l) => l.includes('answered 201')), 'the forwarded answer');
    const out = plain.lines.join('\n');
    assert.doesNotMatch(out, /\x1b\[/); // no colour on a pipe
    assert.match(out, /POST \/gh {2}push {2}id evt_1 {2}26 bytes {2}\(signature not checked\)/);
    assert.match(out, /"n": 1/);
    assert.match(out, /answered 201 \(\d+ ms\): made/);
  } finally { await plain.stop(); sink.close(); }
});

test('sign prints headers that the standardwebhooks package verifies', async () => {
  const s = newSecret();
  const body = '{"hello":"world"}';
  const r = await run(['sign', '--secret', s], { input: body });
  assert.equal(r.code, 0, r.stderr);
  const headers = Object.fromEntries(r.stdout.trim().split('\n').map((l) => l.split(': ')));
  assert.deepEqual(Object.keys(headers), ['webhook-id', 'webhook-timestamp', 'webhook-signature']);
  assert.match(headers['webhook-id'], /^msg_/);
  assert.ok(Math.abs(Number(headers['webhook-timestamp']) - Date.now() / 1000) < 10);
  assert.deepEqual(new Webhook(s.replace(/^whsec_/, '')).verify(body, headers), { hello: 'world' });

  const fixed = await run(['sign', '--secret', s, '--id', 'msg_fixed', '--timestamp', '1700000000'], { input: body });
  assert.match(fixed.stdout, /^webhook-id: msg_fixed\nwebhook-timestamp: 1700000000\nwebhook-signature: v1,/);
  assert.equal(fixed.stdout.split('\n')[2].slice('webhook-signature: '.length),
    new Webhook(s.replace(/^whsec_/, '')).sign('msg_fixed', new Date(1700000000 * 1000), body));
});

test('verify accepts what the standardwebhooks package signs and rejects a tampered body', async () => {
  const s = newSecret();
  const body = '{"amount":100}';
  const now = new Date();
  const sig = new Webhook(s.replace(/^whsec_/, '')).sign('msg_abc', now, body);
  const args = ['verify', '--secret', s, '--id', 'msg_abc', '--timestamp', String(Math.floor(now / 1000)), '--signature', sig];
  const ok = await run(args, { input: body });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'verified\n');

  const bad = await run(args, { input: '{"amount":999}' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not verified: no matching signature/);

  const old = await run(['verify', '--secret', s, '--id', 'msg_abc', '--timestamp', '1000', '--signature', sig], { input: body });
  assert.equal(old.code, 1);
  assert.match(old.stderr, /timestamp too old/);

  const viaHeaders = await run(['verify', '--secret', s, '--header', 'Webhook-Id: msg_abc',
    '--header', `webhook-timestamp: ${Math.floor(now / 1000)}`, '--header', `webhook-signature: ${sig}`], { input: body });
  assert.equal(viaHeaders.code, 0, viaHeaders.stderr);
});

test('verify --provider github uses the inbound verifier', async () => {
  const { createHmac } = await import('node:crypto');
  const body = '{"zen":"Keep it logically awesome."}';
  const sig = 'sha256=' + createHmac('sha256', 'gh-secret').update(body).digest('hex');
  const ok = await run(['verify', '--provider', 'github', '--secret', 'gh-secret',
    '--header', `X-Hub-Signature-256: ${sig}`, '--header', 'X-GitHub-Event: ping'], { input: body });
  assert.equal(ok.code, 0, ok.stderr);
  const bad = await run(['verify', '--provider', 'github', '--secret', 'other',
    '--header', `X-Hub-Signature-256: ${sig}`], { input: body });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not verified/);
  const missing = await run(['verify', '--provider', 'github', '--secret', 'gh-secret'], { input: body });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /missing header/i);
});

test('bad arguments exit 2 with a one-line reason and the usage on stderr', async () => {
  const cases = [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['send', '--bogus'], /unknown option '--bogus'/],
    [['listen', '--port'], /option '--port' needs a value/],
    [['listen', '--port', 'abc'], /--port needs a number/],
    [['sign'], /--secret is required/],
    [['send', '--app', 'x'], /--type is required/],
    [['send', '--app', 'x', '--type', 't', '--data', '{nope'], /--data is not JSON/],
    [['endpoints'], /missing argument/],
    [['replay', 'msg_1'], /--app is required/],
    [['verify', '--secret', 'whsec_aGVsbG8=', '--id', 'm'], /missing the timestamp/],
    [['verify', '--secret', 'whsec_aGVsbG8=', '--id', 'm', '--timestamp', 'abc', '--signature', 'v1,x'], /--timestamp needs Unix seconds/],
    [['help', 'frobnicate'], /unknown command 'frobnicate'/],
    [['send', '--app', 'x', '--type', 't', '--data', '{}', '--server', 'notaurl'], /--server needs an http:\/\/ or https:\/\/ URL/],
    [['apps', '--server', 'ftp://x'], /--server needs an http:\/\/ or https:\/\/ URL/],
    [['listen', '--forward', 'notaurl'], /--forward needs an http:\/\/ or https:\/\/ URL/],
    [['verify', '--secret', 'whsec_!!', '--id', 'm', '--timestamp', '1', '--signature', 'v1,x'], /--secret is not a Standard Webhooks secret/],
  ];
  for (const [args, reason] of cases) {
    const r = await run(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.split('\n')[0], reason, args.join(' '));
    assert.match(r.stderr, /usage: hookd /, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('--help lists every flag with its default', async () => {
  const top = await run(['--help']);
  assert.equal(top.code, 0);
  for (const c of ['serve', 'listen', 'send', 'tail', 'sign', 'verify', 'replay', 'endpoints', 'apps', 'login']) assert.match(top.stdout, new RegExp(`\\b${c}\\b`));
  const listen = await run(['listen', '--help']);
  assert.equal(listen.code, 0);
  for (const f of ['--port N', '--host ADDR', '--secret', '--provider', '--forward', '--status', '--json']) assert.ok(listen.stdout.includes(f), f);
  assert.match(listen.stdout, /--port N .*\(default: 9000\)/);
  assert.match(listen.stdout, /--host ADDR .*\(default: 127\.0\.0\.1\)/);
  const send = await run(['help', 'send']);
  assert.equal(send.code, 0);
  assert.match(send.stdout, /--server URL .*http:\/\/127\.0\.0\.1:8071/);
  for (const c of ['tail', 'sign', 'verify', 'replay', 'endpoints', 'apps', 'login', 'serve']) {
    const r = await run([c, '--help']);
    assert.equal(r.code, 0, c);
    assert.match(r.stdout, new RegExp(`^usage: hookd ${c}`), c);
  }
});

test('apps and endpoints print aligned tables of what exists', async () => {
  const apps = await run(['apps', ...server()]);
  assert.equal(apps.code, 0, apps.stderr);
  const lines = apps.stdout.trim().split('\n');
  assert.match(lines[0], /^ID\s+UID\s+NAME\s+CREATED$/);
  const row = lines.find((l) => l.startsWith(app.id));
  assert.ok(row, apps.stdout);
  assert.match(row, /cli-shop\s+CLI shop\s+\d{4}-/);
  assert.equal(lines[0].indexOf('UID'), row.indexOf('cli-shop')); // columns line up

  const eps = await run(['endpoints', 'cli-shop', ...server()]);
  assert.equal(eps.code, 0, eps.stderr);
  assert.match(eps.stdout, /^ID\s+URL\s+STATE\s+EVENT TYPES\s+CHANNELS\n/);
  assert.match(eps.stdout, new RegExp(`${ep.id}\\s+http://127\\.0\\.0\\.1:${port}/hook\\s+enabled\\s+all\\s+all`));

  const json = await run(['endpoints', 'cli-shop', '--json', ...server()]);
  assert.equal(JSON.parse(json.stdout)[0].id, ep.id);

  const missing = await run(['endpoints', 'no-such-app', ...server()]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /server answered 404/);
  const badToken = await run(['apps', '--server', h.url, '--token', 'wrong']);
  assert.equal(badToken.code, 1);
  assert.match(badToken.stderr, /server answered 401/);
});

test('replay resends a message to its endpoints', async () => {
  const before = listener.lines.length;
  const r = await run(['replay', '--app', 'cli-shop', msgId, ...server()]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^ENDPOINT\\s+RESULT\\n${ep.id}\\s+resent\\n$`));
  await listener.waitLines(before + 1);
  const again = JSON.parse(listener.lines[before]);
  assert.equal(again.webhookId, msgId);
  assert.equal(again.verified, true);

  const one = await run(['replay', '--app', 'cli-shop', msgId, '--endpoint', ep.id, ...server()]);
  assert.equal(one.code, 0, one.stderr);
  const unknown = await run(['replay', '--app', 'cli-shop', 'msg_nope', ...server()]);
  assert.equal(unknown.code, 1);
});

test('login writes the config file with mode 0600 and later commands use it', async () => {
  const xdg = join(home, 'xdg-login');
  const env = { XDG_CONFIG_HOME: xdg };
  const r = await run(['login', '--server', h.url, '--token', h.token], { env });
  assert.equal(r.code, 0, r.stderr);
  const file = join(xdg, 'hookd', 'config');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.match(readFileSync(file, 'utf8'), new RegExp(`server = ${h.url}\\ntoken = ${h.token}\\n`));

  const apps = await run(['apps'], { env });
  assert.equal(apps.code, 0, apps.stderr);
  assert.ok(apps.stdout.includes(app.id));
  const sent = await run(['send', '--app', 'cli-shop', '--type', 'order.created'], { env, input: '{"via":"stdin"}' });
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(sent.stdout, /^msg_\S+\n$/);

  // the environment beats the file, and the file's token never goes to another server
  const envWins = await run(['apps'], { env: { ...env, HOOKD_TOKEN: 'wrong' } });
  assert.equal(envWins.code, 1);
  const elsewhere = await run(['apps', '--server', h.url.replace('127.0.0.1', 'localhost')], { env });
  assert.equal(elsewhere.code, 1);
  assert.match(elsewhere.stderr, /401/);

  // without XDG_CONFIG_HOME the file lives in ~/.config
  const r2 = await run(['login', '--server', h.url, '--token', h.token], { env: { XDG_CONFIG_HOME: '' } });
  assert.equal(r2.code, 0, r2.stderr);
  assert.ok(existsSync(join(home, '.config', 'hookd', 'config')));
});

// a fake event stream with the route's shape, for when the server has no /api/v1/stream
async function fakeStream(seen) {
  const srv = http.createServer((req, res) => {
    seen.push({ url: req.url, auth: req.headers.authorization });
    if (req.headers.authorization !== 'Bearer stream-token') { res.writeHead(401, { 'content-type': 'application/json' }); res.end('{"code":"authentication_failed","detail":"bad token"}'); return; }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(': keep-alive\n\n');
    res.write('event: message\ndata: {"id":"msg_1","app":"app_1","eventType":"order.created","timestamp":"2030-01-01T00:00:00.000Z"}\n\n');
    res.write('event: attempt\r\ndata: {"id":"atmpt_1","msgId":"msg_1","endpointId":"ep_1","app":"app_1",\r\ndata: "status":0,"responseStatusCode":200,"timestamp":"2030-01-01T00:00:01.000Z"}\r\n\r\n');
    res.write('event: inbound\ndata: {"id":"evt_1","source":"github","eventType":"github.push",');
    setTimeout(() => res.write('"verified":true,"timestamp":"2030-01-01T00:00:02.000Z"}\n\n'), 50);
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return srv;
}

test('tail prints one line per streamed event', async () => {
  const probe = new AbortController();
  const real = await fetch(`${h.url}/api/v1/stream`, { headers: { authorization: `Bearer ${h.token}` }, signal: probe.signal }).catch(() => ({ status: 0 }));
  probe.abort();
  if (real.status === 200) {
    const t = spawnLines(['tail', '--app', 'cli-shop', ...server()]);
    try {
      await sleep(300);
      const sent = await run(['send', '--app', 'cli-shop', '--type', 'order.paid', '--data', '{}', ...server()]);
      const id = sent.stdout.trim();
      await t.waitFor(() => t.lines.some((l) => l.includes(id) && l.includes('message')), 'the message line');
      assert.ok(t.lines.find((l) => l.includes(id)).includes('order.paid'));
    } finally { await t.stop(); }
  }

  const seen = [];
  const srv = await fakeStream(seen);
  const url = `http://127.0.0.1:${srv.address().port}`;
  const t = spawnLines(['tail', '--app', 'app 1', '--source', 'github', '--server', url, '--token', 'stream-token']);
  try {
    await t.waitLines(3);
    assert.equal(seen[0].url, '/api/v1/stream?app=app%201&source=github');
    assert.match(t.lines[0], /^2030-01-01T00:00:00\.000Z {2}message {2}msg_1 {2}app app_1 {2}order\.created$/);
    assert.match(t.lines[1], /attempt {2}atmpt_1 {2}app app_1 {2}msg_1 -> ep_1 {2}success 200$/);
    assert.match(t.lines[2], /inbound {2}evt_1 {2}source github {2}github\.push {2}verified$/);
  } finally { await t.stop(); }

  const j = spawnLines(['tail', '--json', '--server', url, '--token', 'stream-token']);
  try {
    await j.waitLines(3);
    assert.deepEqual(JSON.parse(j.lines[1]).data.msgId, 'msg_1');
    assert.equal(JSON.parse(j.lines[2]).event, 'inbound');
  } finally { await j.stop(); }

  const denied = await run(['tail', '--server', url, '--token', 'nope']);
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /server answered 401: .*bad token/);
  srv.close();
  srv.closeAllConnections?.();
});

test('make install puts the binary and the man pages under PREFIX', async () => {
  const prefix = mkdtempSync(join(tmpdir(), 'hookd-install-'));
  try {
    const env = { ...process.env };
    for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'BUILD', 'HOOKD_BIN', 'HOOKD_OUT', 'CC', 'OPT', 'LDFLAGS']) delete env[k];
    const r = await new Promise((resolve) => {
      const c = spawn('make', ['-C', ROOT, '--no-print-directory', '-o', BIN, 'install', `PREFIX=${prefix}`, `HOOKD_OUT=${BIN}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      c.stderr.on('data', (d) => { err += d; });
      c.on('close', (code) => resolve({ code, err }));
    });
    assert.equal(r.code, 0, r.err);
    assert.ok(statSync(join(prefix, 'bin', 'hookd')).mode & 0o111);
    assert.match(readFileSync(join(prefix, 'share', 'man', 'man1', 'hookd.1'), 'utf8'), /^\.TH HOOKD 1/m);
    assert.match(readFileSync(join(prefix, 'share', 'man', 'man8', 'hookd-serve.8'), 'utf8'), /^\.TH HOOKD-SERVE 8/m);
  } finally { rmSync(prefix, { recursive: true, force: true }); }
});

after(async () => { if (listener) await listener.stop(); });
