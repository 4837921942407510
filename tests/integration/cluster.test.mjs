// Issue: scale out on PostgreSQL. Several hookd nodes on one database: no lost or stuck
// deliveries when a node dies, and an endpoint's throttleRate holds across nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHookd, api, backend, psql, newDatabase } from './lib/hookd.mjs';
import { sleep } from './lib/receiver.mjs';

const pgOnly = backend === 'postgres' ? {} : { skip: 'PostgreSQL only (HOOKD_TEST_DB)' };
const LEASE = 3;
const args = ['--allow-private', '--lease-seconds', String(LEASE), '--retry-schedule', '1s,2s,4s'];

// counting receiver: webhook-id -> successful deliveries and the first one's time. With
// failFirst(id) true it answers that message's first attempt 503, so nodes always hold
// scheduled retries (leased work in memory) when one of them is killed.
async function countingReceiver({ failFirst = () => false } = {}) {
  const seen = new Map();
  const first = new Map();
  const tried = new Set();
  const times = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const id = req.headers['webhook-id'];
      if (!tried.has(id)) {
        tried.add(id);
        if (failFirst(id)) {
          res.writeHead(503);
          res.end('later');
          return;
        }
      }
      seen.set(id, (seen.get(id) || 0) + 1);
      if (!first.has(id)) first.set(id, Date.now());
      times.push(Date.now());
      res.writeHead(200);
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 30000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}/hook`, seen, first, times,
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

async function startNodes(n, extra = []) {
  const first = await startHookd({ args: [...args, ...extra] });
  const nodes = [first];
  for (let i = 1; i < n; i++) {
    nodes.push(await startHookd({ dir: mkdtempSync(join(tmpdir(), 'hookd-node-')), db: first.db, args: [...args, ...extra] }));
  }
  return nodes;
}

async function stopAll(nodes) {
  for (const h of nodes) await h.stop();
  for (const h of nodes) h.cleanup();
}

test('three nodes, 20,000 messages, one node killed mid-lease: every message delivered', pgOnly, async (t) => {
  const rx = await countingReceiver({ failFirst: (id) => id.charCodeAt(id.length - 1) % 8 === 0 });
  const nodes = await startNodes(3);
  try {
    const [a] = nodes;
    assert.equal((await api(a, 'POST', '/api/v1/app', { body: { name: 'Cluster', uid: 'cluster' } })).status, 201);
    const ep = await api(a, 'POST', '/api/v1/app/cluster/endpoint', { body: { url: rx.url } });
    assert.equal(ep.status, 201);

    const TOTAL = 20000, WORKERS = 36;
    const acked = new Map(); // msg id -> node index that answered
    const live = [true, true, true];
    let next = 0, killedAt = 0, failedPublishes = 0;
    const publishOne = async (i) => {
      // round-robin over the live nodes; the same Idempotency-Key on a retry elsewhere
      for (let tries = 0; tries < 6; tries++) {
        const alive = [0, 1, 2].filter((k) => live[k]);
        const k = alive[(i + tries) % alive.length];
        try {
          const r = await api(nodes[k], 'POST', '/api/v1/app/cluster/msg', {
            body: { eventType: 'load.test', payload: { i } }, headers: { 'idempotency-key': `k-${i}` },
          });
          if (r.status === 202) { acked.set(r.json.id, k); return; }
        } catch { /* the node died under the request: try the next one */ }
        failedPublishes++;
        await sleep(50);
      }
      throw new Error(`message ${i} could not be published`);
    };
    const t0 = Date.now();
    const worker = async () => {
      for (let i = next++; i < TOTAL; i = next++) {
        if (i === TOTAL / 2 && !killedAt) {
          nodes[2].child.kill('SIGKILL');
          live[2] = false;
          killedAt = Date.now();
        }
        await publishOne(i);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    const published = Date.now();
    assert.equal(acked.size, TOTAL, 'every message acknowledged once (idempotency keys hold across nodes)');

    // every acknowledged message arrives; the dead node's work within its lease plus a poll
    const deadline = Date.now() + 90000;
    const missing = () => [...acked.keys()].filter((id) => !rx.seen.has(id));
    while (missing().length && Date.now() < deadline) await sleep(250);
    const done = Date.now();
    const lost = missing();
    const dups = [...rx.seen.values()].filter((n) => n > 1).length;
    const deadIds = [...acked].filter(([, k]) => k === 2).map(([id]) => id);
    const lateDead = deadIds.filter((id) => rx.first.get(id) > killedAt);
    const takeover = lateDead.length ? Math.max(...lateDead.map((id) => rx.first.get(id))) - killedAt : 0;
    t.diagnostic(`cluster: ${TOTAL} messages through 3 nodes in ${((published - t0) / 1000).toFixed(1)} s` +
      ` (${Math.round(TOTAL / ((published - t0) / 1000))}/s), all delivered ${((done - t0) / 1000).toFixed(1)} s after the start`);
    t.diagnostic(`cluster: node 3 killed (SIGKILL) after ${((killedAt - t0) / 1000).toFixed(1)} s; ${lateDead.length} of the` +
      ` ${deadIds.length} messages it had accepted were still undelivered then, and the other nodes finished them` +
      ` ${(takeover / 1000).toFixed(1)} s after the kill (lease ${LEASE} s)`);
    t.diagnostic(`cluster: ${rx.times.length} successful deliveries, ${dups} messages delivered more than once, ${failedPublishes} publishes retried on another node`);
    assert.deepEqual(lost.slice(0, 5), [], `${lost.length} messages never delivered`);
    assert.ok(lateDead.length > 0, 'the killed node held work (scheduled retries at least)');
    assert.ok(takeover <= LEASE * 1000 + 12000, `the dead node's work was taken over ${takeover} ms after the kill`);
    // no stuck work: once the attempt records are committed nothing is pending and all succeeded
    let stats;
    for (let i = 0; i < 50; i++) {
      stats = (await api(a, 'GET', `/api/v1/app/cluster/endpoint/${ep.json.id}/stats`)).json;
      if (stats.pending === 0 && stats.success === TOTAL) break;
      await sleep(100);
    }
    assert.deepEqual({ pending: stats.pending, success: stats.success }, { pending: 0, success: TOTAL });
  } finally {
    await stopAll(nodes);
    await rx.close();
  }
});

