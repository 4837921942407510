// Issue: hardening. Secrets are encrypted at rest under the master key; rotating the key re-encrypts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Svix } from 'svix';
import { startHookd, api, backend } from './lib/hookd.mjs';
import { startReceiver } from './lib/receiver.mjs';

// the whole database as text (PostgreSQL: bytea as escaped text, so stored bytes stay readable)
const dump = (h) => (backend === 'postgres'
  ? execFileSync('pg_dump', ['--data-only', h.db], { encoding: 'utf8', env: { ...process.env, PGOPTIONS: '-c bytea_output=escape' } })
  : execFileSync('sqlite3', [`${h.dir}/hookd.db`, '.dump'], { encoding: 'utf8' }));
// the key a node started with: made beside an SQLite database; given (required) on PostgreSQL
const keyFile = (h) => (backend === 'postgres' ? `${h.dir}/master.key` : `${h.dir}/hookd.key`);

test('nothing secret is stored in plain text; the generated master key is 0600', async () => {
  const h = await startHookd();
  try {
    const svix = new Svix(h.token, { serverUrl: h.url });
    const app = await svix.application.create({ name: 'Sec' });
    const secret = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
    const ep = await svix.endpoint.create(app.id, { url: 'https://example.com/x', secret }, { idempotencyKey: 'k1' });
    await svix.endpoint.setHeaders(app.id, ep.id, { headers: { Authorization: 'Bearer header-secret-123' } });
    await api(h, 'POST', '/api/v1/source', { body: { uid: 's', provider: 'github', secrets: ['source-secret-456'] } });
    const script = 'function handler(w) w.headers = { ["x-token"] = "script-token-321" } return w end';
    assert.equal((await api(h, 'PUT', `/api/v1/app/${app.id}/endpoint/${ep.id}/transformation`, { body: { code: script } })).status, 200);
    const portal = await api(h, 'POST', `/api/v1/auth/app-portal-access/${app.id}`, { body: {}, headers: { 'idempotency-key': 'p1' } });
    const bearer = await api(h, 'POST', '/api/v1/source', { body: { uid: 'b', provider: 'bearer', secrets: ['bearer-789'] } });
    assert.equal(bearer.status, 201);
    await fetch(`${h.url}/in/b`, { method: 'POST', body: '{}', headers: { authorization: 'Bearer bearer-789' } });
    await new Promise((r) => setTimeout(r, 200));
    const text = dump(h);
    for (const s of [secret, 'header-secret-123', 'source-secret-456', portal.json.token, 'bearer-789', h.token, 'script-token-321']) {
      assert.ok(!text.includes(s), `'${s}' must not be in the database`);
    }
    assert.match(text, /enc:v1:/);
    assert.equal((await svix.endpoint.getSecret(app.id, ep.id)).key, secret, 'still readable through the API');
    assert.equal((await api(h, 'GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/transformation`)).json.code, script);
    const key = readFileSync(keyFile(h), 'utf8').trim();
    assert.match(key, /^[0-9a-f]{64}$/);
    if (backend === 'sqlite') assert.equal(statSync(keyFile(h)).mode & 0o777, 0o600);
  } finally { await h.stop(); h.cleanup(); }
});

test('rotating the master key re-encrypts, and deliveries still sign with the right secret', async () => {
  const rx = await startReceiver();
  const h = await startHookd({ args: ['--allow-private'] });
  try {
    const svix = new Svix(h.token, { serverUrl: h.url });
    const app = await svix.application.create({ name: 'Rot', uid: 'rot' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    const { key } = await svix.endpoint.getSecret(app.id, ep.id);
    await h.stop();
    const oldKey = readFileSync(keyFile(h), 'utf8').trim();
    const newKey = randomBytes(32).toString('hex');
    writeFileSync(`${h.dir}/old.key`, oldKey + '\n');
    writeFileSync(`${h.dir}/new.key`, newKey + '\n');
    const h2 = await startHookd({ dir: h.dir, args: ['--allow-private', '--master-key-file', `${h.dir}/new.key`, '--previous-master-key-file', `${h.dir}/old.key`] });
    await h2.stop();
    // the old key is no longer needed
    const h3 = await startHookd({ dir: h.dir, args: ['--allow-private', '--master-key-file', `${h.dir}/new.key`] });
    try {
      const svix3 = new Svix(h3.token, { serverUrl: h3.url });
      assert.equal((await svix3.endpoint.getSecret('rot', ep.id)).key, key);
      await svix3.message.create('rot', { eventType: 'r.k', payload: {} });
      await rx.waitFor((r) => r.length >= 1);
      const { Webhook } = await import('standardwebhooks');
      new Webhook(key.replace('whsec_', '')).verify(rx.requests[0].body, rx.requests[0].headers);
    } finally { await h3.stop(); }
  } finally { h.cleanup(); await rx.close(); }
});

test('a wrong master key is refused, not silently used', async () => {
  const h = await startHookd();
  const svix = new Svix(h.token, { serverUrl: h.url });
  const app = await svix.application.create({ name: 'W' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://example.com/w' });
  await h.stop();
  writeFileSync(`${h.dir}/other.key`, randomBytes(32).toString('hex'));
  const h2 = await startHookd({ dir: h.dir, args: ['--master-key-file', `${h.dir}/other.key`] });
  try {
    const r = await api(h2, 'GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret`);
    assert.ok(r.status >= 400, 'the secret cannot be read with another key');
    assert.ok(!JSON.stringify(r.json || {}).includes('whsec_'));
  } finally { await h2.stop(); h2.cleanup(); }
});
