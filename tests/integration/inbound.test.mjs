// Issue: inbound gateway. Real signatures made by the providers' own libraries, posted to a running hookd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import Stripe from 'stripe';
import { Webhook } from 'standardwebhooks';
import twilio from 'twilio';
import { Svix } from 'svix';
import { startHookd, api, skipOn } from './lib/hookd.mjs';
import { startReceiver, sleep } from './lib/receiver.mjs';

let h, svix;
before(async () => {
  h = await startHookd({ args: ['--allow-private'] });
  svix = new Svix(h.token, { serverUrl: h.url });
});
after(async () => { await h.stop(); h.cleanup(); });

async function source(body) {
  const r = await api(h, 'POST', '/api/v1/source', { body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function post(src, body, headers = {}, path = '') {
  const res = await fetch(`${h.url}/in/${src}${path}`, { method: 'POST', body, headers });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function events(src) {
  return (await api(h, 'GET', `/api/v1/source/${src}/event`)).json.data;
}

const GH_SECRET = "It's a Secret to Everybody";

test('github: a signed push is accepted, stored and fanned out to two endpoints, each delivery verifiable', async () => {
  const a = await startReceiver(), b = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'GitOps', uid: 'gitops' });
    const ea = await svix.endpoint.create(app.id, { url: a.url });
    const eb = await svix.endpoint.create(app.id, { url: b.url });
    await svix.endpoint.setHeaders(app.id, eb.id, { headers: { 'X-Team': 'platform' } });
    const src = await source({ uid: 'github-main', provider: 'github', secrets: ['old-secret', GH_SECRET], routes: [{ app: 'gitops', passHeaders: ['X-GitHub-Event'] }] });
    assert.deepEqual(src.secrets.length, 2);
    assert.ok(!JSON.stringify(src).includes(GH_SECRET), 'secrets are write-only');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'abc123', repository: { full_name: 'acme/api' } });
    const sig = await octokitSign(GH_SECRET, body);
    const r = await post('github-main', body, { 'content-type': 'application/json', 'x-hub-signature-256': sig, 'x-github-event': 'push', 'x-github-delivery': 'd-1', 'x-github-hook-id': '42' });
    assert.equal(r.status, 200);
    assert.match(r.json.id, /^evt_/);
    await a.waitFor((q) => q.length >= 1);
    await b.waitFor((q) => q.length >= 1);
    for (const [rx, ep] of [[a, ea], [b, eb]]) {
      const { key } = await svix.endpoint.getSecret(app.id, ep.id);
      const req = rx.requests[0];
      assert.equal(req.body, body, 'the original body bytes, unchanged');
      new Webhook(key.replace('whsec_', '')).verify(req.body, req.headers);
      assert.equal(req.headers['x-github-event'], 'push', 'passed-through header');
      assert.equal(req.headers['x-team'], ep === eb ? 'platform' : undefined, "the endpoint's own headers follow");
    }
    const msgs = await svix.message.list(app.id);
    assert.equal(msgs.data[0].eventType, 'github.push');
    const ev = await api(h, 'GET', `/api/v1/source/github-main/event/${r.json.id}`);
    assert.equal(ev.status, 200);
    assert.equal(ev.json.body, body);
    assert.equal(ev.json.headers['X-Hub-Signature-256'] ?? ev.json.headers['x-hub-signature-256'], sig);
    assert.equal(ev.json.verified, true);
  } finally { await a.close(); await b.close(); }
});