test('two nodes share an endpoint throttleRate of 50/s', pgOnly, async (t) => {
  const rx = await countingReceiver();
  const nodes = await startNodes(2);
  try {
    const [a, b] = nodes;
    assert.equal((await api(a, 'POST', '/api/v1/app', { body: { name: 'Throttle', uid: 'thr' } })).status, 201);
    const ep = await api(a, 'POST', '/api/v1/app/thr/endpoint', { body: { url: rx.url, throttleRate: 50 } });
    assert.equal(ep.status, 201);
    const pub = (h, i) => api(h, 'POST', '/api/v1/app/thr/msg', { body: { eventType: 'thr.t', payload: { i } } });
    const N = 400;
    for (let i = 0; i < N; i += 20) {
      const rs = await Promise.all(Array.from({ length: 20 }, (_, j) => pub(j % 2 ? b : a, i + j)));
      for (const r of rs) assert.equal(r.status, 202);
    }
    await new Promise((r) => { const w = () => (rx.times.length >= 1 ? r() : setTimeout(w, 20)); w(); });
    const start = rx.times[0];
    await sleep(4200 - (Date.now() - start));
    const in4 = rx.times.filter((x) => x < start + 4000).length;
    let peak = 0;
    for (const x of rx.times) peak = Math.max(peak, rx.times.filter((y) => y >= x && y < x + 1000).length);
    t.diagnostic(`throttle: two nodes, throttleRate 50: ${in4} deliveries in the first 4 s (${(in4 / 4).toFixed(1)}/s), busiest second ${peak}`);
    // token windows are wall-clock seconds: a 4 s span touches five of them, plus the burst;
    // two nodes each keeping their own 50/s would pass 400
    assert.ok(in4 <= 50 * 5 + 50, `at most ~50/s plus the one-second burst, got ${in4} in 4 s`);
    assert.ok(in4 >= 120, `deliveries keep flowing (got ${in4} in 4 s)`);
  } finally {
    await stopAll(nodes);
    await rx.close();
  }
});

