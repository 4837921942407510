// Issue: operations. /metrics parses as Prometheus text and its counters move; /api/v1/stats series.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Svix } from 'svix';
import { startHookd, api } from './lib/hookd.mjs';
import { startReceiver } from './lib/receiver.mjs';

// parseProm is a small parser of the text exposition format: samples keyed by name{labels}
export function parseProm(text) {
  const samples = new Map();
  const types = new Map();
  for (const line of text.split('\n')) {
    if (!line) continue;
    if (line.startsWith('# TYPE ')) { const [, , name, type] = line.split(' '); types.set(name, type); continue; }
    if (line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.eE+]+|\+Inf|NaN)$/);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    samples.set(m[1] + (m[2] || ''), Number(m[3]));
  }
  return { samples, types };
}

test('/metrics needs the admin token, parses, and counts deliveries', async () => {
  const rx = await startReceiver();
  const h = await startHookd({ args: ['--allow-private', '--metrics-listen', '127.0.0.1:0'] });
  try {
    assert.equal((await api(h, 'GET', '/metrics', { token: null })).status, 401);
    const before = parseProm((await api(h, 'GET', '/metrics')).text);
    assert.equal(before.types.get('hookd_deliveries_total'), 'counter');
    assert.equal(before.types.get('hookd_delivery_latency_seconds'), 'histogram');
    const svix = new Svix(h.token, { serverUrl: h.url });
    const app = await svix.application.create({ name: 'M' });
    await svix.endpoint.create(app.id, { url: rx.url });
    for (let i = 0; i < 5; i++) await svix.message.create(app.id, { eventType: 'm.x', payload: { i } });
    await rx.waitFor((r) => r.length >= 5);
    let after;
    for (let i = 0; i < 20; i++) {
      after = parseProm((await api(h, 'GET', '/metrics')).text);
      if (after.samples.get('hookd_deliveries_total{outcome="succeeded"}') >= 5) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(after.samples.get('hookd_messages_published_total') - (before.samples.get('hookd_messages_published_total') || 0), 5);
    assert.ok(after.samples.get('hookd_deliveries_total{outcome="succeeded"}') >= 5);
    assert.ok(after.samples.get('hookd_attempts_total{status_class="2xx"}') >= 5);
    assert.ok(after.samples.get('hookd_delivery_latency_seconds_count') >= 5);
    assert.ok(after.samples.get('hookd_process_open_fds') > 0);
    // a write that fails (a duplicate eventId) sends its batch again with savepoints
    assert.equal(after.types.get('hookd_store_batch_reruns_total'), 'counter');
    await svix.message.create(app.id, { eventType: 'm.x', payload: {}, eventId: 'dup-1' });
    await assert.rejects(svix.message.create(app.id, { eventType: 'm.x', payload: {}, eventId: 'dup-1' }), (e) => e.code === 409);
    const reruns = parseProm((await api(h, 'GET', '/metrics')).text).samples.get('hookd_store_batch_reruns_total');
    assert.ok(reruns >= (after.samples.get('hookd_store_batch_reruns_total') || 0) + 1, `reruns ${reruns}`);
    // the separate metrics listener answers without a token
    const port = h.stdout().match(/metrics: .*\(port (\d+)/)[1];
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    parseProm(await res.text());
    const stats = await api(h, 'GET', '/api/v1/stats?bucket=60');
    assert.equal(stats.status, 200);
    assert.equal(stats.json.bucketSeconds, 60);
    const total = stats.json.buckets.reduce((n, b) => n + b.succeeded, 0);
    assert.ok(total >= 5);
    assert.ok('due' in stats.json.queue);
  } finally { await h.stop(); h.cleanup(); await rx.close(); }
});

test('every API answer carries a request id; a sent x-request-id is kept', async () => {
  const h = await startHookd();
  try {
    const a = await api(h, 'GET', '/api/v1/app');
    assert.match(a.headers.get('x-request-id'), /^req_/);
    const b = await api(h, 'GET', '/api/v1/nope', { headers: { 'x-request-id': 'trace-42' } });
    assert.equal(b.headers.get('x-request-id'), 'trace-42');
    assert.equal(b.status, 404);
  } finally { await h.stop(); h.cleanup(); }
});

test('operational webhooks: endpoint changes and exactly one message.attempt.exhausted', async () => {
  const operator = await startReceiver();
  const failing = await startReceiver({ respond: () => ({ status: 500 }) });
  const h = await startHookd({ args: ['--allow-private', '--retry-schedule', '100ms,100ms,100ms,100ms', '--operational-webhook-url', operator.url] });
  try {
    const svix = new Svix(h.token, { serverUrl: h.url });
    const app = await svix.application.create({ name: 'Ops' });
    const ep = await svix.endpoint.create(app.id, { url: failing.url });
    const msg = await svix.message.create(app.id, { eventType: 'o.p', payload: {} });
    await failing.waitFor((r) => r.length >= 5, 10000);
    const types = () => operator.requests.map((r) => JSON.parse(r.body).type);
    await operator.waitFor(() => types().includes('message.attempt.exhausted'), 10000);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(types().includes('endpoint.created'));
    assert.equal(types().filter((t) => t === 'message.attempt.failing').length, 1);
    assert.equal(types().filter((t) => t === 'message.attempt.exhausted').length, 1);
    const ex = operator.requests.map((r) => JSON.parse(r.body)).find((b) => b.type === 'message.attempt.exhausted');
    assert.equal(ex.data.msgId, msg.id);
    assert.equal(ex.data.endpointId, ep.id);
    assert.equal(ex.data.lastAttempt.responseStatusCode, 500);
    // signed like any delivery, with the operational endpoint's secret
    const opApp = await svix.application.get('hookd-operational');
    const opEp = (await svix.endpoint.list(opApp.id)).data[0];
    const { key } = await svix.endpoint.getSecret(opApp.id, opEp.id);
    const { Webhook } = await import('standardwebhooks');
    new Webhook(key.replace('whsec_', '')).verify(operator.requests[0].body, operator.requests[0].headers);
  } finally { await h.stop(); h.cleanup(); await operator.close(); await failing.close(); }
});

test('operationalWebhook.endpoint manages the operational application\'s endpoints through the svix SDK', async () => {
  const operator = await startReceiver();
  const h = await startHookd({ args: ['--allow-private'] });
  try {
    const svix = new Svix(h.token, { serverUrl: h.url });
    const ops = svix.operationalWebhook.endpoint;
    // no operational application yet: an empty list, and unknown endpoints are 404
    assert.deepEqual((await ops.list()).data, []);
    await assert.rejects(ops.get('ep_nope'), (e) => e.code === 404);
    // the first endpoint makes the application; it filters by hookd's own event names
    const ep = await ops.create({ url: operator.url, eventTypes: ['endpoint.created'], description: 'ops' });
    assert.match(ep.id, /^ep_/);
    assert.deepEqual(ep.eventTypes, ['endpoint.created']);
    assert.equal((await svix.application.get('hookd-operational')).uid, 'hookd-operational');
    assert.deepEqual((await ops.list()).data.map((e) => e.id), [ep.id]);
    assert.equal((await ops.get(ep.id)).description, 'ops');
    await ops.setHeaders(ep.id, { headers: { 'X-Ops': 'yes' } });
    assert.deepEqual((await ops.getHeaders(ep.id)).headers, { 'X-Ops': 'yes' });
    const { key } = await ops.getSecret(ep.id);
    // an endpoint made elsewhere is announced to it, signed with its secret; updates are filtered out
    const app = await svix.application.create({ name: 'Watched' });
    const watched = await svix.endpoint.create(app.id, { url: 'http://127.0.0.1:9/x' });
    await svix.endpoint.patch(app.id, watched.id, { description: 'changed' });
    await operator.waitFor((r) => r.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(operator.requests.length, 1);
    const req = operator.requests[0];
    const { Webhook } = await import('standardwebhooks');
    const body = new Webhook(key.replace('whsec_', '')).verify(req.body, req.headers);
    assert.equal(body.type, 'endpoint.created');
    assert.equal(body.data.endpointId, watched.id);
    assert.equal(req.headers['x-ops'], 'yes');
    // upsert by uid, rotate, delete
    const up = await ops.upsert('ops-second', { url: operator.url + '/2' });
    assert.equal(up.uid, 'ops-second');
    assert.equal((await ops.upsert('ops-second', { url: operator.url + '/3' })).url, operator.url + '/3');
    await ops.rotateSecret(ep.id, {});
    assert.notEqual((await ops.getSecret(ep.id)).key, key);
    await ops.delete(up.id);
    assert.deepEqual((await ops.list()).data.map((e) => e.id), [ep.id]);
    // unknown event types are still refused; an application's token may not use these routes
    const bad = await api(h, 'POST', '/api/v1/operational-webhook/endpoint', { body: { url: operator.url, eventTypes: ['no.such'] } });
    assert.equal(bad.status, 422);
    const tok = await api(h, 'POST', `/api/v1/auth/app-portal-access/${app.id}`, { body: {} });
    assert.equal((await api(h, 'GET', '/api/v1/operational-webhook/endpoint', { token: tok.json.token })).status, 403);
  } finally { await h.stop(); h.cleanup(); await operator.close(); }
});

test('/metrics counts inbound events by source and verdict', async () => {
  const h = await startHookd();
  try {
    const src = (await api(h, 'POST', '/api/v1/source', { body: { uid: 'm-src', provider: 'bearer', secrets: ['tok-1'], maxBodyBytes: 64 } })).json;
    await fetch(`${h.url}/in/m-src`, { method: 'POST', body: '{}', headers: { authorization: 'Bearer tok-1' } });
    await fetch(`${h.url}/in/m-src`, { method: 'POST', body: '{}', headers: { authorization: 'Bearer wrong' } });
    const big = await fetch(`${h.url}/in/m-src`, { method: 'POST', body: 'x'.repeat(200), headers: { authorization: 'Bearer tok-1' } });
    assert.equal(big.status, 413);
    const m = parseProm((await api(h, 'GET', '/metrics')).text);
    assert.equal(m.samples.get(`hookd_inbound_events_total{source="${src.id}",verdict="accepted"}`), 1);
    assert.equal(m.samples.get(`hookd_inbound_events_total{source="${src.id}",verdict="rejected"}`), 1);
    // counted before the source is looked up: labelled as the path names it
    assert.equal(m.samples.get('hookd_inbound_events_total{source="m-src",verdict="too_large"}'), 1);
  } finally { await h.stop(); h.cleanup(); }
});