test('github: a duplicate delivery is answered 200 with the first id and stored once', async () => {
  await source({ uid: 'gh-dupe', provider: 'github', secrets: [GH_SECRET] });
  const body = '{"zen":"Keep it logically awesome."}';
  const headers = { 'x-hub-signature-256': await octokitSign(GH_SECRET, body), 'x-github-delivery': 'same', 'x-github-hook-id': '7', 'x-github-event': 'ping' };
  const first = await post('gh-dupe', body, headers);
  const again = await post('gh-dupe', body, headers);
  assert.equal(first.status, 200);
  assert.equal(again.status, 200);
  assert.equal(again.json.id, first.json.id);
  assert.equal(again.json.duplicate, true);
  assert.equal((await events('gh-dupe')).length, 1);
  let src;
  for (let i = 0; i < 40; i++) {
    src = (await api(h, 'GET', '/api/v1/source/gh-dupe')).json;
    if (src.stats.duplicates >= 1) break;
    await sleep(25);
  }
  assert.equal(src.stats.duplicates, 1);
  assert.equal(src.stats.received, 1);
});

test('bad signatures get 401 and store nothing; bodies over the limit get 413 and store nothing', async () => {
  await source({ uid: 'gh-strict', provider: 'github', secrets: [GH_SECRET], maxBodyBytes: 1024 });
  const body = '{"a":1}';
  const good = await octokitSign(GH_SECRET, body);
  let r = await post('gh-strict', body + ' ', { 'x-hub-signature-256': good });
  assert.equal(r.status, 401);
  assert.equal(r.json.code, 'verification_failed');
  assert.ok(r.json.detail);
  r = await post('gh-strict', body, { 'x-hub-signature-256': await octokitSign('wrong', body) });
  assert.equal(r.status, 401);
  r = await post('gh-strict', body, {});
  assert.equal(r.status, 401);
  const big = JSON.stringify({ x: 'y'.repeat(5000) });
  r = await post('gh-strict', big, { 'x-hub-signature-256': await octokitSign(GH_SECRET, big) });
  assert.equal(r.status, 413);
  assert.equal((await events('gh-strict')).length, 0);
  let src;
  for (let i = 0; i < 40; i++) { // counters are written by the store writer within a moment
    src = (await api(h, 'GET', '/api/v1/source/gh-strict')).json;
    if (src.stats.rejected >= 3) break;
    await sleep(25);
  }
  assert.equal(src.stats.rejected, 3);
  r = await post('no-such-source', body, {});
  assert.equal(r.status, 404);
});

test('stripe: generateTestHeaderString signatures verify; old timestamps do not', async () => {
  const secret = 'whsec_test_secret_for_hookd';
  await source({ uid: 'stripe', provider: 'stripe', secrets: [secret] });
  const stripe = new Stripe('sk_test_x');
  const payload = JSON.stringify({ id: 'evt_1', type: 'invoice.paid', object: 'event' });
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret });
  let r = await post('stripe', payload, { 'stripe-signature': header, 'content-type': 'application/json' });
  assert.equal(r.status, 200);
  const old = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Math.floor(Date.now() / 1000) - 3600 });
  r = await post('stripe', payload, { 'stripe-signature': old });
  assert.equal(r.status, 401);
  const ev = await events('stripe');
  assert.equal(ev[0].eventType, 'stripe.invoice.paid');
});

test('standard webhooks and svix senders verify', async () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  await source({ uid: 'stdwh', provider: 'standard-webhooks', secrets: [secret] });
  await source({ uid: 'svixin', provider: 'svix', secrets: [secret] });
  const payload = '{"type":"user.created","data":{}}';
  const wh = new Webhook(secret.replace('whsec_', ''));
  const now = new Date();
  const sig = wh.sign('msg_1', now, payload);
  let r = await post('stdwh', payload, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(now / 1000)), 'webhook-signature': sig });
  assert.equal(r.status, 200);
  const { Webhook: SvixWebhook } = await import('svix');
  const ssig = new SvixWebhook(secret).sign('msg_2', now, payload);
  r = await post('svixin', payload, { 'svix-id': 'msg_2', 'svix-timestamp': String(Math.floor(now / 1000)), 'svix-signature': ssig });
  assert.equal(r.status, 200);
  r = await post('svixin', payload + 'x', { 'svix-id': 'msg_2', 'svix-timestamp': String(Math.floor(now / 1000)), 'svix-signature': ssig });
  assert.equal(r.status, 401);
});

