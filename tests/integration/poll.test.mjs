// Issue: polling bridge. An API that only offers polling becomes webhooks: new and changed
// items are published once each, unchanged polls publish nothing, a restart neither misses
// nor repeats, and hookd is polite (304, Retry-After, backoff, pagination limit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { startHookd, api } from './lib/hookd.mjs';
import { startReceiver, sleep } from './lib/receiver.mjs';

// startApi plays a polling-only API: handle(req, n) returns { status, headers, body }.
async function startApi(handle) {
  const log = [];
  const server = http.createServer((req, res) => {
    const rec = { url: req.url, method: req.method, headers: req.headers, at: Date.now() };
    log.push(rec);
    const a = handle(req, log.length) || {};
    rec.status = a.status ?? 200;
    const body = a.body === undefined ? '' : typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
    res.writeHead(rec.status, { 'content-type': 'application/json', ...(a.headers || {}) });
    res.end(body);
  });
  const sockets = new Set();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url, log,
    async until(pred, timeoutMs = 15000) {
      const end = Date.now() + timeoutMs;
      while (!pred(log)) {
        if (Date.now() > end) throw new Error(`api: timed out with ${log.length} requests`);
        await sleep(25);
      }
    },
    async close() { for (const s of sockets) s.destroy(); await new Promise((r) => server.close(r)); },
  };
}

// an API of orders whose list the test changes; it answers 304 to a matching ETag
function ordersApi(orders) {
  return (req) => {
    const body = JSON.stringify({ data: orders, total: orders.length });
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) return { status: 304, headers: { etag } };
    return { status: 200, headers: { etag }, body };
  };
}

async function setup(h, rx) {
  assert.equal((await api(h, 'POST', '/api/v1/app', { body: { name: 'Shop', uid: 'shop' } })).status, 201);
  assert.equal((await api(h, 'POST', '/api/v1/app/shop/endpoint', { body: { url: rx.url } })).status, 201);
}

async function messages(h, app = 'shop') {
  const r = await api(h, 'GET', `/api/v1/app/${app}/msg?limit=250`);
  assert.equal(r.status, 200);
  return r.json.data;
}