test('idempotency keys and eventIds hold across nodes under concurrency', pgOnly, async () => {
  const nodes = await startNodes(2);
  try {
    const [a, b] = nodes;
    assert.equal((await api(a, 'POST', '/api/v1/app', { body: { name: 'Idem', uid: 'idem' } })).status, 201);
    const K = 25;
    const pub = (h, i, extra = {}) => api(h, 'POST', '/api/v1/app/idem/msg', {
      body: { eventType: 'i.t', payload: { i } , ...extra.body }, headers: extra.headers || {},
    });
    // the same key sent to both nodes at once: one message, the same answer from both
    const pairs = await Promise.all(Array.from({ length: K }, (_, i) =>
      Promise.all([a, b].map((h) => pub(h, i, { headers: { 'idempotency-key': `same-${i}` } })))));
    for (const [x, y] of pairs) {
      assert.equal(x.status, 202);
      assert.equal(y.status, 202);
      assert.equal(x.json.id, y.json.id);
    }
    // the same eventId at once: one accepted, the other a conflict
    const ev = await Promise.all(Array.from({ length: K }, (_, i) =>
      Promise.all([a, b].map((h) => pub(h, i, { body: { eventId: `evt-${i}` } })))));
    for (const [x, y] of ev) assert.deepEqual([x.status, y.status].sort(), [202, 409]);
    const list = await api(a, 'GET', '/api/v1/app/idem/msg?limit=250');
    assert.equal(list.json.data.length, 2 * K);
  } finally {
    await stopAll(nodes);
  }
});

test('inbound events left unrouted are routed once: by nodes starting together, and later by a live node', pgOnly, async () => {
  const { sign } = await import('@octokit/webhooks-methods');
  const a0 = await startHookd({ args: ['--role', 'api', ...args] });
  const db = a0.db;
  const count = (sql) => Number(psql(sql, db).trim());
  const N = 100;
  try {
    await api(a0, 'POST', '/api/v1/app', { body: { name: 'R', uid: 'r' } });
    await api(a0, 'POST', '/api/v1/source', { body: { uid: 'gh', provider: 'github', secrets: ['s3cret'], routes: [{ app: 'r' }] } });
    for (let i = 0; i < N; i++) {
      const body = JSON.stringify({ i });
      const res = await fetch(`${a0.url}/in/gh`, { method: 'POST', body, headers: { 'x-hub-signature-256': await sign('s3cret', body), 'x-github-event': 'push', 'x-github-delivery': `u${i}`, 'x-github-hook-id': '1' } });
      assert.equal(res.status, 200);
    }
    for (let t = 0; t < 100 && count('SELECT count(*) FROM inbound WHERE status = 0') > 0; t++) await sleep(100);
    assert.equal(count('SELECT count(*) FROM msg'), N);
  } finally {
    await a0.stop();
  }
  // what a node that died before routing leaves behind: events still "received", no messages
  const reset = (where) => psql(`DELETE FROM delivery; DELETE FROM msg; UPDATE inbound SET status = 0, routed = NULL ${where}`, db);
  reset('');
  const nodes = await Promise.all([a0.dir, mkdtempSync(join(tmpdir(), 'hookd-node-'))].map((dir) =>
    startHookd({ dir, db, args: ['--role', 'api', ...args] })));
  try {
    // both nodes recover every unrouted event at start, at the same time: each is routed once
    for (let t = 0; t < 150 && count('SELECT count(*) FROM inbound WHERE status = 0') > 0; t++) await sleep(100);
    assert.equal(count('SELECT count(*) FROM inbound WHERE status = 0'), 0);
    await sleep(500);
    assert.equal(count('SELECT count(*) FROM msg'), N);
    // events left behind while the nodes run are found by an idle router's rescan
    reset(`WHERE id IN (SELECT id FROM inbound ORDER BY id LIMIT 10)`);
    for (let t = 0; t < 600 && count('SELECT count(*) FROM inbound WHERE status = 0') > 0; t++) await sleep(100);
    assert.equal(count('SELECT count(*) FROM inbound WHERE status = 0'), 0, 'rescanned within a minute');
    await sleep(500);
    assert.equal(count('SELECT count(*) FROM msg'), 10);
  } finally {
    await stopAll(nodes);
  }
});

