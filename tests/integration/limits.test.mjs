// Issue: hardening. Limits where untrusted input can grow: headers (431), JSON depth (400), silent clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startHookd, api } from './lib/hookd.mjs';

let h;
before(async () => { h = await startHookd(); });
after(async () => { await h.stop(); h.cleanup(); });

function raw(port, text, timeoutMs = 15000) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    const t0 = Date.now();
    s.on('data', (d) => { got += d; });
    s.on('close', () => resolve({ got, ms: Date.now() - t0 }));
    s.setTimeout(timeoutMs, () => s.destroy());
  });
}

test('request line and headers over 16 KiB are answered 431', async () => {
  const port = new URL(h.url).port;
  const ok = await raw(port, `GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(15000)}\r\nConnection: close\r\n\r\n`);
  assert.match(ok.got, /^HTTP\/1.1 200/);
  const big = await raw(port, `GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17000)}\r\nConnection: close\r\n\r\n`);
  assert.match(big.got, /^HTTP\/1.1 431/);
});

test('JSON nested past the limit is refused with 400', async () => {
  const deep = '['.repeat(100) + ']'.repeat(100);
  const r = await api(h, 'POST', '/api/v1/app', { raw: `{"name":"x","metadata":{"a":${deep}}}`, headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 400);
  assert.match(r.json.detail, /deeper/);
});

test('a client that never finishes its headers is cut off after about 10 s', async () => {
  const port = new URL(h.url).port;
  const r = await raw(port, 'GET /api/v1/health HTTP/1.1\r\nHo', 20000);
  assert.equal(r.got, '');
  assert.ok(r.ms >= 9000 && r.ms < 15000, `closed after ${r.ms} ms`);
});

test('an application holds at most 1000 endpoints', async () => {
  await api(h, 'POST', '/api/v1/app', { body: { name: 'Many', uid: 'many' } });
  const make = (i) => api(h, 'POST', '/api/v1/app/many/endpoint', { body: { url: `https://example.com/${i}` } });
  for (let i = 0; i < 1000; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, (_, k) => make(i + k)));
    for (const r of batch) assert.equal(r.status, 201);
  }
  const over = await make(1000);
  assert.equal(over.status, 422);
  assert.match(over.json.detail[0].msg, /at most 1000/);
});
