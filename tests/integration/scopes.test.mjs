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

test('authentication.expireAll ends every token of one application, now or after a delay', async () => {
  const a = await svix.application.create({ name: 'Ends', uid: 'ends' });
  const b = await svix.application.create({ name: 'Stays', uid: 'stays' });
  const works = async (token, app) => (await api(h, 'GET', `/api/v1/app/${app}/endpoint`, { token })).status;
  const a1 = (await svix.authentication.appPortalAccess(a.id, {})).token;
  const a2 = (await api(h, 'POST', '/api/v1/auth/token', { body: { app: 'ends', readOnly: true } })).json.token;
  const b1 = (await svix.authentication.appPortalAccess(b.id, {})).token;
  assert.equal(await works(a1, 'ends'), 200);
  assert.equal(await works(a2, 'ends'), 200);
  // only the admin token may do it
  assert.equal((await api(h, 'POST', `/api/v1/auth/app/${a.id}/expire-all`, { token: a1, body: {} })).status, 403);
  await svix.authentication.expireAll('ends', {});
  assert.equal(await works(a1, 'ends'), 401);
  assert.equal(await works(a2, 'ends'), 401);
  assert.equal(await works(b1, 'stays'), 200, 'another application\'s token is untouched');
  // with a delay the tokens keep working until it has passed
  const a3 = (await svix.authentication.appPortalAccess(a.id, {})).token;
  await svix.authentication.expireAll(a.id, { expiry: 1 });
  assert.equal(await works(a3, 'ends'), 200);
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(await works(a3, 'ends'), 401);
  assert.equal((await api(h, 'POST', '/api/v1/auth/app/nope/expire-all', { body: {} })).status, 404);
  assert.equal((await api(h, 'POST', `/api/v1/auth/app/${a.id}/expire-all`, { body: { expiry: -1 } })).status, 422);
});