test('twilio: getExpectedTwilioSignature over the public URL and sorted form params', async () => {
  const token = '12345abcdef';
  const publicUrl = 'https://hooks.example.com/in/twilio-main';
  await source({ uid: 'twilio-main', provider: 'twilio', secrets: [token], publicUrl });
  const params = { CallSid: 'CA1234567890ABCDE', From: '+12349013030', To: '+18005551212', Digits: '1234' };
  const body = new URLSearchParams(params).toString();
  const sig = twilio.getExpectedTwilioSignature(token, publicUrl + '?x=1', params);
  let r = await post('twilio-main', body, { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig }, '?x=1');
  assert.equal(r.status, 200);
  r = await post('twilio-main', body, { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig }, '?x=2');
  assert.equal(r.status, 401);
});

test('slack url_verification is answered with the challenge and not stored', async () => {
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  await source({ uid: 'slack', provider: 'slack', secrets: [secret] });
  const body = JSON.stringify({ type: 'url_verification', challenge: 'ch-123', token: 't' });
  const ts = String(Math.floor(Date.now() / 1000));
  const sig = 'v0=' + createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex');
  const r = await post('slack', body, { 'x-slack-signature': sig, 'x-slack-request-timestamp': ts, 'content-type': 'application/json' });
  assert.equal(r.status, 200);
  assert.equal(r.json.challenge, 'ch-123');
  assert.equal((await events('slack')).length, 0);
});

test('routes filter on headers and body fields; replay routes again', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Filtered', uid: 'filtered' });
    await svix.endpoint.create(app.id, { url: rx.url });
    await source({ uid: 'gh-filter', provider: 'github', secrets: [GH_SECRET], routes: [{ app: 'filtered', eventType: 'deploy.main', filter: { all: [{ header: 'X-GitHub-Event', equals: 'push' }, { field: 'ref', equals: 'refs/heads/main' }] } }] });
    const send = async (ref, event, id) => {
      const body = JSON.stringify({ ref });
      return post('gh-filter', body, { 'x-hub-signature-256': await octokitSign(GH_SECRET, body), 'x-github-event': event, 'x-github-delivery': id, 'x-github-hook-id': '1' });
    };
    const main = await send('refs/heads/main', 'push', 'f1');
    await send('refs/heads/dev', 'push', 'f2');
    await send('refs/heads/main', 'issues', 'f3');
    await rx.waitFor((q) => q.length >= 1);
    await sleep(300);
    assert.equal(rx.requests.length, 1);
    assert.equal(JSON.parse(rx.requests[0].body).ref, 'refs/heads/main');
    const r = await api(h, 'POST', `/api/v1/source/gh-filter/event/${main.json.id}/replay`);
    assert.equal(r.status, 202);
    await rx.waitFor((q) => q.length >= 2);
    const ev = (await api(h, 'GET', `/api/v1/source/gh-filter/event/${main.json.id}`)).json;
    assert.equal(ev.status, 'routed');
  } finally { await rx.close(); }
});

test('a GET source turns its query string into the event', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Get', uid: 'getapp' });
    await svix.endpoint.create(app.id, { url: rx.url });
    await source({ uid: 'getsrc', provider: 'bearer', secrets: ['tok-123'], routes: [{ app: 'getapp', eventType: 'ping.get' }] });
    const res = await fetch(`${h.url}/in/getsrc?a=1&b=two+words`, { headers: { authorization: 'Bearer tok-123' } });
    assert.equal(res.status, 200);
    await rx.waitFor((q) => q.length >= 1);
    assert.deepEqual(JSON.parse(rx.requests[0].body), { a: '1', b: 'two words' });
  } finally { await rx.close(); }
});

