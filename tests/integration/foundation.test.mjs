// Issue: foundation. The management API driven by the official svix SDK, and its error shapes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Svix } from 'svix';
import { startHookd, api } from './lib/hookd.mjs';

let h, svix;
before(async () => {
  h = await startHookd();
  svix = new Svix(h.token, { serverUrl: h.url });
});
after(async () => { await h.stop(); h.cleanup(); });

test('health answers without a token', async () => {
  const r = await api(h, 'GET', '/api/v1/health', { token: null });
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'ok');
  const p = await api(h, 'GET', '/api/v1/health/ping', { token: null });
  assert.equal(p.status, 204);
});

test('applications: create, get-or-create, get, update, list, delete', async () => {
  const app = await svix.application.create({ name: 'Shop', uid: 'shop-1', metadata: { tier: 'gold' } });
  assert.match(app.id, /^app_[0-9A-Za-z]{27}$/);
  assert.equal(app.uid, 'shop-1');
  assert.equal(app.name, 'Shop');
  assert.deepEqual(app.metadata, { tier: 'gold' });
  assert.ok(app.createdAt instanceof Date);

  const again = await svix.application.getOrCreate({ name: 'Other name', uid: 'shop-1' });
  assert.equal(again.id, app.id);
  assert.equal(again.name, 'Shop');

  await assert.rejects(svix.application.create({ name: 'dup', uid: 'shop-1' }), (e) => e.code === 409);

  const byUid = await svix.application.get('shop-1');
  assert.equal(byUid.id, app.id);
  const patched = await svix.application.patch(app.id, { name: 'Shop 2' });
  assert.equal(patched.name, 'Shop 2');
  assert.equal(patched.uid, 'shop-1');
  const put = await svix.application.upsert('shop-1', { name: 'Shop 3' });
  assert.equal(put.name, 'Shop 3');

  const made = await svix.application.upsert('made-by-put', { name: 'By put' });
  assert.equal(made.uid, 'made-by-put');

  const list = await svix.application.list();
  assert.ok(list.data.some((a) => a.id === app.id));
  await svix.application.delete(made.id);
  await assert.rejects(svix.application.get(made.id), (e) => e.code === 404);
});

test('event types: create, duplicate, list, archive', async () => {
  const et = await svix.eventType.create({ name: 'invoice.paid', description: 'An invoice was paid' });
  assert.equal(et.name, 'invoice.paid');
  assert.equal(et.archived, false);
  await assert.rejects(svix.eventType.create({ name: 'invoice.paid', description: 'x' }), (e) => e.code === 409);
  await svix.eventType.create({ name: 'invoice.voided', description: 'voided' });
  const list = await svix.eventType.list();
  assert.ok(list.data.find((t) => t.name === 'invoice.voided'));
  const upd = await svix.eventType.upsert('invoice.voided', { description: 'changed' });
  assert.equal(upd.description, 'changed');
  await svix.eventType.delete('invoice.voided');
  const after = await svix.eventType.list();
  assert.ok(!after.data.find((t) => t.name === 'invoice.voided'));
  const withArchived = await svix.eventType.list({ includeArchived: true });
  assert.equal(withArchived.data.find((t) => t.name === 'invoice.voided').archived, true);
});

