// Issue: delivery engine. Publish through the svix SDK; deliveries verified by standardwebhooks and svix.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Svix, Webhook as SvixWebhook } from 'svix';
import { Webhook } from 'standardwebhooks';
import { startHookd, api } from './lib/hookd.mjs';
import { startReceiver, sleep } from './lib/receiver.mjs';

let h, svix;
before(async () => {
  h = await startHookd({ args: ['--allow-private', '--retry-schedule', '300ms,300ms,300ms'] });
  svix = new Svix(h.token, { serverUrl: h.url });
});
after(async () => { await h.stop(); h.cleanup(); });

// eventType makes an event type once (endpoints may only name known ones)
async function eventType(name) {
  try { await svix.eventType.create({ name, description: name }); } catch (e) { if (e.code !== 409) throw e; }
}

function verifyStd(secret, req) {
  return new Webhook(secret.replace(/^whsec_/, '')).verify(req.body, {
    'webhook-id': req.headers['webhook-id'],
    'webhook-timestamp': req.headers['webhook-timestamp'],
    'webhook-signature': req.headers['webhook-signature'],
  });
}

test('a published message reaches its endpoint signed, verifiable by standardwebhooks', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Deliver' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url + '/hook' });
    await svix.endpoint.setHeaders(app.id, ep.id, { headers: { 'X-Custom': 'yes' } });
    const { key } = await svix.endpoint.getSecret(app.id, ep.id);
    const msg = await svix.message.create(app.id, { eventType: 'user.created', payload: { id: 7, name: 'Ana', nested: { ok: true } } });
    assert.match(msg.id, /^msg_/);
    await rx.waitFor((r) => r.length >= 1);
    const req = rx.requests[0];
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.match(req.headers['user-agent'], /^hookd\//);
    assert.equal(req.headers['x-custom'], 'yes');
    assert.equal(req.headers['webhook-id'], msg.id);
    assert.deepEqual(verifyStd(key, req), { id: 7, name: 'Ana', nested: { ok: true } });
    assert.throws(() => verifyStd(key, { ...req, body: req.body.replace('Ana', 'Bob') }));

    // the attempt is recorded and visible within a second
    let attempts;
    for (let i = 0; i < 20; i++) {
      attempts = await svix.messageAttempt.listByMsg(app.id, msg.id);
      if (attempts.data.length) break;
      await sleep(50);
    }
    assert.equal(attempts.data.length, 1);
    assert.equal(attempts.data[0].status, 0);
    assert.equal(attempts.data[0].responseStatusCode, 200);
    assert.equal(attempts.data[0].endpointId, ep.id);
    const got = await svix.message.get(app.id, msg.id);
    assert.equal(got.eventType, 'user.created');
  } finally { await rx.close(); }
});

test('svix-style headers verify with the svix Webhook class', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'SvixStyle' });
    const r = await api(h, 'POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: rx.url, signatureHeaders: 'svix' } });
    assert.equal(r.status, 201);
    const { key } = await svix.endpoint.getSecret(app.id, r.json.id);
    await svix.message.create(app.id, { eventType: 'a.b', payload: { x: 1 } });
    await rx.waitFor((q) => q.length >= 1);
    const req = rx.requests[0];
    assert.ok(req.headers['svix-id'] && !req.headers['webhook-id']);
    new SvixWebhook(key).verify(req.body, req.headers); // throws unless the signature verifies
    assert.throws(() => new SvixWebhook(key).verify(req.body + ' ', req.headers));
    assert.deepEqual(JSON.parse(req.body), { x: 1 });
  } finally { await rx.close(); }
});

test('fan-out honours event type and channel filters', async () => {
  const all = await startReceiver(), orders = await startReceiver(), eu = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Fanout' });
    for (const t of ['order.paid', 'user.deleted']) await svix.eventType.create({ name: t, description: t }).catch(() => {});
    await svix.endpoint.create(app.id, { url: all.url });
    await svix.endpoint.create(app.id, { url: orders.url, eventTypes: ['order.paid'] });
    await svix.endpoint.create(app.id, { url: eu.url, channels: ['eu'] });
    await svix.message.create(app.id, { eventType: 'order.paid', payload: { n: 1 } });
    await svix.message.create(app.id, { eventType: 'user.deleted', payload: { n: 2 }, channels: ['eu'] });
    await svix.message.create(app.id, { eventType: 'user.deleted', payload: { n: 3 }, channels: ['us'] });
    await all.waitFor((r) => r.length >= 3);
    await orders.waitFor((r) => r.length >= 1);
    await eu.waitFor((r) => r.length >= 1);
    await sleep(300);
    assert.equal(all.requests.length, 3);
    assert.deepEqual(orders.requests.map((r) => JSON.parse(r.body).n), [1]);
    assert.deepEqual(eu.requests.map((r) => JSON.parse(r.body).n), [2]);
  } finally { await all.close(); await orders.close(); await eu.close(); }
});