test('the journal keeps the headers as they arrived, credentials redacted', async () => {
  await source({ uid: 'hdrs', provider: 'bearer', secrets: ['tok-hdrs'] });
  const port = new URL(h.url).port;
  const body = '{"n":1}';
  // raw bytes, so the values can carry UTF-8 and bytes that are not UTF-8
  const head = Buffer.concat([
    Buffer.from(`POST /in/hdrs HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer tok-hdrs\r\n` +
      'Cookie: session=abc\r\nX-Quote: say "hi" \\ back\r\nX-Dup: one\r\nX-Dup: two\r\n'),
    Buffer.from('X-Utf8: café ☕\r\n', 'utf8'),
    Buffer.from('X-Latin1: caf\xe9\r\n', 'latin1'),
    Buffer.from(`Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`),
  ]);
  const answer = await new Promise((resolve, reject) => {
    // written, not ended: a half-closed connection may be dropped before its answer (Connection: close ends it)
    const s = net.connect(Number(port), '127.0.0.1', () => s.write(head));
    let out = '';
    s.on('data', (d) => { out += d; });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 200/, answer);
  const id = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).id;
  const ev = await api(h, 'GET', `/api/v1/source/hdrs/event/${id}`);
  assert.equal(ev.status, 200);
  const hd = ev.json.headers;
  assert.equal(hd.Authorization, '[redacted]');
  assert.equal(hd.Cookie, '[redacted]');
  assert.equal(hd['X-Quote'], 'say "hi" \\ back');
  assert.equal(hd['X-Dup'], 'two', 'a repeated header keeps its last value');
  assert.equal(hd['X-Utf8'], 'café ☕');
  assert.equal(hd['X-Latin1'], undefined, 'a value that is not UTF-8 is left out');
  assert.equal(hd['Content-Type'], 'application/json');
  assert.equal(ev.json.body, body);
  assert.ok(!JSON.stringify(ev.json).includes('tok-hdrs'), 'the credential is nowhere in the event');
});

test('a full write queue answers new events 503 and duplicates as ever', skipOn('postgres', 'holds the SQLite file\'s write lock'), async () => {
  const q = await startHookd({ args: ['--write-queue', '1'] });
  let locker;
  try {
    assert.equal((await api(q, 'POST', '/api/v1/source', { body: { uid: 'full', provider: 'bearer', secrets: ['tok'] } })).status, 201);
    const send = (body) => fetch(`${q.url}/in/full`, { method: 'POST', body, headers: { authorization: 'Bearer tok' } })
      .then(async (res) => ({ status: res.status, retry: res.headers.get('retry-after'), json: await res.json() }));
    const first = await send('{"n":1}');
    assert.equal(first.status, 200);
    // another process takes the database's write lock: the writer waits on it (up to 5 s)
    locker = spawn('sqlite3', [q.db.replace(/^sqlite:/, '')], { stdio: ['pipe', 'pipe', 'inherit'] });
    locker.stdin.write("BEGIN IMMEDIATE;\nSELECT 'locked';\n");
    await new Promise((resolve) => locker.stdout.on('data', (d) => { if (String(d).includes('locked')) resolve(); }));
    const a = send('{"n":2}'); // taken by the writer, which waits for the lock
    await sleep(200);
    const b = send('{"n":3}'); // waits in the queue: now full
    await sleep(200);
    const dup = await send('{"n":1}');
    assert.equal(dup.status, 200, JSON.stringify(dup.json));
    assert.deepEqual(dup.json, { id: first.json.id, duplicate: true });
    const refused = await send('{"n":4}');
    assert.equal(refused.status, 503, JSON.stringify(refused.json));
    assert.equal(refused.retry, '1');
    locker.stdin.end('COMMIT;\n');
    assert.equal((await a).status, 200);
    assert.equal((await b).status, 200);
    const list = await api(q, 'GET', '/api/v1/source/full/event');
    assert.equal(list.json.data.length, 3, 'the first event and the two queued ones; neither the duplicate nor the refused one');
  } finally {
    if (locker && locker.exitCode === null) locker.kill();
    await q.stop(); q.cleanup();
  }
});