test('endpoints: create, list, patch, delete, secrets, headers', async () => {
  const app = await svix.application.create({ name: 'Endpoints' });
  await svix.eventType.create({ name: 'order.created', description: 'o' }).catch(() => {});
  const ep = await svix.endpoint.create(app.id, {
    url: 'https://example.com/webhook', uid: 'main', eventTypes: ['order.created'], channels: ['eu'],
    description: 'main receiver',
  });
  assert.match(ep.id, /^ep_/);
  assert.equal(ep.url, 'https://example.com/webhook');
  assert.deepEqual(ep.channels, ['eu']);
  assert.equal(ep.disabled, false);

  const byUid = await svix.endpoint.get(app.id, 'main');
  assert.equal(byUid.id, ep.id);

  const patched = await svix.endpoint.patch(app.id, ep.id, { disabled: true });
  assert.equal(patched.disabled, true);
  assert.equal(patched.url, 'https://example.com/webhook');

  const secret = await svix.endpoint.getSecret(app.id, ep.id);
  assert.match(secret.key, /^whsec_[A-Za-z0-9+/=]{32}$/);
  await svix.endpoint.rotateSecret(app.id, ep.id, {});
  const rotated = await svix.endpoint.getSecret(app.id, ep.id);
  assert.notEqual(rotated.key, secret.key);
  const chosen = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  await svix.endpoint.rotateSecret(app.id, ep.id, { key: chosen });
  assert.equal((await svix.endpoint.getSecret(app.id, ep.id)).key, chosen);

  await svix.endpoint.setHeaders(app.id, ep.id, { headers: { 'X-Team': 'payments', Authorization: 'Bearer s3cret' } });
  let hdrs = await svix.endpoint.getHeaders(app.id, ep.id);
  assert.deepEqual(hdrs.headers, { 'X-Team': 'payments' });
  assert.deepEqual(hdrs.sensitive, ['Authorization']);
  await svix.endpoint.patchHeaders(app.id, ep.id, { headers: { 'X-Team': null, 'X-Other': '1' } });
  hdrs = await svix.endpoint.getHeaders(app.id, ep.id);
  assert.deepEqual(hdrs.headers, { 'X-Other': '1' });

  const replaced = await svix.endpoint.upsert(app.id, ep.id, { url: 'https://example.com/other' });
  assert.equal(replaced.url, 'https://example.com/other');
  assert.equal(replaced.channels, null, 'PUT replaces: fields left out return to their defaults');
  const upserted = await svix.endpoint.upsert(app.id, 'made-by-put', { url: 'https://example.com/put' });
  assert.equal(upserted.uid, 'made-by-put');

  await svix.endpoint.delete(app.id, ep.id);
  await assert.rejects(svix.endpoint.get(app.id, ep.id), (e) => e.code === 404);
});

