// Issue: transformations. Per-endpoint Lua scripts reshape, cancel or fail a delivery;
// signatures are checked with the standardwebhooks package, setup goes through the svix SDK.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Svix } from 'svix';
import { Webhook } from 'standardwebhooks';
import { startHookd, api } from './lib/hookd.mjs';
import { startReceiver, sleep } from './lib/receiver.mjs';

let h, svix;
before(async () => {
  h = await startHookd({ args: ['--allow-private', '--retry-schedule', '1h'] });
  svix = new Svix(h.token, { serverUrl: h.url });
});
after(async () => { await h.stop(); h.cleanup(); });

const path = (app, ep) => `/api/v1/app/${app}/endpoint/${ep}/transformation`;

async function setScript(app, ep, code, enabled = true) {
  const r = await api(h, 'PUT', path(app, ep), { body: { code, enabled } });
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// attemptsOf polls the raw attempts API (it carries statusText) until pred holds
async function attemptsOf(app, msg, pred = (a) => a.length > 0, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await api(h, 'GET', `/api/v1/app/${app}/attempt/msg/${msg}`);
    if (pred(r.json.data) || Date.now() > end) return r.json.data;
    await sleep(50);
  }
}

function verify(secret, req) {
  return new Webhook(secret.replace(/^whsec_/, '')).verify(req.body, {
    'webhook-id': req.headers['webhook-id'],
    'webhook-timestamp': req.headers['webhook-timestamp'],
    'webhook-signature': req.headers['webhook-signature'],
  });
}

test('a transformed delivery arrives reshaped, with a signature over the new body', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Xf' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url + '/hook' });
    await svix.endpoint.setHeaders(app.id, ep.id, { headers: { 'X-Team': 'shop' } });
    const set = await setScript(app.id, ep.id, `
      function handler(webhook)
        webhook.payload = { text = "New order " .. webhook.payload.id, team = webhook.headers["X-Team"],
                            tags = json.array(), big = webhook.payload.big }
        webhook.url = webhook.url .. "/reshaped"
        webhook.method = "PUT"
        webhook.headers["X-Transformed"] = "yes"
        return webhook
      end`);
    assert.equal(set.enabled, true);
    assert.equal(set.version, 1);
    const got = await api(h, 'GET', path(app.id, ep.id));
    assert.equal(got.status, 200);
    assert.match(got.json.code, /New order/);
    // the SDK's own call reads it too
    const viaSdk = await svix.endpoint.transformation?.get?.(app.id, ep.id).catch(() => null);
    if (viaSdk) assert.equal(viaSdk.enabled, true);

    const { key } = await svix.endpoint.getSecret(app.id, ep.id);
    const msg = await svix.message.create(app.id, { eventType: 'order.created', payload: { id: 42, big: 9007199254740993n.toString() } });
    await rx.waitFor((r) => r.length >= 1);
    const req = rx.requests[0];
    assert.equal(req.method, 'PUT');
    assert.equal(req.url, '/hook/reshaped');
    assert.equal(req.headers['x-transformed'], 'yes');
    assert.equal(req.headers['x-team'], 'shop');
    assert.equal(req.headers['webhook-id'], msg.id);
    assert.deepEqual(verify(key, req), { text: 'New order 42', team: 'shop', tags: [], big: '9007199254740993' });
    const atts = await attemptsOf(app.id, msg.id);
    assert.equal(atts[0].status, 0);
    assert.equal(atts[0].url, rx.url + '/hook/reshaped');
    // the stored message keeps its original payload
    const stored = await api(h, 'GET', `/api/v1/app/${app.id}/msg/${msg.id}`);
    assert.deepEqual(stored.json.payload, { id: 42, big: '9007199254740993' });
  } finally { await rx.close(); }
});