test('a command run belongs to its node: left alone while that node lives, taken over once when it dies', pgOnly, async () => {
  const d = mkdtempSync(join(tmpdir(), 'hookd-runs-'));
  const FIX = new URL('./fixtures/hooks/', import.meta.url).pathname;
  const done = join(d, 'done.txt');
  const file = join(d, 'hooks.json');
  writeFileSync(file, JSON.stringify([{ id: 'slow', 'execute-command': join(FIX, 'slow-append.sh'),
    'pass-arguments-to-command': [{ source: 'payload', name: 'n' }, { source: 'string', name: done }, { source: 'string', name: '3' }] }]));
  const runs = async (h) => (await api(h, 'GET', '/api/v1/hook/slow/run?limit=50')).json.data;
  const a = await startHookd({ args: [...args, '--hooks', file] });
  const b = await startHookd({ dir: mkdtempSync(join(tmpdir(), 'hookd-node-')), db: a.db, args: [...args, '--hooks', file] });
  try {
    const res = await fetch(`${a.url}/hooks/slow`, { method: 'POST', body: '{"n":"a"}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    // a third node starting now recovers runs at start: a's run is a live node's, not its own
    const c = await startHookd({ dir: mkdtempSync(join(tmpdir(), 'hookd-node-')), db: a.db, args: [...args, '--hooks', file] });
    await sleep(1000);
    await c.stop();
    c.cleanup();
    let all = await runs(b);
    assert.equal(all.length, 1);
    assert.equal(all[0].status, 'running');
    // a dies while its command runs: one of the live nodes takes the run over, once
    a.child.kill('SIGKILL');
    await a.stop();
    for (let t = 0; t < 600; t++) {
      all = await runs(b);
      if (all.some((x) => x.trigger === 'requeue' && x.status === 'succeeded')) break;
      await sleep(100);
    }
    assert.equal(all.filter((x) => x.status === 'interrupted').length, 1);
    const again = all.filter((x) => x.trigger === 'requeue');
    assert.equal(again.length, 1, 'taken over by one node');
    assert.equal(again[0].status, 'succeeded');
    assert.equal(again[0].retryOf, all.find((x) => x.status === 'interrupted').id);
  } finally {
    await a.stop('SIGKILL');
    await b.stop();
    b.cleanup();
    a.cleanup();
  }
});

test('connections to PostgreSQL cut during a stream of publishes: nothing acknowledged is lost', pgOnly, async (t) => {
  const rx = await countingReceiver();
  const [h] = await startNodes(1);
  try {
    assert.equal((await api(h, 'POST', '/api/v1/app', { body: { name: 'Cut', uid: 'cut' } })).status, 201);
    assert.equal((await api(h, 'POST', '/api/v1/app/cut/endpoint', { body: { url: rx.url } })).status, 201);
    const dbname = h.db.replace(/^.*\//, '').replace(/\?.*$/, '');
    const acked = new Set();
    let failed = 0, next = 0, cuts = 0;
    const TOTAL = 3000;
    const worker = async () => {
      for (let i = next++; i < TOTAL; i = next++) {
        const r = await api(h, 'POST', '/api/v1/app/cut/msg', { body: { eventType: 'cut.test', payload: { i } } });
        if (r.status === 202) acked.add(r.json.id); else failed++;
      }
    };
    const cutter = (async () => {
      // every connection of the node, the writer's included, ends under its feet
      while (next < TOTAL && cuts < 4) {
        await sleep(150);
        psql(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${dbname}'`);
        cuts++;
      }
    })();
    await Promise.all([...Array.from({ length: 16 }, worker), cutter]);
    t.diagnostic(`cut: ${cuts} cuts, ${acked.size} acknowledged, ${failed} refused`);
    assert.ok(cuts >= 2, 'the connections were cut during the stream');
    assert.ok(acked.size > 0);
    const deadline = Date.now() + 30000;
    const missing = () => [...acked].filter((id) => !rx.seen.has(id));
    while (missing().length && Date.now() < deadline) await sleep(200);
    assert.deepEqual(missing(), [], 'every acknowledged message is delivered');
    // and the node still works
    const r = await api(h, 'POST', '/api/v1/app/cut/msg', { body: { eventType: 'cut.test', payload: { after: true } } });
    assert.equal(r.status, 202);
  } finally { await stopAll([h]); await rx.close(); }
});

// pgProxy passes hookd's connections on to the test's PostgreSQL server and cuts one when
// told: cut({ conn, on, how }) arms it for the next statement containing `on` on a connection
// that has sent `conn` (the writer prepares "INSERT INTO msg(", the claim loop sends "LISTEN
// hookd_work"). how: 'before' closes the connection in place of sending the statement on;
// 'after' sends it and closes the connection in place of passing on the server's answer
// that completes it (the command tag `on`); 'answer' sends it and drops whatever the server
// answers first. Resolves once it cut.
const CONN_MARKS = ['INSERT INTO msg(', 'LISTEN hookd_work'];
// within resolves true once p does, or false after ms
const within = (p, ms) => new Promise((resolve) => {
  const t = setTimeout(() => resolve(false), ms);
  p.then(() => { clearTimeout(t); resolve(true); });
});
async function pgProxy(dbUrl) {
  const target = new URL(dbUrl);
  let armed = null;
  const socks = new Set();
  const server = net.createServer((client) => {
    const up = net.connect(Number(target.port), target.hostname);
    const seen = new Set();
    let waiting = null; // the armed cut, once its statement went to the server
    socks.add(client); socks.add(up);
    const cut = () => { client.destroy(); up.destroy(); const a = armed; armed = null; waiting = null; a.resolve(); };
    client.on('data', (d) => {
      const s = d.toString('latin1');
      for (const m of CONN_MARKS) if (s.includes(m)) seen.add(m);
      if (armed && !waiting && seen.has(armed.conn) && s.includes(armed.on)) {
        if (armed.how === 'before') return cut();
        waiting = armed;
      }
      up.write(d);
    });
    up.on('data', (d) => {
      if (waiting && (waiting.how === 'answer' || d.toString('latin1').includes(`${waiting.on}\0`))) return cut();
      client.write(d);
    });
    for (const [x, y] of [[client, up], [up, client]]) {
      x.on('error', () => y.destroy());
      x.on('close', () => { y.destroy(); socks.delete(x); });
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = new URL(dbUrl);
  url.port = String(server.address().port);
  return {
    url: url.toString(),
    cut({ conn, on, how }) {
      let resolve;
      const done = new Promise((r) => { resolve = r; });
      armed = { conn, on, how, resolve };
      return done;
    },
    close() { for (const x of socks) x.destroy(); server.close(); },
  };
}

test('the connection to PostgreSQL lost around a COMMIT: the publish is answered as it was stored, and delivered', pgOnly, async (t) => {
  const rx = await countingReceiver();
  const db = newDatabase();
  const proxy = await pgProxy(db);
  const h = await startHookd({ db: proxy.url, args });
  try {
    assert.equal((await api(h, 'POST', '/api/v1/app', { body: { name: 'Doubt', uid: 'doubt' } })).status, 201);
    assert.equal((await api(h, 'POST', '/api/v1/app/doubt/endpoint', { body: { url: rx.url } })).status, 201);
    for (const how of ['after', 'before']) {
      const cut = proxy.cut({ conn: 'INSERT INTO msg(', on: 'COMMIT', how });
      const r = await api(h, 'POST', '/api/v1/app/doubt/msg', { body: { eventType: 'doubt.test', payload: { how } } });
      assert.ok(await within(cut, 10000), `${how}: the COMMIT was cut`);
      // committed ('after') or run again on a new connection ('before'): stored once either way
      assert.equal(r.status, 202, `${how}: ${JSON.stringify(r.json)}`);
      assert.equal(psql(`SELECT count(*) FROM msg WHERE id = '${r.json.id}'`, db).trim(), '1');
      for (let i = 0; i < 100 && !rx.seen.has(r.json.id); i++) await sleep(100);
      assert.equal(rx.seen.get(r.json.id), 1, `${how}: delivered once`);
      let pending;
      for (let i = 0; i < 50 && pending !== '0'; i++) {
        pending = psql(`SELECT count(*) FROM delivery WHERE msg = '${r.json.id}' AND status = 1`, db).trim();
        if (pending !== '0') await sleep(100);
      }
      assert.equal(pending, '0', `${how}: the delivery is settled`);
    }
  } finally { await stopAll([h]); await rx.close(); proxy.close(); }
});

test('the claim loop\'s connection lost around a claim: the claimed deliveries are delivered, none stays leased', pgOnly, async (t) => {
  // a receiver that refuses everything until opened
  let open = false;
  const seen = new Set();
  const rx = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (!open) { res.writeHead(503); res.end('later'); return; }
      seen.add(req.headers['webhook-id']);
      res.end('ok');
    });
  });
  await new Promise((r) => rx.listen(0, '127.0.0.1', r));
  const db = newDatabase();
  const proxy = await pgProxy(db);
  try {
    for (const how of ['answer', 'after']) {
      // a node publishes, every attempt fails, and the node stops with the retries pending:
      // it gives them back for the next node to claim
      open = false;
      const a = await startHookd({ db, args });
      if (how === 'answer') {
        assert.equal((await api(a, 'POST', '/api/v1/app', { body: { name: 'Claim', uid: 'claim' } })).status, 201);
        const url = `http://127.0.0.1:${rx.address().port}/hook`;
        assert.equal((await api(a, 'POST', '/api/v1/app/claim/endpoint', { body: { url } })).status, 201);
      }
      const ids = [];
      for (let i = 0; i < 20; i++) {
        const r = await api(a, 'POST', '/api/v1/app/claim/msg', { body: { eventType: 'claim.test', payload: { how, i } } });
        assert.equal(r.status, 202);
        ids.push(r.json.id);
      }
      const inList = ids.map((id) => `'${id}'`).join(',');
      for (let i = 0; i < 50 && Number(psql(`SELECT count(*) FROM attempt WHERE msg IN (${inList})`, db)) < ids.length; i++) await sleep(100);
      await a.stop();
      a.cleanup();
      open = true;
      const cut = proxy.cut({ conn: 'LISTEN hookd_work', on: how === 'answer' ? 'SKIP LOCKED' : 'COMMIT', how });
      const b = await startHookd({ db: proxy.url, args });
      try {
        assert.ok(await within(cut, 20000), `${how}: the claim was cut`);
        for (let i = 0; i < 150 && ids.some((id) => !seen.has(id)); i++) await sleep(100);
        assert.deepEqual(ids.filter((id) => !seen.has(id)), [], `${how}: every message delivered`);
        let pending;
        for (let i = 0; i < 50 && pending !== '0'; i++) {
          pending = psql(`SELECT count(*) FROM delivery WHERE status = 1 AND msg IN (${inList})`, db).trim();
          if (pending !== '0') await sleep(100);
        }
        assert.equal(pending, '0', `${how}: no delivery left pending`);
      } finally { await b.stop(); b.cleanup(); }
    }
  } finally { rx.close(); proxy.close(); }
});
