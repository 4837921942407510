// Server-sent events: GET /api/v1/stream shows messages, attempts and inbound events as they happen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Svix } from 'svix';
import { startHookd, api } from './lib/hookd.mjs';
import { startReceiver } from './lib/receiver.mjs';

// readEvents collects SSE events from a fetch body until pred(events) holds
async function readEvents(res, pred, timeoutMs = 5000) {
  const events = [];
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const deadline = Date.now() + timeoutMs;
  while (!pred(events)) {
    if (Date.now() > deadline) throw new Error(`timed out with ${JSON.stringify(events)}`);
    const { value, done } = await Promise.race([reader.read(), new Promise((r) => setTimeout(() => r({}), 200))]);
    if (done) break;
    if (!value) continue;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const ev = {};
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) ev.event = line.slice(7);
        if (line.startsWith('data: ')) ev.data = JSON.parse(line.slice(6));
      }
      if (ev.event) events.push(ev);
    }
  }
  reader.cancel().catch(() => {});
  return events;
}

test('the stream shows a message and its attempt within a second, filtered by app, token in the query', async () => {
  const rx = await startReceiver();
  const h = await startHookd({ args: ['--allow-private'] });
  try {
    const svix = new Svix(h.token, { serverUrl: h.url });
    const app = await svix.application.create({ name: 'S', uid: 'streamed' });
    const other = await svix.application.create({ name: 'O' });
    await svix.endpoint.create(app.id, { url: rx.url });
    assert.equal((await fetch(`${h.url}/api/v1/stream`)).status, 401);
    const res = await fetch(`${h.url}/api/v1/stream?app=streamed&access_token=${h.token}`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /text\/event-stream/);
    const t0 = Date.now();
    await svix.message.create(other.id, { eventType: 'not.mine', payload: {} });
    const msg = await svix.message.create(app.id, { eventType: 'mine', payload: {} });
    const events = await readEvents(res, (e) => e.some((x) => x.event === 'attempt'));
    assert.ok(Date.now() - t0 < 2000);
    assert.deepEqual(events.map((e) => e.event), ['message', 'attempt']);
    assert.equal(events[0].data.id, msg.id);
    assert.equal(events[1].data.msgId, msg.id);
    assert.equal(events[1].data.responseStatusCode, 200);
  } finally { await h.stop(); h.cleanup(); await rx.close(); }
});

test('a server with an open stream still stops cleanly', async () => {
  const h = await startHookd();
  const res = await fetch(`${h.url}/api/v1/stream`, { headers: { authorization: `Bearer ${h.token}` } });
  assert.equal(res.status, 200);
  const { code } = await h.stop();
  assert.equal(code, 0);
  h.cleanup();
});