test('items: one message per new or changed item, none for unchanged polls, nothing twice across a restart', async () => {
  const orders = [
    { id: 1, updated_at: '2024-01-01T00:00:00Z', total: 10 },
    { id: 2, updated_at: '2024-01-01T00:00:00Z', total: 20 },
  ];
  const srv = await startApi(ordersApi(orders));
  const rx = await startReceiver();
  let h = await startHookd({ args: ['--allow-private'] });
  try {
    await setup(h, rx);
    const created = await api(h, 'POST', '/api/v1/poll', {
      body: {
        uid: 'orders', url: `${srv.url}/orders`, headers: { Authorization: 'Bearer poll-s3cret' },
        intervalSeconds: 1, app: 'shop', eventType: 'order.changed',
        rule: { kind: 'items', path: '.data', idField: 'id', updatedField: 'updated_at' },
      },
    });
    assert.equal(created.status, 201, created.text);
    assert.match(created.json.id, /^poll_/);
    assert.equal(created.json.uid, 'orders');
    assert.equal(created.json.emitInitial, false);
    assert.deepEqual(created.json.headers, { Authorization: '********' });
    assert.ok(!created.text.includes('poll-s3cret'), 'the header value is never shown');
    const got = await api(h, 'GET', '/api/v1/poll/orders');
    assert.equal(got.status, 200);
    assert.ok(!got.text.includes('poll-s3cret'));
    assert.equal((await api(h, 'GET', '/api/v1/poll')).json.data.length, 1);

    // the first poll records a baseline; later ones are conditional and answered 304
    await srv.until((l) => l.some((r) => r.status === 304) && l.length >= 3);
    assert.equal(srv.log[0].headers.authorization, 'Bearer poll-s3cret');
    assert.match(srv.log[0].headers['user-agent'], /^hookd\//);
    assert.equal(srv.log[0].headers['if-none-match'], undefined);
    assert.equal((await messages(h)).length, 0, 'the baseline publishes nothing');
    const st = (await api(h, 'GET', '/api/v1/poll/orders')).json.status;
    assert.equal(st.baselineRecorded, true);
    assert.equal(st.failures, 0);

    // a new item and a changed one: exactly two messages
    orders.push({ id: 3, updated_at: '2024-01-02T00:00:00Z', total: 30, note: 'new' });
    orders[0] = { ...orders[0], updated_at: '2024-01-02T00:00:00Z', total: 11 };
    await rx.waitFor((r) => r.length >= 2);
    const seenBefore = srv.log.length;
    await srv.until((l) => l.length >= seenBefore + 3);
    assert.equal(rx.requests.length, 2, 'unchanged polls publish nothing');
    const bodies = rx.requests.map((r) => JSON.parse(r.body)).sort((a, b) => a.id - b.id);
    assert.deepEqual(bodies, [orders[0], orders[2]], 'the payload is the item as the API returned it');
    let msgs = await messages(h);
    assert.equal(msgs.length, 2);
    assert.ok(msgs.every((m) => m.eventType === 'order.changed' && m.eventId));
    // the same item changing again is a new event
    orders[2] = { ...orders[2], updated_at: '2024-01-03T00:00:00Z', note: 'again' };
    await rx.waitFor((r) => r.length >= 3);
    assert.deepEqual(JSON.parse(rx.requests[2].body), orders[2]);

    // SIGTERM, a change while hookd is down, start again on the same database
    assert.equal((await h.stop('SIGTERM')).code, 0);
    orders.push({ id: 4, updated_at: '2024-01-04T00:00:00Z', total: 40 });
    h = await startHookd({ dir: h.dir, args: ['--allow-private'] });
    await rx.waitFor((r) => r.length >= 4);
    const afterRestart = srv.log.length;
    await srv.until((l) => l.length >= afterRestart + 3);
    assert.equal(rx.requests.length, 4, 'a restart neither misses nor repeats');
    assert.deepEqual(JSON.parse(rx.requests[3].body), orders[3]);
    msgs = await messages(h);
    assert.equal(msgs.length, 4);
    assert.equal(new Set(msgs.map((m) => m.eventId)).size, 4);

    // a deleted source is polled no more
    assert.equal((await api(h, 'DELETE', '/api/v1/poll/orders')).status, 204);
    await sleep(300);
    const atDelete = srv.log.length;
    await sleep(2000);
    assert.equal(srv.log.length, atDelete);
    assert.equal((await api(h, 'GET', '/api/v1/poll/orders')).status, 404);
  } finally { await h.stop(); h.cleanup(); await rx.close(); await srv.close(); }
});

test('document: any change is one message; includePrevious carries the previous value', async () => {
  let doc = { status: 'pending', n: 1 };
  const srv = await startApi(() => ({ body: { meta: { at: 1 }, order: doc } }));
  const rx = await startReceiver();
  const h = await startHookd({ args: ['--allow-private'] });
  try {
    await setup(h, rx);
    const r = await api(h, 'POST', '/api/v1/poll', {
      body: { url: `${srv.url}/order/7`, intervalSeconds: 1, app: 'shop', eventType: 'order.status',
        rule: { kind: 'document', path: '.order', includePrevious: true } },
    });
    assert.equal(r.status, 201, r.text);
    await srv.until((l) => l.length >= 3);
    assert.equal(rx.requests.length, 0);
    const before = doc;
    doc = { status: 'shipped', n: 1 };
    await rx.waitFor((x) => x.length >= 1);
    const n = srv.log.length;
    await srv.until((l) => l.length >= n + 2);
    assert.equal(rx.requests.length, 1);
    assert.deepEqual(JSON.parse(rx.requests[0].body), { current: doc, previous: before });
    // back to the earlier value is a change too
    doc = before;
    await rx.waitFor((x) => x.length >= 2);
    assert.deepEqual(JSON.parse(rx.requests[1].body).current, before);
  } finally { await h.stop(); h.cleanup(); await rx.close(); await srv.close(); }
});

test('pagination follows Link rel="next" up to the page limit; emitInitial publishes the first answer', async () => {
  const pages = { 1: [{ id: 'a' }, { id: 'b' }], 2: [{ id: 'c' }], 3: [{ id: 'd' }] };
  const srv = await startApi((req) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/endless') {
      const p = Number(u.searchParams.get('page') || 1);
      return { body: [{ key: `e${p}` }], headers: { link: `</endless?page=${p + 1}>; rel="next"` } };
    }
    const p = Number(u.searchParams.get('page') || 1);
    const headers = { etag: `"page-${p}"` };
    if (pages[p + 1]) headers.link = `<${srvUrl()}/items?page=${p + 1}>; rel="next", </items?page=1>; rel="first"`;
    return { body: { items: pages[p] }, headers };
  });
  const srvUrl = () => srv.url;
  const rx = await startReceiver();
  const h = await startHookd({ args: ['--allow-private'] });
  try {
    await setup(h, rx);
    let r = await api(h, 'POST', '/api/v1/poll', {
      body: { uid: 'paged', url: `${srv.url}/items`, intervalSeconds: 60, app: 'shop', emitInitial: true,
        rule: { kind: 'items', path: 'items', idField: 'id' } },
    });
    assert.equal(r.status, 201, r.text);
    await rx.waitFor((x) => x.length >= 4);
    assert.deepEqual(rx.requests.map((x) => JSON.parse(x.body).id).sort(), ['a', 'b', 'c', 'd']);
    assert.deepEqual(srv.log.map((x) => x.url), ['/items', '/items?page=2', '/items?page=3']);
    assert.ok(srv.log.every((x) => x.headers['if-none-match'] === undefined));
    assert.equal((await messages(h))[0].eventType, 'poll.changed', 'the default event type');
    // a changed rule records a new baseline: nothing published, even with emitInitial
    r = await api(h, 'PATCH', '/api/v1/poll/paged', { body: { rule: { kind: 'items', path: 'items', idField: 'id', updatedField: 'v' } } });
    assert.equal(r.status, 200, r.text);
    await srv.until((l) => l.filter((x) => x.url === '/items?page=3').length >= 2);
    assert.ok(srv.log.every((x) => x.headers['if-none-match'] === undefined), 'a paginated answer is never conditional');
    await sleep(300);
    assert.equal(rx.requests.length, 4);

    r = await api(h, 'POST', '/api/v1/poll', {
      body: { url: `${srv.url}/endless`, intervalSeconds: 60, app: 'shop', emitInitial: true,
        rule: { kind: 'items', path: '.', idField: 'key' } },
    });
    assert.equal(r.status, 201, r.text);
    await rx.waitFor((x) => x.length >= 14);
    await sleep(500);
    assert.equal(srv.log.filter((x) => x.url.startsWith('/endless')).length, 10, 'at most 10 pages a poll');
    assert.equal(rx.requests.length, 14);
  } finally { await h.stop(); h.cleanup(); await rx.close(); await srv.close(); }
});