test("a request's method and format do not carry over to the next request on a reused handle", async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'Mixed' });
    const put = await svix.endpoint.create(app.id, { url: rx.url + '/put' });
    await setScript(app.id, put.id, 'function handler(webhook) webhook.method = "PUT" return webhook end');
    await api(h, 'POST', `/api/v1/app/${app.id}/endpoint`, { body: { url: rx.url + '/get', format: 'query' } });
    await svix.endpoint.create(app.id, { url: rx.url + '/plain' });
    const n = 20;
    for (let i = 0; i < n; i++) {
      await svix.message.create(app.id, { eventType: 'mix.ed', payload: { i } });
      await rx.waitFor((r) => r.length >= 3 * (i + 1));
    }
    const by = (prefix) => rx.requests.filter((r) => r.url.startsWith(prefix));
    assert.equal(by('/put').length, n);
    assert.equal(by('/get').length, n);
    assert.equal(by('/plain').length, n);
    for (const r of by('/put')) assert.equal(r.method, 'PUT');
    for (const r of by('/get')) assert.equal(r.method, 'GET');
    for (const r of by('/plain')) {
      assert.equal(r.method, 'POST', 'a plain delivery after a PUT or a GET');
      assert.equal(JSON.parse(r.body).i >= 0, true);
    }
  } finally { await rx.close(); }
});

test('a cancel skips the delivery and records it as status 4 "canceled"', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'XfCancel' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    await setScript(app.id, ep.id, `
      function handler(webhook)
        webhook.cancel = webhook.payload.test == true
        return webhook
      end`);
    const skipped = await svix.message.create(app.id, { eventType: 'a.b', payload: { test: true } });
    const sent = await svix.message.create(app.id, { eventType: 'a.b', payload: { test: false } });
    await rx.waitFor((r) => r.length >= 1);
    const atts = await attemptsOf(app.id, skipped.id);
    assert.equal(atts.length, 1);
    assert.equal(atts[0].status, 4);
    assert.equal(atts[0].statusText, 'canceled');
    assert.equal(atts[0].responseStatusCode, 0);
    await sleep(300);
    assert.equal(rx.requests.length, 1);
    assert.equal(rx.requests[0].headers['webhook-id'], sent.id);
    // the delivery itself is settled as canceled, not pending or failed
    const dests = await api(h, 'GET', `/api/v1/app/${app.id}/msg/${skipped.id}/endpoint`);
    if (dests.status === 200) assert.equal(dests.json.data[0].status, 4);
  } finally { await rx.close(); }
});

test('an infinite loop and a memory bomb fail only their own attempts; other deliveries keep flowing', async () => {
  const good = await startReceiver(), loopRx = await startReceiver(), bombRx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'XfLimits' });
    const loop = await svix.endpoint.create(app.id, { url: loopRx.url });
    const bomb = await svix.endpoint.create(app.id, { url: bombRx.url });
    await svix.endpoint.create(app.id, { url: good.url });
    await setScript(app.id, loop.id, 'function handler(w) while true do end end');
    await setScript(app.id, bomb.id, `function handler(w)
      local t = {}
      while true do t[#t + 1] = string.rep("x", 262144) .. #t end
    end`);
    const t0 = Date.now();
    const msgs = [];
    for (let i = 0; i < 10; i++) msgs.push(await svix.message.create(app.id, { eventType: 'a.b', payload: { i } }));
    await good.waitFor((r) => r.length >= 10);
    assert.ok(Date.now() - t0 < 5000, 'deliveries kept flowing');
    const atts = await attemptsOf(app.id, msgs[9].id, (a) => a.length >= 3);
    const byEp = Object.fromEntries(atts.map((a) => [a.endpointId, a]));
    assert.equal(byEp[loop.id].status, 2);
    assert.equal(byEp[loop.id].responseStatusCode, 0);
    assert.match(byEp[loop.id].response, /instruction budget exceeded/);
    assert.equal(byEp[bomb.id].status, 2);
    assert.match(byEp[bomb.id].response, /memory limit exceeded/);
    assert.equal(loopRx.requests.length + bombRx.requests.length, 0);
    // the server is healthy after all of it
    assert.equal((await api(h, 'GET', '/api/v1/health')).status, 200);
  } finally { await good.close(); await loopRx.close(); await bombRx.close(); }
});

