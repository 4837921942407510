// Issue: delivery engine. Endpoints on non-public addresses are refused at connect time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Svix } from 'svix';
import { startHookd } from './lib/hookd.mjs';
import { startReceiver, sleep } from './lib/receiver.mjs';

test('an endpoint on 127.0.0.1 is refused without --allow-private', async () => {
  const h = await startHookd({ args: ['--retry-schedule', '10s'] });
  const rx = await startReceiver();
  try {
    const svix = new Svix(h.token, { serverUrl: h.url });
    const app = await svix.application.create({ name: 'Ssrf' });
    const ep = await svix.endpoint.create(app.id, { url: rx.url });
    const local = await svix.endpoint.create(app.id, { url: `http://localhost:${rx.port}/by-name` });
    const msg = await svix.message.create(app.id, { eventType: 's.s', payload: {} });
    let atts = { data: [] };
    for (let i = 0; i < 40 && atts.data.length < 2; i++) {
      await sleep(50);
      atts = await svix.messageAttempt.listByMsg(app.id, msg.id);
    }
    assert.equal(atts.data.length, 2);
    for (const a of atts.data) {
      assert.equal(a.responseStatusCode, 0);
      assert.match(a.response, /not allowed/);
    }
    assert.ok([ep.id, local.id].every((id) => atts.data.some((a) => a.endpointId === id)));
    assert.equal(rx.requests.length, 0, 'nothing reached the receiver');
  } finally { await rx.close(); await h.stop(); h.cleanup(); }
});

test('--allow-cidr opens one network', async () => {
  const h = await startHookd({ args: ['--allow-cidr', '127.0.0.0/8'] });
  const rx = await startReceiver();
  try {
    const svix = new Svix(h.token, { serverUrl: h.url });
    const app = await svix.application.create({ name: 'Cidr' });
    await svix.endpoint.create(app.id, { url: rx.url });
    await svix.message.create(app.id, { eventType: 's.s', payload: {} });
    await rx.waitFor((r) => r.length >= 1);
  } finally { await rx.close(); await h.stop(); h.cleanup(); }
});
