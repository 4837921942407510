// Issue: foundation. What was written before a SIGTERM is there after a restart; one process per database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Svix } from 'svix';
import { startHookd, api, BIN, backend, psql, skipOn } from './lib/hookd.mjs';

test('data survives SIGTERM and restart', async () => {
  const h = await startHookd();
  const svix = new Svix(h.token, { serverUrl: h.url });
  const app = await svix.application.create({ name: 'Durable', uid: 'durable' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://example.com/x' });
  const { code } = await h.stop('SIGTERM');
  assert.equal(code, 0, 'clean shutdown exits 0');

  const h2 = await startHookd({ dir: h.dir });
  try {
    const svix2 = new Svix(h2.token, { serverUrl: h2.url });
    assert.equal((await svix2.application.get('durable')).id, app.id);
    assert.equal((await svix2.endpoint.get(app.id, ep.id)).url, 'https://example.com/x');
  } finally {
    await h2.stop();
    h2.cleanup();
  }
});

test('a second hookd on the same database refuses to start', skipOn('postgres', 'nodes share a PostgreSQL database by design'), async () => {
  const h = await startHookd();
  try {
    const r = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', '--db', h.db], { encoding: 'utf8', timeout: 5000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /in use by another hookd/);
  } finally {
    await h.stop();
    h.cleanup();
  }
});

test('without --token hookd makes one, keeps its hash, writes hookd.token and prints it each start', async () => {
  const h = await startHookd({ token: null });
  const first = h.token;
  assert.match(first, /^hk_[0-9a-f]{48}$/);
  assert.equal((await api(h, 'GET', '/api/v1/app')).status, 200);
  await h.stop();
  const h2 = await startHookd({ dir: h.dir, token: null });
  try {
    assert.equal(h2.token, first);
    assert.equal((await api(h2, 'GET', '/api/v1/app')).status, 200);
    const { readFileSync, statSync } = await import('node:fs');
    assert.equal(readFileSync(`${h.dir}/hookd.token`, 'utf8').trim(), first);
    assert.equal(statSync(`${h.dir}/hookd.token`).mode & 0o777, 0o600);
    const { execFileSync } = await import('node:child_process');
    const dump = backend === 'postgres'
      ? psql('SELECT key, value FROM meta; SELECT body FROM doc', h.db)
      : execFileSync('sqlite3', [`${h.dir}/hookd.db`, '.dump'], { encoding: 'utf8' });
    assert.ok(!dump.includes(first), 'the token itself is not stored in the database');
  } finally {
    await h2.stop();
    h2.cleanup();
  }
});