test('errors back off exponentially, 429 Retry-After is honoured, then the schedule resumes', async () => {
  const plan = { 2: { status: 500 }, 3: { status: 500 }, 5: { status: 429, headers: { 'retry-after': '3' } } };
  const srv = await startApi((req, n) => plan[n] ? { ...plan[n], body: '{"error":"busy"}' } : { body: { data: [{ id: 1 }] } });
  const rx = await startReceiver();
  const h = await startHookd({ args: ['--allow-private'] });
  try {
    await setup(h, rx);
    const r = await api(h, 'POST', '/api/v1/poll', {
      body: { uid: 'flaky', url: `${srv.url}/x`, intervalSeconds: 1, app: 'shop',
        rule: { kind: 'items', path: '.data', idField: 'id' } },
    });
    assert.equal(r.status, 201, r.text);
    await srv.until((l) => l.length >= 3, 10000);
    await sleep(200);
    const st = (await api(h, 'GET', '/api/v1/poll/flaky')).json.status;
    assert.equal(st.failures, 2);
    assert.match(st.lastError, /HTTP 500/);
    assert.ok(st.backoffUntil);
    await srv.until((l) => l.length >= 7, 20000);
    const gap = (i) => (srv.log[i].at - srv.log[i - 1].at) / 1000; // before request i + 1
    assert.ok(gap(1) > 0.8 && gap(1) < 1.5, `after a success: ${gap(1)} s`);
    assert.ok(gap(2) > 1.7 && gap(2) < 2.7, `after the first error: ${gap(2)} s`);
    assert.ok(gap(3) > 3.5 && gap(3) < 4.9, `after the second error: ${gap(3)} s`);
    assert.ok(gap(4) > 0.8 && gap(4) < 1.5, `after recovering: ${gap(4)} s`);
    assert.ok(gap(5) > 2.9 && gap(5) < 3.9, `after 429 Retry-After: 3: ${gap(5)} s`);
    assert.ok(gap(6) > 0.8 && gap(6) < 1.5, `after recovering again: ${gap(6)} s`);
    assert.equal(rx.requests.length, 0, 'nothing changed, nothing published');
    assert.equal((await api(h, 'GET', '/api/v1/poll/flaky')).json.status.failures, 0);
  } finally { await h.stop(); h.cleanup(); await rx.close(); await srv.close(); }
});

