// Token scopes: app-portal tokens reach one app (others 404, admin routes 403); read-only tokens only read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Svix } from 'svix';
import { startHookd, api } from './lib/hookd.mjs';

let h, svix;
before(async () => { h = await startHookd(); svix = new Svix(h.token, { serverUrl: h.url }); });
after(async () => { await h.stop(); h.cleanup(); });

test('an app-portal token manages its own app and sees nothing else', async () => {
  const mine = await svix.application.create({ name: 'Mine', uid: 'mine' });
  const theirs = await svix.application.create({ name: 'Theirs', uid: 'theirs' });
  const ep = await svix.endpoint.create(theirs.id, { url: 'https://example.com/t' });
  await svix.eventType.create({ name: 'portal.visible', description: 'x' }).catch(() => {});
  const access = await svix.authentication.appPortalAccess(mine.id, {});
  assert.match(access.url, /#\/portal\?app=app_.*&token=hk_app_/);
  const app = new Svix(access.token, { serverUrl: h.url });
  const created = await app.endpoint.create(mine.id, { url: 'https://example.com/mine' });
  assert.equal((await app.endpoint.list('mine')).data[0].id, created.id);
  await assert.rejects(app.endpoint.list(theirs.id), (e) => e.code === 404);
  await assert.rejects(app.endpoint.get(theirs.id, ep.id), (e) => e.code === 404);
  await assert.rejects(app.application.list(), (e) => e.code === 403);
  await assert.rejects(app.application.create({ name: 'x' }), (e) => e.code === 403);
  await assert.rejects(app.eventType.create({ name: 'no.way', description: 'x' }), (e) => e.code === 403);
  assert.ok((await app.eventType.list()).data.length >= 1, 'event types can be read');
  await assert.rejects(app.application.delete(mine.id), (e) => e.code === 403);
  await assert.rejects(app.application.patch(mine.id, { name: 'renamed' }), (e) => e.code === 403);
  for (const path of ['/api/v1/source', '/metrics', '/api/v1/stats']) {
    assert.equal((await api(h, 'GET', path, { token: access.token })).status, 403, path);
  }
  assert.equal((await api(h, 'POST', `/api/v1/auth/app-portal-access/${mine.id}`, { token: access.token, body: {} })).status, 403);
  // the token is stored only as a hash
  const { execFileSync } = await import('node:child_process');
  const dump = execFileSync('sqlite3', [`${h.dir}/hookd.db`, '.dump'], { encoding: 'utf8' });
  assert.ok(!dump.includes(access.token));
});

test('read-only tokens may only read; logout ends a token', async () => {
  const r = await api(h, 'POST', '/api/v1/auth/token', { body: { readOnly: true } });
  assert.equal(r.status, 200);
  const ro = r.json.token;
  assert.equal((await api(h, 'GET', '/api/v1/app', { token: ro })).status, 200);
  const w = await api(h, 'POST', '/api/v1/app', { token: ro, body: { name: 'nope' } });
  assert.equal(w.status, 403);
  assert.equal((await api(h, 'POST', '/api/v1/auth/logout', { token: ro })).status, 204, 'a read-only token can log out');
  assert.equal((await api(h, 'GET', '/api/v1/app', { token: ro })).status, 401);
  const t = (await api(h, 'POST', '/api/v1/auth/token', { body: {} })).json.token;
  assert.equal((await api(h, 'GET', '/api/v1/app', { token: t })).status, 200);
  assert.equal((await api(h, 'POST', '/api/v1/auth/logout', { token: t })).status, 204);
  assert.equal((await api(h, 'GET', '/api/v1/app', { token: t })).status, 401);
});
