// The dashboard's files over HTTP: public, GET only, typed, with ETags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startHookd } from './lib/hookd.mjs';

test('the dashboard is served at / and /ui/ with types, ETags and a strict policy', async () => {
  const h = await startHookd();
  try {
    const root = await fetch(`${h.url}/`);
    assert.equal(root.status, 200);
    assert.equal(root.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await root.text(), /<script type="module" src="\/ui\/js\/main.js">/);
    assert.equal(root.headers.get('cache-control'), 'no-cache');
    assert.match(root.headers.get('content-security-policy'), /default-src 'self'/);
    assert.equal(root.headers.get('x-frame-options'), 'DENY');
    const etag = root.headers.get('etag');
    assert.match(etag, /^"\d+-\d+"$/);
    const again = await fetch(`${h.url}/`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const same = await fetch(`${h.url}/ui/index.html`);
    assert.equal(same.headers.get('etag'), etag);

    for (const [path, type] of [['/ui/js/main.js', 'text/javascript'], ['/ui/js/pages/overview.js', 'text/javascript'],
      ['/ui/app.css', 'text/css'], ['/ui/vendor/uPlot.iife.min.js', 'text/javascript'], ['/ui/favicon.svg', 'image/svg+xml']]) {
      const r = await fetch(h.url + path);
      assert.equal(r.status, 200, path);
      assert.ok(r.headers.get('content-type').startsWith(type), path);
      await r.arrayBuffer();
    }
    for (const path of ['/ui/nope.js', '/ui/package.json', '/ui/..%2fhookd.token', '/ui/js/../../hookd.token']) {
      const r = await fetch(h.url + path);
      assert.equal(r.status, 404, path);
      assert.equal((await r.json()).code, 'not_found');
    }
    const post = await fetch(`${h.url}/`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
  } finally {
    await h.stop();
    h.cleanup();
  }
});
