// Issue: delivery engine. kill -9 during a stream of publishes loses no acknowledged message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Svix } from 'svix';
import { startHookd, api } from './lib/hookd.mjs';
import { startReceiver } from './lib/receiver.mjs';

test('kill -9 mid-stream: every acknowledged message arrives after a restart', async () => {
  const rx = await startReceiver();
  const h = await startHookd({ args: ['--allow-private', '--retry-schedule', '200ms,200ms,1s'] });
  const svix = new Svix(h.token, { serverUrl: h.url });
  const app = await svix.application.create({ name: 'Crash', uid: 'crash' });
  await svix.endpoint.create(app.id, { url: rx.url });
  const acked = new Set();
  let stop = false, killed = false;
  const publisher = async (w) => {
    for (let i = 0; !stop; i++) {
      try {
        const r = await api(h, 'POST', '/api/v1/app/crash/msg', { body: { eventType: 'c.r', payload: { w, i } } });
        if (r.status === 202) acked.add(r.json.id);
      } catch { if (killed) return; }
    }
  };
  const workers = Array.from({ length: 8 }, (_, w) => publisher(w));
  while (acked.size < 300) await new Promise((r) => setTimeout(r, 5));
  h.child.kill('SIGKILL');
  killed = true;
  stop = true;
  await Promise.all(workers);
  await h.stop();
  const ackedBefore = acked.size;
  assert.ok(ackedBefore >= 300);

  const h2 = await startHookd({ dir: h.dir, args: ['--allow-private', '--retry-schedule', '200ms,200ms,1s'] });
  try {
    const received = () => new Set(rx.requests.map((r) => r.headers['webhook-id']));
    await rx.waitFor(() => [...acked].every((id) => received().has(id)), 20000);
    const got = received();
    const missing = [...acked].filter((id) => !got.has(id));
    assert.deepEqual(missing, []);
  } finally {
    await h2.stop();
    h2.cleanup();
    await rx.close();
  }
});