test('simulate returns input and output side by side and delivers nothing', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'XfSim' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    const code = `function handler(webhook)
      print("id is", webhook.payload.id)
      webhook.payload = { text = "New order " .. webhook.payload.id, empty = json.object(), none = json.null }
      return webhook
    end`;
    let r = await api(h, 'POST', `${path(app.id, ep.id)}/simulate`, { body: { code, eventType: 'order.created', payload: { id: 7 } } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.input.payload, { id: 7 });
    assert.equal(r.json.input.eventType, 'order.created');
    assert.equal(r.json.input.url, rx.url);
    assert.deepEqual(r.json.output.payload, { text: 'New order 7', empty: {}, none: null });
    assert.equal(r.json.output.method, 'POST');
    assert.equal(r.json.cancel, false);
    assert.equal(r.json.error, null);
    assert.equal(r.json.logs, 'id is\t7\n');
    assert.equal(typeof r.json.durationMs, 'number');

    // a failing script: the error, no output
    r = await api(h, 'POST', `${path(app.id, ep.id)}/simulate`, { body: { code: 'function handler(w) error("nope") end', eventType: 'a.b', payload: {} } });
    assert.equal(r.status, 200);
    assert.equal(r.json.output, null);
    assert.match(r.json.error, /nope/);

    // the stored script, on a stored message (sent before the script existed)
    const msg = await svix.message.create(app.id, { eventType: 'order.created', payload: { id: 9 } });
    await rx.waitFor((q) => q.length >= 1);
    await setScript(app.id, ep.id, code);
    r = await api(h, 'POST', `${path(app.id, ep.id)}/simulate`, { body: { msgId: msg.id } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.output.payload.text, 'New order 9');
    await sleep(300);
    assert.equal(rx.requests.length, 1, 'simulate sent nothing');

    // bad input is a 422
    r = await api(h, 'POST', `${path(app.id, ep.id)}/simulate`, { body: { eventType: 'a.b' } });
    assert.equal(r.status, 422);
  } finally { await rx.close(); }
});

test('scripts are checked when set; PATCH, disable and DELETE', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'XfApi' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    let r = await api(h, 'PUT', path(app.id, ep.id), { body: { code: 'function handler(w) return w' } });
    assert.equal(r.status, 422);
    assert.match(JSON.stringify(r.json.detail), /does not compile/);
    r = await api(h, 'PUT', path(app.id, ep.id), { body: { code: 'local x = 1' } });
    assert.equal(r.status, 422);
    r = await api(h, 'PUT', path(app.id, ep.id), { body: { code: 'os.exit(1) function handler(w) return w end' } });
    assert.equal(r.status, 422);

    await setScript(app.id, ep.id, 'function handler(w) w.payload = {v = 1} return w end');
    r = await api(h, 'PATCH', path(app.id, ep.id), { body: { code: 'function handler(w) w.payload = {v = 2} return w end' } });
    assert.equal(r.status, 204);
    r = await api(h, 'GET', path(app.id, ep.id));
    assert.equal(r.json.version, 2);
    await svix.message.create(app.id, { eventType: 'a.b', payload: { v: 0 } });
    await rx.waitFor((q) => q.length >= 1);
    assert.deepEqual(JSON.parse(rx.requests[0].body), { v: 2 });

    r = await api(h, 'PATCH', path(app.id, ep.id), { body: { enabled: false } });
    assert.equal(r.status, 204);
    await svix.message.create(app.id, { eventType: 'a.b', payload: { v: 0 } });
    await rx.waitFor((q) => q.length >= 2);
    assert.deepEqual(JSON.parse(rx.requests[1].body), { v: 0 });

    r = await api(h, 'DELETE', path(app.id, ep.id));
    assert.equal(r.status, 204);
    r = await api(h, 'GET', path(app.id, ep.id));
    assert.equal(r.json.code, null);
    assert.equal(r.json.enabled, false);
    // the endpoint's public document never shows the script
    const pub = await api(h, 'GET', `/api/v1/app/${app.id}/endpoint/${ep.id}`);
    assert.ok(!('_transformation' in pub.json));
  } finally { await rx.close(); }
});