test('500 twice then 200: delivered on the third attempt with the same webhook-id', async () => {
  const rx = await startReceiver({ respond: (_r, n) => ({ status: n <= 2 ? 500 : 200 }) });
  try {
    const app = await svix.application.create({ name: 'Retry' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    const { key } = await svix.endpoint.getSecret(app.id, ep.id);
    const msg = await svix.message.create(app.id, { eventType: 'retry.me', payload: { ok: 1 } });
    await rx.waitFor((r) => r.length >= 3, 15000);
    assert.deepEqual(rx.requests.map((r) => r.headers['webhook-id']), [msg.id, msg.id, msg.id]);
    for (const r of rx.requests) verifyStd(key, r);
    await sleep(400);
    assert.equal(rx.requests.length, 3);
    const atts = await svix.messageAttempt.listByMsg(app.id, msg.id);
    assert.deepEqual(atts.data.map((a) => a.responseStatusCode).sort(), [200, 500, 500]);
    const dest = await svix.messageAttempt.listAttemptedDestinations(app.id, msg.id);
    assert.equal(dest.data[0].status, 0);
  } finally { await rx.close(); }
});

test('deliveries waiting at an endpoint that gets disabled are settled, and so is a retry due afterwards', async () => {
  // the first request fails (its retry comes due 300 ms later); the others wait behind a throttle of 1/s
  const rx = await startReceiver({ respond: (_r, n) => ({ status: n === 1 ? 500 : 200 }) });
  try {
    const app = await svix.application.create({ name: 'DisableWaiting' });
    const ep = (await api(h, 'POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: rx.url, throttleRate: 1 } })).json;
    const msgs = [];
    for (let i = 0; i < 4; i++) msgs.push(await svix.message.create(app.id, { eventType: 'wait.me', payload: { i } }));
    await rx.waitFor((r) => r.length >= 1, 5000);
    assert.equal((await api(h, 'PATCH', `/api/v1/app/${app.id}/endpoint/${ep.id}`, { body: { disabled: true } })).status, 200);
    // every delivery ends (failed, "endpoint disabled"): none stays pending, the retry included
    let pending = msgs.length;
    for (let t = 0; t < 50 && pending > 0; t++) {
      await sleep(100);
      const dests = await Promise.all(msgs.map((m) => svix.messageAttempt.listAttemptedDestinations(app.id, m.id)));
      pending = dests.filter((d) => d.data[0].status === 1).length;
    }
    assert.equal(pending, 0, 'no delivery left pending');
    // enabled again, a new message is delivered: the endpoint's queue is intact
    assert.equal((await api(h, 'PATCH', `/api/v1/app/${app.id}/endpoint/${ep.id}`, { body: { disabled: false } })).status, 200);
    const after = await svix.message.create(app.id, { eventType: 'wait.me', payload: { after: true } });
    await rx.waitFor((r) => r.some((q) => q.headers['webhook-id'] === after.id), 5000);
  } finally { await rx.close(); }
});

test('a delivery that runs out of attempts is failed and stays listed; recover re-queues it', async () => {
  let healthy = false;
  const rx = await startReceiver({ respond: () => ({ status: healthy ? 200 : 500 }) });
  try {
    const app = await svix.application.create({ name: 'Exhaust' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    const since = new Date(Date.now() - 1000);
    const msg = await svix.message.create(app.id, { eventType: 'e.x', payload: {} });
    await rx.waitFor((r) => r.length >= 4, 15000);
    await sleep(500);
    assert.equal(rx.requests.length, 4, '1 + 3 retries');
    const list = await svix.messageAttempt.listAttemptedMessages(app.id, ep.id);
    assert.equal(list.data[0].id, msg.id);
    assert.equal(list.data[0].status, 2);
    const epNow = await api(h, 'GET', `/api/v1/app/${app.id}/endpoint/${ep.id}`);
    assert.ok(epNow.json.health.consecutiveFailures >= 4);
    assert.equal(epNow.json.health.lastError, 'HTTP 500');
    const stats = await api(h, 'GET', '/api/v1/stats');
    assert.ok(stats.json.failingEndpoints.some((f) => f.endpoint === ep.id && f.failures >= 4));
    healthy = true;
    const r = await api(h, 'POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/recover`, { body: { since: since.toISOString() } });
    assert.equal(r.status, 202);
    await rx.waitFor((q) => q.length >= 5);
    const epStats = await api(h, 'GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/stats`);
    assert.equal(epStats.status, 200);
  } finally { await rx.close(); }
});

test('410 Gone disables the endpoint', async () => {
  const rx = await startReceiver({ respond: () => ({ status: 410 }) });
  try {
    const app = await svix.application.create({ name: 'Gone' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    await svix.message.create(app.id, { eventType: 'g.one', payload: {} });
    await rx.waitFor((r) => r.length >= 1);
    let disabled = false;
    for (let i = 0; i < 40 && !disabled; i++) {
      disabled = (await svix.endpoint.get(app.id, ep.id)).disabled;
      if (!disabled) await sleep(50);
    }
    assert.equal(disabled, true);
    await svix.message.create(app.id, { eventType: 'g.one', payload: {} });
    await sleep(500);
    assert.equal(rx.requests.length, 1, 'a disabled endpoint gets nothing');
  } finally { await rx.close(); }
});

test('connections the receiver closes are replaced: every delivery arrives once', async () => {
  // every third answer closes its connection; between rounds the receiver drops its idle ones
  const rx = await startReceiver({ respond: (r, n) => (n % 3 === 0 ? { headers: { connection: 'close' } } : {}) });
  try {
    const app = await svix.application.create({ name: 'Reconnect' });
    await svix.endpoint.create(app.id, { url: rx.url + '/hook' });
    let sent = 0;
    for (let round = 0; round < 4; round++) {
      await Promise.all(Array.from({ length: 15 }, (_, i) =>
        svix.message.create(app.id, { eventType: 'conn.test', payload: { round, i } })));
      sent += 15;
      await rx.waitFor((q) => q.length >= sent);
      await sleep(50);
      rx.dropConnections();
      await sleep(50);
      await svix.message.create(app.id, { eventType: 'conn.test', payload: { round, alone: true } });
      sent += 1;
      await rx.waitFor((q) => q.length >= sent);
    }
    await sleep(300);
    const ids = rx.requests.map((q) => q.headers['webhook-id']);
    assert.equal(ids.length, sent);
    assert.equal(new Set(ids).size, sent, 'each message arrives once');
  } finally { await rx.close(); }
});

test('an endpoint changed while its deliveries start: every request carries whole, signed headers', async () => {
  const rx = await startReceiver({ respond: () => ({ delayMs: 2 }) });
  try {
    const app = await svix.application.create({ name: 'Reload' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url + '/hook' });
    await svix.endpoint.setHeaders(app.id, ep.id, { headers: { 'X-Custom': 'v0' } });
    const { key } = await svix.endpoint.getSecret(app.id, ep.id);
    const n = 200;
    const publishing = (async () => {
      for (let i = 0; i < n; i += 20) {
        await Promise.all(Array.from({ length: 20 }, (_, j) =>
          svix.message.create(app.id, { eventType: 'reload.test', payload: { i: i + j } })));
      }
    })();
    // each change reloads the endpoint in the dispatcher while requests are starting
    for (let v = 1; v <= 40; v++) {
      await svix.endpoint.setHeaders(app.id, ep.id, { headers: { 'X-Custom': `v${v}` } });
    }
    await publishing;
    await rx.waitFor((q) => q.length >= n, 20000);
    for (const req of rx.requests) {
      assert.match(req.headers['x-custom'] ?? '', /^v\d+$/);
      verifyStd(key, req); // throws unless the signature verifies
    }
  } finally { await rx.close(); }
});

test('a receiver that never answers does not delay a healthy endpoint', async () => {
  const dead = await startReceiver({ respond: () => ({ hang: true }) });
  const ok = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Isolation' });
    await svix.endpoint.create(app.id, { url: dead.url });
    await svix.endpoint.create(app.id, { url: ok.url });
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) await svix.message.create(app.id, { eventType: 'i.so', payload: { i } });
    await ok.waitFor((r) => r.length >= 100, 10000);
    assert.ok(Date.now() - t0 < 8000, 'healthy endpoint got all 100 while the other hangs');
    assert.ok(dead.requests.length <= 32, 'at most the in-flight cap is spent on the dead one');
  } finally { await dead.close(); await ok.close(); }
});

test('secret rotation: deliveries carry signatures for the old and the new key', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Rotate' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    const { key: oldKey } = await svix.endpoint.getSecret(app.id, ep.id);
    await svix.endpoint.rotateSecret(app.id, ep.id, {});
    const { key: newKey } = await svix.endpoint.getSecret(app.id, ep.id);
    await svix.message.create(app.id, { eventType: 'r.o', payload: { v: 2 } });
    await rx.waitFor((r) => r.length >= 1);
    const req = rx.requests[0];
    assert.equal(req.headers['webhook-signature'].split(' ').length, 2);
    assert.deepEqual(verifyStd(newKey, req), { v: 2 });
    assert.deepEqual(verifyStd(oldKey, req), { v: 2 });
  } finally { await rx.close(); }
});

test('eventId is unique per app, channels are limited, bad payloads are refused', async () => {
  const app = await svix.application.create({ name: 'MsgRules' });
  await svix.message.create(app.id, { eventType: 'e.id', eventId: 'evt-1', payload: {} });
  await assert.rejects(svix.message.create(app.id, { eventType: 'e.id', eventId: 'evt-1', payload: {} }), (e) => e.code === 409);
  const byEventId = await svix.message.get(app.id, 'evt-1');
  assert.equal(byEventId.eventId, 'evt-1');
  let r = await api(h, 'POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'e', payload: [] } });
  assert.equal(r.status, 422);
  r = await api(h, 'POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'e', payload: {}, channels: ['a', 'b', 'c', 'd', 'e', 'f'] } });
  assert.equal(r.status, 422);
  r = await api(h, 'POST', `/api/v1/app/${app.id}/msg?with_content=false`, { body: { eventType: 'e', payload: { big: 1 } } });
  assert.equal(r.status, 202);
  assert.deepEqual(r.json.payload, {});
  r = await api(h, 'DELETE', `/api/v1/app/${app.id}/msg/${r.json.id}/content`);
  assert.equal(r.status, 204);
  // the publish answer is the message as a later read shows it, to the byte of its payload
  const payload = { q: 'say "hi" \\ / \u2028', u: 'café ☕ 😀', n: [1, 2.5, -3e-7, null, true], o: { nested: { deep: [] } } };
  r = await api(h, 'POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'e.echo', eventId: 'evt-echo', channels: ['a', 'b'], payload } });
  assert.equal(r.status, 202);
  const got = await api(h, 'GET', `/api/v1/app/${app.id}/msg/${r.json.id}`);
  for (const k of ['id', 'eventId', 'eventType', 'payload', 'channels', 'timestamp']) assert.deepEqual(r.json[k], got.json[k], k);
  assert.deepEqual(r.json.payload, payload);
  assert.deepEqual(r.json.channels, ['a', 'b']);
  r = await api(h, 'POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'e.plain', payload: {} } });
  assert.equal(r.json.eventId, null);
  assert.equal(r.json.channels, null);
  assert.match(r.json.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
});

test('idempotency-key: a retried publish creates one message', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'IdemPub' });
    await svix.endpoint.create(app.id, { url: rx.url });
    const m1 = await svix.message.create(app.id, { eventType: 'i.d', payload: { a: 1 } }, { idempotencyKey: 'pub-1' });
    const m2 = await svix.message.create(app.id, { eventType: 'i.d', payload: { a: 1 } }, { idempotencyKey: 'pub-1' });
    assert.equal(m1.id, m2.id);
    await rx.waitFor((r) => r.length >= 1);
    await sleep(300);
    assert.equal(rx.requests.length, 1);
    const list = await svix.message.list(app.id);
    assert.equal(list.data.length, 1);
  } finally { await rx.close(); }
});

test('resend delivers again with trigger type manual; send-example pings one endpoint', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Resend' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    const msg = await svix.message.create(app.id, { eventType: 'r.s', payload: { k: 1 } });
    await rx.waitFor((r) => r.length >= 1);
    await svix.messageAttempt.resend(app.id, msg.id, ep.id);
    await rx.waitFor((r) => r.length >= 2);
    assert.equal(rx.requests[1].headers['webhook-id'], msg.id);
    await sleep(200);
    const atts = await svix.messageAttempt.listByMsg(app.id, msg.id);
    assert.ok(atts.data.some((a) => a.triggerType === 1));
    const ex = await api(h, 'POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/send-example`, { body: { eventType: 'hookd.ping' } });
    assert.equal(ex.status, 200);
    await rx.waitFor((r) => r.length >= 3);
    assert.deepEqual(JSON.parse(rx.requests[2].body), { success: true });
  } finally { await rx.close(); }
});

test('messageAttempt.expungeContent replaces one attempt\'s response body', async () => {
  const rx = await startReceiver({ respond: () => ({ body: 'secret answer' }) });
  try {
    const app = await svix.application.create({ name: 'Expunge' });
    await svix.endpoint.create(app.id, { url: rx.url });
    const a = await svix.message.create(app.id, { eventType: 'x.y', payload: { n: 1 } });
    const b = await svix.message.create(app.id, { eventType: 'x.y', payload: { n: 2 } });
    let atts;
    for (let i = 0; i < 40; i++) {
      atts = [(await svix.messageAttempt.listByMsg(app.id, a.id)).data, (await svix.messageAttempt.listByMsg(app.id, b.id)).data];
      if (atts[0].length && atts[1].length) break;
      await sleep(50);
    }
    const [[att], [other]] = atts;
    assert.equal(att.response, 'secret answer');
    // an attempt named under another message is not found, and nothing changes
    await assert.rejects(svix.messageAttempt.expungeContent(app.id, b.id, att.id), (e) => e.code === 404);
    await svix.messageAttempt.expungeContent(app.id, a.id, att.id);
    assert.equal((await svix.messageAttempt.get(app.id, a.id, att.id)).response, 'EXPUNGED');
    assert.equal((await svix.messageAttempt.get(app.id, b.id, other.id)).response, 'secret answer');
    await assert.rejects(svix.messageAttempt.expungeContent(app.id, 'msg_nope', att.id), (e) => e.code === 404);
  } finally { await rx.close(); }
});

test('endpoint.replayMissing sends an endpoint the matching messages it never got, once', async () => {
  const rx = await startReceiver();
  const old = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Replay' });
    await svix.endpoint.create(app.id, { url: old.url });
    const before = new Date(Date.now() - 1000);
    const sent = [];
    for (const [eventType, channels] of [['a.b', null], ['a.b', ['c1']], ['x.y', null], ['a.b', ['c2']]]) {
      sent.push(await svix.message.create(app.id, { eventType, payload: { eventType }, ...(channels ? { channels } : {}) }));
    }
    await old.waitFor((r) => r.length >= 4);
    // the new endpoint wants a.b on channel c1 only: one of the four matches
    await eventType('a.b');
    const ep = await svix.endpoint.create(app.id, { url: rx.url, eventTypes: ['a.b'], channels: ['c1'] });
    const task = await svix.endpoint.replayMissing(app.id, ep.id, { since: before });
    assert.equal(task.status, 'finished');
    assert.equal(task.task, 'endpoint.replay');
    // the task reads back through backgroundTask, with what it queued
    const got = await svix.backgroundTask.get(task.id);
    assert.equal(got.id, task.id);
    assert.equal(got.status, 'finished');
    assert.deepEqual(got.data, { appId: app.id, endpointId: ep.id, queued: 1 });
    await rx.waitFor((r) => r.length >= 1);
    await sleep(300);
    assert.deepEqual(rx.requests.map((r) => r.headers['webhook-id']), [sent[1].id]);
    // a second replay finds nothing missing; the first endpoint got nothing again
    await svix.endpoint.replayMissing(app.id, ep.id, { since: before });
    await sleep(300);
    assert.equal(rx.requests.length, 1);
    assert.equal(old.requests.length, 4);
    const atts = await svix.messageAttempt.listByEndpoint(app.id, ep.id);
    assert.deepEqual(atts.data.map((a) => a.msgId), [sent[1].id]);
    // a window that ends before the messages replays none of them
    const ep2 = await svix.endpoint.create(app.id, { url: rx.url });
    await svix.endpoint.replayMissing(app.id, ep2.id, { since: new Date(Date.now() - 3600e3), until: new Date(Date.now() - 1800e3) });
    await sleep(300);
    assert.equal(rx.requests.length, 1);
    assert.equal((await api(h, 'POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/replay-missing`, { body: {} })).status, 422);
  } finally { await rx.close(); await old.close(); }
});

test('endpoint.bulkReplay sends an endpoint again what it got in a window, narrowed by type, tag and status', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Bulk replay' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    const since = new Date(Date.now() - 1000);
    const a = await svix.message.create(app.id, { eventType: 'b.one', payload: { n: 1 }, tags: ['t1'] });
    const b = await svix.message.create(app.id, { eventType: 'b.two', payload: { n: 2 } });
    const c = await svix.message.create(app.id, { eventType: 'b.two', payload: { n: 3 }, tags: ['t1'] });
    await rx.waitFor((r) => r.length >= 3);
    for (let i = 0; i < 40 && (await svix.messageAttempt.listAttemptedMessages(app.id, ep.id, { status: 0 })).data.length < 3; i++) await sleep(50);
    const got = () => rx.requests.slice(3).map((r) => r.headers['webhook-id']).sort();
    const task = await svix.endpoint.bulkReplay(app.id, ep.id, { since, eventTypes: ['b.two'] });
    assert.equal(task.task, 'endpoint.bulk-replay');
    assert.equal(task.status, 'finished');
    await rx.waitFor((r) => r.length >= 5);
    await sleep(200);
    assert.deepEqual(got(), [b.id, c.id].sort());
    assert.deepEqual((await svix.backgroundTask.get(task.id)).data.queued, 2);
    await svix.endpoint.bulkReplay(app.id, ep.id, { since, tag: 't1', status: 0 });
    await rx.waitFor((r) => r.length >= 7);
    await sleep(200);
    assert.deepEqual(rx.requests.slice(5).map((r) => r.headers['webhook-id']).sort(), [a.id, c.id].sort());
    // a window before the messages replays nothing; statusCodeClass is refused
    await svix.endpoint.bulkReplay(app.id, ep.id, { since: new Date(Date.now() - 3600e3), until: new Date(Date.now() - 1800e3) });
    await sleep(300);
    assert.equal(rx.requests.length, 7);
    const bad = await api(h, 'POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/bulk-replay`, { body: { since: since.toISOString(), statusCodeClass: 500 } });
    assert.equal(bad.status, 422);
    assert.equal((await api(h, 'POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/bulk-replay`, { body: {} })).status, 422);
  } finally { await rx.close(); }
});

test('backgroundTask.list and get: recover and replay tasks, filtered by task and status', async () => {
  const app = await svix.application.create({ name: 'Tasks' });
  const ep = await svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/none' });
  const since = new Date(Date.now() - 60e3);
  const rec = await svix.endpoint.recover(app.id, ep.id, { since });
  const rep = await svix.endpoint.replayMissing(app.id, ep.id, { since });
  assert.match(rec.id, /^qtask_/);
  const all = await svix.backgroundTask.list({ limit: 250 });
  const ids = all.data.map((t) => t.id);
  assert.ok(ids.includes(rec.id) && ids.includes(rep.id));
  assert.ok(ids.indexOf(rep.id) < ids.indexOf(rec.id), 'newest first');
  const recovers = await svix.backgroundTask.list({ task: 'endpoint.recover', limit: 250 });
  assert.ok(recovers.data.length >= 1 && recovers.data.every((t) => t.task === 'endpoint.recover'));
  assert.ok(recovers.data.some((t) => t.id === rec.id && t.data.endpointId === ep.id && t.data.queued === 0));
  assert.equal((await svix.backgroundTask.list({ status: 'failed' })).data.length, 0);
  await assert.rejects(svix.backgroundTask.get('qtask_nope'), (e) => e.code === 404);
  const bad = await api(h, 'GET', '/api/v1/background-task?status=lost');
  assert.equal(bad.status, 422);
  // tasks belong to the whole environment: an application's token may not read them
  const tok = await api(h, 'POST', `/api/v1/auth/app-portal-access/${app.id}`, { body: {} });
  const res = await fetch(`${h.url}/api/v1/background-task/${rec.id}`, { headers: { authorization: `Bearer ${tok.json.token}` } });
  assert.equal(res.status, 403);
});

test('message.precheck tells whether a message would go to any endpoint', async () => {
  const app = await svix.application.create({ name: 'Precheck' });
  assert.deepEqual(await svix.message.precheck(app.id, { eventType: 'a.b' }), { active: false });
  await eventType('a.b');
  const ep = await svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/none', eventTypes: ['a.b'], channels: ['c1'] });
  assert.deepEqual((await svix.endpoint.get(app.id, ep.id)).eventTypes, ['a.b']);
  assert.equal((await svix.message.precheck(app.id, { eventType: 'a.b' })).active, false, 'no channel: the endpoint wants c1');
  assert.equal((await svix.message.precheck(app.id, { eventType: 'a.b', channels: ['c1'] })).active, true);
  assert.equal((await svix.message.precheck(app.id, { eventType: 'x.y', channels: ['c1'] })).active, false);
  await svix.endpoint.patch(app.id, ep.id, { disabled: true });
  assert.equal((await svix.message.precheck(app.id, { eventType: 'a.b', channels: ['c1'] })).active, false, 'disabled');
  const r = await api(h, 'POST', `/api/v1/app/${app.id}/msg/precheck/active`, { body: {} });
  assert.equal(r.status, 422);
  assert.equal((await api(h, 'POST', '/api/v1/app/app_nope/msg/precheck/active', { body: { eventType: 'a.b' } })).status, 404);
});

test('message.bulkExpungeContent drops the payloads of the listed messages only', async () => {
  const app = await svix.application.create({ name: 'Bulk expunge' });
  const a = await svix.message.create(app.id, { eventType: 'x.y', eventId: 'evt-a', payload: { n: 1 } });
  const b = await svix.message.create(app.id, { eventType: 'x.y', payload: { n: 2 } });
  const c = await svix.message.create(app.id, { eventType: 'x.y', payload: { n: 3 } });
  const out = await svix.message.bulkExpungeContent(app.id, { ids: ['evt-a', b.id, 'msg_nope'] });
  assert.deepEqual(out.results, { 'evt-a': 'expunged', [b.id]: 'expunged', msg_nope: 'not-found' });
  const payload = async (m) => (await api(h, "GET", `/api/v1/app/${app.id}/msg/${m.id}`)).json.payload;
  assert.deepEqual(await payload(a), {});
  assert.deepEqual(await payload(b), {});
  assert.deepEqual(await payload(c), { n: 3 });
  // a message of another application is not found there
  const other = await svix.application.create({ name: 'Other' });
  const d = await svix.message.create(other.id, { eventType: 'x.y', payload: { n: 4 } });
  assert.deepEqual((await svix.message.bulkExpungeContent(app.id, { ids: [d.id] })).results, { [d.id]: 'not-found' });
  assert.deepEqual(await (async () => (await api(h, "GET", `/api/v1/app/${other.id}/msg/${d.id}`)).json.payload)(), { n: 4 });
  const bad = await api(h, 'POST', `/api/v1/app/${app.id}/msg/bulk-expunge`, { body: { ids: [1] } });
  assert.equal(bad.status, 422);
});

test('message.create with application makes the application on first use, in the same commit', async () => {
  const uid = `auto-${Date.now()}`;
  const msg = await svix.message.create(uid, { eventType: 'a.b', payload: { n: 1 }, application: { name: 'Made on publish' } });
  assert.match(msg.id, /^msg_/);
  const app = await svix.application.get(uid);
  assert.equal(app.uid, uid);
  assert.equal(app.name, 'Made on publish');
  assert.equal((await svix.message.get(uid, msg.id)).eventType, 'a.b');
  // once it exists, `application` is ignored: the app keeps its name, and no second app appears
  await svix.message.create(uid, { eventType: 'a.b', payload: { n: 2 }, application: { name: 'Other name' } });
  assert.equal((await svix.application.get(uid)).name, 'Made on publish');
  assert.equal((await svix.message.list(uid)).data.length, 2);
  // without it an unknown application is still 404, a bad one is 422, and neither is made
  await assert.rejects(svix.message.create(`${uid}-x`, { eventType: 'a.b', payload: {} }), (e) => e.code === 404);
  const bad = await api(h, 'POST', `/api/v1/app/${uid}-y/msg`, { body: { eventType: 'a.b', payload: {}, application: { uid: `${uid}-y` } } });
  assert.equal(bad.status, 422);
  assert.equal((await api(h, 'GET', `/api/v1/app/${uid}-y`)).status, 404);
  // an endpoint made afterwards receives what is published next
  const rx = await startReceiver();
  try {
    await svix.endpoint.create(uid, { url: rx.url });
    const m3 = await svix.message.create(uid, { eventType: 'a.b', payload: { n: 3 }, application: { name: 'ignored' } });
    await rx.waitFor((r) => r.length >= 1);
    assert.equal(rx.requests[0].headers['webhook-id'], m3.id);
  } finally { await rx.close(); }
});

test('deliverAt holds a message back until its time, and survives in the store', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Scheduled' });
    await svix.endpoint.create(app.id, { url: rx.url });
    const at = new Date(Date.now() + 1500);
    const later = await svix.message.create(app.id, { eventType: 'a.b', payload: { when: 'later' }, deliverAt: at });
    assert.equal(new Date(later.deliverAt).getTime(), at.getTime());
    const now = await svix.message.create(app.id, { eventType: 'a.b', payload: { when: 'now' } });
    assert.equal(now.deliverAt ?? null, null);
    await rx.waitFor((r) => r.length >= 1);
    await sleep(300);
    assert.deepEqual(rx.requests.map((r) => r.headers['webhook-id']), [now.id], 'the scheduled one waits');
    const dest = await svix.messageAttempt.listAttemptedDestinations(app.id, later.id);
    assert.equal(dest.data[0].status, 1);
    assert.equal(new Date(dest.data[0].nextAttempt).getTime(), at.getTime());
    await rx.waitFor((r) => r.length >= 2, 5000);
    assert.equal(rx.requests[1].headers['webhook-id'], later.id);
    assert.ok(rx.requests[1].at >= at.getTime() - 50, 'not before its time');
    const tooFar = await api(h, 'POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'a.b', payload: {}, deliverAt: new Date(Date.now() + 25 * 3600e3).toISOString() } });
    assert.equal(tooFar.status, 422);
    const notDate = await api(h, 'POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'a.b', payload: {}, deliverAt: 'soon' } });
    assert.equal(notDate.status, 422);
  } finally { await rx.close(); }
});

test('tags: kept with the message, shown, and filtered by in message.list', async () => {
  const app = await svix.application.create({ name: 'Tags' });
  const a = await svix.message.create(app.id, { eventType: 'a.b', payload: { n: 1 }, tags: ['blue', 'big'] });
  const b = await svix.message.create(app.id, { eventType: 'a.b', payload: { n: 2 }, tags: ['red'] });
  const c = await svix.message.create(app.id, { eventType: 'a.b', payload: { n: 3 } });
  assert.deepEqual(a.tags, ['blue', 'big']);
  assert.equal(c.tags ?? null, null);
  assert.deepEqual((await svix.message.get(app.id, b.id)).tags, ['red']);
  assert.deepEqual((await svix.message.list(app.id, { tag: 'blue' })).data.map((m) => m.id), [a.id]);
  assert.deepEqual((await svix.message.list(app.id, { tag: 'red' })).data.map((m) => m.id), [b.id]);
  assert.equal((await svix.message.list(app.id, { tag: 'green' })).data.length, 0);
  assert.equal((await svix.message.list(app.id)).data.length, 3);
  for (const tags of [['a', 'b', 'c', 'd', 'e', 'f'], ['no spaces'], [], 'blue']) {
    const r = await api(h, 'POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'a.b', payload: {}, tags } });
    assert.equal(r.status, 422, JSON.stringify(tags));
  }
});

test('attempt and attempted-message lists filter by the message\'s channel, tag, type and status', async () => {
  const rx = await startReceiver({ respond: (req) => ({ status: JSON.parse(req.body).fail ? 500 : 200 }) });
  try {
    const app = await svix.application.create({ name: 'Filters' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    const a = await svix.message.create(app.id, { eventType: 'f.one', payload: { n: 1 }, channels: ['c1'], tags: ['t1'] });
    const b = await svix.message.create(app.id, { eventType: 'f.two', payload: { n: 2 }, channels: ['c2'], tags: ['t2'] });
    const c = await svix.message.create(app.id, { eventType: 'f.two', payload: { n: 3, fail: true }, channels: ['c2'] });
    let atts;
    for (let i = 0; i < 60; i++) {
      atts = await svix.messageAttempt.listByEndpoint(app.id, ep.id);
      if (atts.data.length >= 3) break;
      await sleep(50);
    }
    const ids = (list) => list.data.map((x) => x.msgId ?? x.id).sort();
    assert.deepEqual(ids(await svix.messageAttempt.listByEndpoint(app.id, ep.id, { channel: 'c1' })), [a.id]);
    assert.deepEqual(ids(await svix.messageAttempt.listByEndpoint(app.id, ep.id, { tag: 't2' })), [b.id]);
    assert.deepEqual(ids(await svix.messageAttempt.listByEndpoint(app.id, ep.id, { channel: 'c2', eventTypes: ['f.two'] })), [b.id, c.id].sort());
    assert.deepEqual(ids(await svix.messageAttempt.listByMsg(app.id, a.id, { tag: 't1' })), [a.id]);
    assert.equal((await svix.messageAttempt.listByMsg(app.id, a.id, { tag: 't2' })).data.length, 0);
    assert.deepEqual(ids(await svix.messageAttempt.listAttemptedMessages(app.id, ep.id, { tag: 't1' })), [a.id]);
    assert.deepEqual(ids(await svix.messageAttempt.listAttemptedMessages(app.id, ep.id, { channel: 'c2' })), [b.id, c.id].sort());
    assert.deepEqual(ids(await svix.messageAttempt.listAttemptedMessages(app.id, ep.id, { eventTypes: ['f.one'] })), [a.id]);
    assert.deepEqual(ids(await svix.messageAttempt.listAttemptedMessages(app.id, ep.id, { status: 0 })), [a.id, b.id].sort());
    const cState = (await svix.messageAttempt.listAttemptedMessages(app.id, ep.id, { channel: 'c2', eventTypes: ['f.two'] })).data.find((m) => m.id === c.id).status;
    assert.deepEqual(ids(await svix.messageAttempt.listAttemptedMessages(app.id, ep.id, { status: cState })).filter((id) => id === c.id), [c.id]);
    assert.equal((await svix.messageAttempt.listAttemptedMessages(app.id, ep.id, { before: new Date(Date.now() - 3600e3) })).data.length, 0);
    assert.deepEqual(ids(await svix.messageAttempt.listAttemptedDestinations(app.id, a.id, {})), [ep.id]);
  } finally { await rx.close(); }
});

test('payloadRetentionHours or payloadRetentionPeriod, not both', async () => {
  const app = await svix.application.create({ name: 'Retention hours' });
  const m = await svix.message.create(app.id, { eventType: 'a.b', payload: { n: 1 }, payloadRetentionHours: 2 });
  assert.match(m.id, /^msg_/);
  const both = await api(h, 'POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'a.b', payload: {}, payloadRetentionPeriod: 1, payloadRetentionHours: 2 } });
  assert.equal(both.status, 422);
  assert.equal(both.json.detail[0].loc[1], 'payloadRetentionHours');
  const zero = await api(h, 'POST', `/api/v1/app/${app.id}/msg`, { body: { eventType: 'a.b', payload: {}, payloadRetentionHours: 0 } });
  assert.equal(zero.status, 422);
});

test('GET and XML formats', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Formats' });
    await api(h, 'POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: rx.url + '/q', format: 'query' } });
    await api(h, 'POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: rx.url + '/x', format: 'xml' } });
    await svix.message.create(app.id, { eventType: 'f.mt', payload: { id: 5, name: 'a&b' } });
    await rx.waitFor((r) => r.length >= 2);
    const q = rx.requests.find((r) => r.url.startsWith('/q'));
    const x = rx.requests.find((r) => r.url.startsWith('/x'));
    assert.equal(q.method, 'GET');
    assert.equal(q.url, '/q?id=5&name=a%26b');
    assert.equal(x.headers['content-type'], 'application/xml');
    assert.match(x.body, /<webhook><id>5<\/id><name>a&amp;b<\/name><\/webhook>/);
  } finally { await rx.close(); }
});