test('an edit that keeps the request waits out a Retry-After; one that changes the headers retries at once', async () => {
  const srv = await startApi((req) => (req.headers['x-key'] === 'good' ? { body: { data: [{ id: 1 }] } } : { status: 429, headers: { 'retry-after': '60' }, body: '{}' }));
  const rx = await startReceiver();
  const h = await startHookd({ args: ['--allow-private'] });
  try {
    await setup(h, rx);
    const r = await api(h, 'POST', '/api/v1/poll', {
      body: { uid: 'slow', url: `${srv.url}/x`, intervalSeconds: 1, app: 'shop', headers: { 'X-Key': 'bad' },
        rule: { kind: 'items', path: '.data', idField: 'id' } },
    });
    assert.equal(r.status, 201, r.text);
    await srv.until((l) => l.length >= 1);
    await sleep(300);
    assert.equal((await api(h, 'PATCH', '/api/v1/poll/slow', { body: { intervalSeconds: 2 } })).status, 200);
    await sleep(1500);
    assert.equal(srv.log.length, 1, 'the API asked for 60 s');
    assert.equal((await api(h, 'PATCH', '/api/v1/poll/slow', { body: { headers: { 'X-Key': 'good' } } })).status, 200);
    await srv.until((l) => l.length >= 2, 5000);
    assert.equal(srv.log[1].headers['x-key'], 'good');
  } finally { await h.stop(); h.cleanup(); await rx.close(); await srv.close(); }
});

test('poll sources are validated, and private addresses are refused without --allow-private', async () => {
  const srv = await startApi(() => ({ body: [] }));
  const h = await startHookd();
  try {
    assert.equal((await api(h, 'POST', '/api/v1/app', { body: { name: 'Shop', uid: 'shop' } })).status, 201);
    const rule = { kind: 'items', idField: 'id' };
    const bad = [
      [{ app: 'shop', rule }, 'url'],
      [{ url: 'ftp://x/y', app: 'shop', rule }, 'url'],
      [{ url: `${srv.url}/`, app: 'nope', rule }, 'app'],
      [{ url: `${srv.url}/`, app: 'shop' }, 'rule'],
      [{ url: `${srv.url}/`, app: 'shop', rule: { kind: 'items' } }, 'rule'],
      [{ url: `${srv.url}/`, app: 'shop', rule: { kind: 'diff' } }, 'rule'],
      [{ url: `${srv.url}/`, app: 'shop', rule, intervalSeconds: 0 }, 'intervalSeconds'],
      [{ url: `${srv.url}/`, app: 'shop', rule, method: 'DELETE' }, 'method'],
      [{ url: `${srv.url}/`, app: 'shop', rule, headers: { 'X-A': 'a\r\nb' } }, 'headers'],
      [{ url: `${srv.url}/`, app: 'shop', rule, headers: { Host: 'x' } }, 'headers'],
      [{ url: `${srv.url}/`, app: 'shop', rule, body: { q: 1 } }, 'body'],
      [{ url: `${srv.url}/`, app: 'shop', rule, uid: 'poll_x' }, 'uid'],
    ];
    for (const [body, field] of bad) {
      const r = await api(h, 'POST', '/api/v1/poll', { body });
      assert.equal(r.status, 422, `${JSON.stringify(body)}: ${r.text}`);
      assert.ok(r.json.detail.some((d) => d.loc[1] === field), `${field}: ${r.text}`);
    }
    let r = await api(h, 'POST', '/api/v1/poll', {
      body: { uid: 'local', url: `${srv.url}/`, app: 'shop', rule, intervalSeconds: 1, headers: { 'X-Key': 'k1' } },
    });
    assert.equal(r.status, 201, r.text);
    for (let i = 0; i < 100; i++) {
      r = await api(h, 'GET', '/api/v1/poll/local');
      if (r.json.status.failures > 0) break;
      await sleep(50);
    }
    assert.match(r.json.status.lastError, /not allowed/);
    assert.equal(srv.log.length, 0, 'nothing reached the private address');
    // PATCH keeps what it does not name; a masked header sent back keeps its secret
    r = await api(h, 'PATCH', '/api/v1/poll/local', { body: { disabled: true, headers: { 'X-Key': '********', 'X-B': 'b' } } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.disabled, true);
    assert.equal(r.json.intervalSeconds, 1);
    assert.deepEqual(r.json.headers, { 'X-Key': '********', 'X-B': '********' });
    r = await api(h, 'PUT', '/api/v1/poll/by-put', { body: { url: `${srv.url}/`, app: 'shop', rule, disabled: true } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.uid, 'by-put');
    assert.equal(r.json.intervalSeconds, 60);
    assert.equal((await api(h, 'POST', '/api/v1/poll', { body: { uid: 'by-put', url: `${srv.url}/`, app: 'shop', rule } })).status, 409);
  } finally { await h.stop(); h.cleanup(); await srv.close(); }
});