test('an inbound route script reshapes before fan-out and filters by cancelling', async () => {
  const rx = await startReceiver();
  try {
    const app = await svix.application.create({ name: 'XfIn', uid: 'xf-in' });
    await svix.endpoint.create(app.id, { url: rx.url });
    const transform = `function handler(webhook)
      if webhook.payload.action == "ignored" then webhook.cancel = true return webhook end
      webhook.eventType = "issue." .. webhook.payload.action
      webhook.payload = { title = webhook.payload.issue.title, from = webhook.headers["x-origin"] }
      return webhook
    end`;
    let r = await api(h, 'POST', '/api/v1/source', { body: { uid: 'xf-src', provider: 'bearer', secrets: ['tok-xf'], routes: [{ app: 'xf-in', transform }] } });
    assert.equal(r.status, 201, r.text);
    const bad = await api(h, 'POST', '/api/v1/source', { body: { uid: 'xf-bad', provider: 'bearer', secrets: ['t'], routes: [{ app: 'xf-in', transform: 'nope(' }] } });
    assert.equal(bad.status, 422);

    const send = (body) => fetch(`${h.url}/in/xf-src`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: 'Bearer tok-xf', 'content-type': 'application/json', 'x-origin': 'tracker' } });
    assert.equal((await send({ action: 'ignored', issue: { title: 'skip me' } })).status, 200);
    assert.equal((await send({ action: 'opened', issue: { title: 'Bug' } })).status, 200);
    await rx.waitFor((q) => q.length >= 1);
    await sleep(300);
    assert.equal(rx.requests.length, 1);
    assert.deepEqual(JSON.parse(rx.requests[0].body), { title: 'Bug', from: 'tracker' });
    const msgs = await svix.message.list(app.id);
    assert.equal(msgs.data.length, 1);
    assert.equal(msgs.data[0].eventType, 'issue.opened');
  } finally { await rx.close(); }
});

test('the sandbox limits are set by serve flags, and bad values are refused', async () => {
  const tight = await startHookd({ args: ['--allow-private', '--transform-instructions', '20000', '--transform-memory', '1048576'] });
  try {
    const app = await api(tight, 'POST', '/api/v1/app', { body: { name: 'Lim' } });
    const ep = await api(tight, 'POST', `/api/v1/app/${app.json.id}/endpoint`, { body: { url: 'http://127.0.0.1:9/x' } });
    const sim = (code) => api(tight, 'POST', `${path(app.json.id, ep.json.id)}/simulate`, { body: { code, eventType: 'a.b', payload: {} } });
    const loop = 'function handler(w) local n = 0 for i = 1, 100000 do n = n + i end w.payload = { n = n } return w end';
    let r = await sim(loop);
    assert.equal(r.status, 200);
    assert.match(r.json.error, /instruction budget exceeded \(20000 instructions\)/);
    r = await sim('function handler(w) local t = {} for i = 1, 4000 do t[i] = string.rep("x", 512) .. i end return w end');
    assert.match(r.json.error, /memory limit exceeded \(1024 KiB\)/);
    // the same loop fits the default budget (the suite's server)
    const a2 = await svix.application.create({ name: 'LimDefault' });
    const e2 = await svix.endpoint.create(a2.id, { url: 'http://127.0.0.1:9/x' });
    r = await api(h, 'POST', `${path(a2.id, e2.id)}/simulate`, { body: { code: loop, eventType: 'a.b', payload: {} } });
    assert.equal(r.json.error, null);
    assert.equal(r.json.output.payload.n, 5000050000);
  } finally { await tight.stop(); tight.cleanup(); }
  for (const bad of [['--transform-instructions', '10'], ['--transform-memory', '100'], ['--transform-timeout', '0ms']]) {
    await assert.rejects(startHookd({ args: bad }), new RegExp(bad[0]));
  }
});