test('endpoint with a given secret and an unknown event type', async () => {
  const app = await svix.application.create({ name: 'Secrets' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://example.com/a', secret: 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD' });
  assert.equal((await svix.endpoint.getSecret(app.id, ep.id)).key, 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD');
  // the base64 alone is taken (as Svix does) and kept with its prefix; other alphabets and prefixes are not
  const bare = await svix.endpoint.create(app.id, { url: 'https://example.com/c', secret: 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' });
  assert.equal((await svix.endpoint.getSecret(app.id, bare.id)).key, 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
  await svix.endpoint.rotateSecret(app.id, bare.id, { key: 'C2FVsBQIhrscChlQIMV+b5sSYspob7oD' });
  assert.equal((await svix.endpoint.getSecret(app.id, bare.id)).key, 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD');
  for (const secret of ['whsec_-_-_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE', 'nosuchprefix_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=']) {
    await assert.rejects(svix.endpoint.create(app.id, { url: 'https://example.com/d', secret }), (e) => e.code === 422, secret);
  }
  await assert.rejects(svix.endpoint.create(app.id, { url: 'https://example.com/b', eventTypes: ['no.such.type'] }), (e) => e.code === 422);
  await assert.rejects(svix.endpoint.create(app.id, { url: 'https://example.com/b', eventTypes: [] }), (e) => e.code === 422);
});

test('lists page with limit and iterator, newest endpoint first', async () => {
  const app = await svix.application.create({ name: 'Paging' });
  const made = [];
  for (let i = 0; i < 7; i++) made.push((await svix.endpoint.create(app.id, { url: `https://example.com/${i}` })).id);
  const seen = [];
  let iterator;
  for (;;) {
    const page = await svix.endpoint.list(app.id, { limit: 3, iterator });
    seen.push(...page.data.map((e) => e.id));
    if (page.done) break;
    iterator = page.iterator;
  }
  assert.deepEqual(seen, [...made].reverse());
  const r = await api(h, 'GET', `/api/v1/app/${app.id}/endpoint?limit=251`);
  assert.equal(r.status, 422);
  assert.deepEqual(r.json.detail[0].loc, ['query', 'limit']);
});

test('errors: 401, 404, 405, 400, 413, 415, 422 all JSON', async () => {
  let r = await api(h, 'GET', '/api/v1/app', { token: 'wrong' });
  assert.equal(r.status, 401);
  assert.equal(typeof r.json.code, 'string');
  assert.equal(typeof r.json.detail, 'string');
  r = await api(h, 'GET', '/api/v1/app', { token: null });
  assert.equal(r.status, 401);
  r = await api(h, 'GET', '/api/v1/app/app_doesnotexist');
  assert.equal(r.status, 404);
  assert.equal(r.json.code, 'not_found');
  r = await api(h, 'GET', '/api/v1/nowhere');
  assert.equal(r.status, 404);
  r = await api(h, 'POST', '/api/v1/app', { raw: '{"name": ', headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 400);
  assert.ok(r.json.detail);
  r = await api(h, 'POST', '/api/v1/app', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 415);
  r = await api(h, 'POST', '/api/v1/app', { raw: JSON.stringify({ name: 'x'.repeat(2 << 20) }), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 413);
  assert.equal(r.json.code, 'payload_too_large');
  r = await api(h, 'POST', '/api/v1/app', { body: { name: 'ok', uid: 'has space' } });
  assert.equal(r.status, 422);
  assert.deepEqual(r.json.detail[0].loc, ['body', 'uid']);
  assert.equal(r.json.detail[0].type, 'value_error');
  r = await api(h, 'POST', '/api/v1/app', { body: { name: 'ok', uid: 'app_prefixed' } });
  assert.equal(r.status, 422);
  const app = await svix.application.create({ name: 'Errors' });
  r = await api(h, 'POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: 'not a url' } });
  assert.equal(r.status, 422);
  assert.deepEqual(r.json.detail[0].loc, ['body', 'url']);
  const list = await svix.endpoint.list(app.id);
  assert.equal(list.data.length, 0, 'a request that fails validation writes nothing');
  r = await api(h, 'DELETE', '/api/v1/app');
  assert.equal(r.status, 405);
});

test('idempotency-key: a repeated POST returns the first answer and writes once', async () => {
  const headers = { 'idempotency-key': 'key-123' };
  const [a, b] = await Promise.all([
    api(h, 'POST', '/api/v1/app', { body: { name: 'Idem' }, headers }),
    api(h, 'POST', '/api/v1/app', { body: { name: 'Idem' }, headers }),
  ]);
  assert.equal(a.status, 201);
  assert.equal(b.status, 201);
  assert.equal(a.json.id, b.json.id);
  const c = await api(h, 'POST', '/api/v1/app', { body: { name: 'Idem' }, headers });
  assert.equal(c.json.id, a.json.id);
  const other = await api(h, 'POST', '/api/v1/app', { body: { name: 'Idem' }, headers: { 'idempotency-key': 'key-456' } });
  assert.notEqual(other.json.id, a.json.id);
  const all = await svix.application.list({ limit: 250 });
  assert.equal(all.data.filter((x) => x.name === 'Idem').length, 2);
});

test('trailing slashes and unknown query parameters are ignored', async () => {
  const r = await api(h, 'GET', '/api/v1/app/?whatever=1');
  assert.equal(r.status, 200);
  assert.ok(Array.isArray(r.json.data));
});

test('a rotation retried with the same idempotency key rotates once', async () => {
  const app = await svix.application.create({ name: 'RotateOnce' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://example.com/r' });
  const headers = { 'idempotency-key': 'rot-1' };
  const a = await api(h, 'POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret/rotate`, { body: {}, headers });
  const k1 = (await svix.endpoint.getSecret(app.id, ep.id)).key;
  const b = await api(h, 'POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret/rotate`, { body: {}, headers });
  assert.equal(a.status, 204);
  assert.equal(b.status, 204);
  assert.equal((await svix.endpoint.getSecret(app.id, ep.id)).key, k1);
});
