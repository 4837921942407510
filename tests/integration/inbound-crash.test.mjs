// Issue: inbound gateway. kill -9 right after a 200: the event is kept and routed after a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { startHookd, api } from './lib/hookd.mjs';
import { startReceiver } from './lib/receiver.mjs';

test('kill -9 after the 200: the event is still there and routed after restart', async () => {
  const rx = await startReceiver();
  // an api-only node stores and acknowledges, but routes into no dispatcher: the restart delivers
  const h = await startHookd({ args: ['--role', 'api', '--allow-private'] });
  let h2;
  try {
    await api(h, 'POST', '/api/v1/app', { body: { name: 'K', uid: 'k' } });
    await api(h, 'POST', '/api/v1/app/k/endpoint', { body: { url: rx.url } });
    await api(h, 'POST', '/api/v1/source', { body: { uid: 'gh', provider: 'github', secrets: ['s3cret'], routes: [{ app: 'k' }] } });
    const ids = [];
    for (let i = 0; i < 20; i++) {
      const body = JSON.stringify({ i });
      const res = await fetch(`${h.url}/in/gh`, { method: 'POST', body, headers: { 'x-hub-signature-256': await octokitSign('s3cret', body), 'x-github-event': 'push', 'x-github-delivery': `d${i}`, 'x-github-hook-id': '1' } });
      assert.equal(res.status, 200);
      ids.push((await res.json()).id);
    }
    h.child.kill('SIGKILL');
    await h.stop();
    h2 = await startHookd({ dir: h.dir, args: ['--allow-private'] });
    const list = (await api(h2, 'GET', '/api/v1/source/gh/event?limit=100')).json.data.map((e) => e.id);
    for (const id of ids) assert.ok(list.includes(id), `event ${id} kept`);
    await rx.waitFor((q) => q.length >= 20, 15000);
    const got = rx.requests.map((r) => JSON.parse(r.body).i).sort((a, b) => a - b);
    assert.deepEqual([...new Set(got)], Array.from({ length: 20 }, (_, i) => i));
  } finally {
    if (h2) { await h2.stop(); h2.cleanup(); } else h.cleanup();
    await rx.close();
  }
});
