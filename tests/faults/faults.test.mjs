// Fault injection: misbehaving receivers, a full disk, and kill -9 at random moments under load.
// Each check: nothing acknowledged is lost, nothing is duplicated beyond at-least-once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHookd, api, psql } from '../integration/lib/hookd.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// a receiver on a raw socket: misbehave(n) decides what attempt n gets
async function rawReceiver(misbehave) {
  const seen = [];
  const server = net.createServer((sock) => {
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number((buf.match(/content-length: (\d+)/i) || [])[1] || 0);
      if (buf.length < end + 4 + len) return;
      const id = (buf.match(/webhook-id: (\S+)/i) || [])[1];
      buf = '';
      seen.push(id);
      const how = misbehave(seen.filter((x) => x === id).length);
      const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
      switch (how) {
        case 'ok': sock.write(ok); break;
        case '500': sock.write('HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n'); break;
        case 'hang': break;
        case 'reset': sock.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart'); setTimeout(() => sock.resetAndDestroy(), 20); break;
        case 'endless': {
          sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
          const t = setInterval(() => { if (sock.destroyed) clearInterval(t); else sock.write('400\r\n' + 'x'.repeat(1024) + '\r\n'); }, 5);
          sock.on('close', () => clearInterval(t));
          break;
        }
        case 'slow-ok': setTimeout(() => sock.write(ok), 1500); break;
        case 'close': sock.destroy(); break;
      }
    });
    sock.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => { server.close(r); server.unref(); }) };
}

test('receivers that fail in every way: deliveries retry until they land, each message at least once', async () => {
  const kinds = ['500', 'hang', 'reset', 'endless', 'slow-ok', 'close'];
  const h = await startHookd({ args: ['--allow-private', '--request-timeout', '2', '--retry-schedule', '200ms,200ms,200ms,200ms', '--circuit-cooldown', '200ms'] });
  const rxs = {};
  try {
    await api(h, 'POST', '/api/v1/app', { body: { name: 'F', uid: 'f' } });
    for (const k of kinds) {
      rxs[k] = await rawReceiver((n) => (k === 'slow-ok' ? 'slow-ok' : n <= 2 ? k : 'ok'));
      const r = await api(h, 'POST', '/api/v1/app/f/endpoint', { body: { url: rxs[k].url, uid: `ep-${k}` } });
      assert.equal(r.status, 201);
    }
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push((await api(h, 'POST', '/api/v1/app/f/msg', { body: { eventType: 'f.x', payload: { i } } })).json.id);
    for (const k of kinds) {
      // once a circuit opens, each failed probe doubles its 200 ms cool-down (five times
      // here), and a hanging probe takes the 2 s timeout: the slowest kinds land 20-25 s
      // after the publishes on a quiet machine, so each kind gets up to 30 s more
      let done = false;
      for (let t = 0; t < 300 && !done; t++) {
        const list = (await api(h, 'GET', `/api/v1/app/f/endpoint/ep-${k}/msg?limit=10`)).json.data;
        done = list.length === 5 && list.every((m) => m.status === 0);
        if (!done) await sleep(100);
      }
      assert.ok(done, `every message reached the '${k}' receiver`);
      for (const id of ids) assert.ok(rxs[k].seen.includes(id), `${id} seen by '${k}'`);
      const attempts = (await api(h, 'GET', `/api/v1/app/f/attempt/endpoint/ep-${k}?limit=100`)).json.data;
      for (const id of ids) {
        // exactly one success, and it is the last attempt: no redelivery after it landed
        const mine = attempts.filter((a) => a.msgId === id).sort((x, y) => x.timestamp.localeCompare(y.timestamp));
        assert.equal(mine.filter((a) => a.status === 0).length, 1, `'${k}': one success for ${id}`);
        assert.equal(mine[mine.length - 1].status, 0, `'${k}': nothing after the success of ${id}`);
      }
    }
  } finally {
    await h.stop(); h.cleanup();
    for (const r of Object.values(rxs)) await r.close();
  }
});

test('a full disk answers 503 to publishers, loses nothing acknowledged, and recovers when space returns', async () => {
  const h = await startHookd({ args: ['--role', 'api'] });
  try {
    await api(h, 'POST', '/api/v1/app', { body: { name: 'D', uid: 'd' } });
    const pid = String(h.child.pid);
    const size = (f) => { try { return statSync(`${h.dir}/${f}`).size; } catch { return 0; } };
    // cap the file size hookd may write at what is there now: the next growth fails
    const cap = Math.max(size('hookd.db'), size('hookd.db-wal')) + 4096;
    execFileSync('prlimit', ['--pid', pid, `--fsize=${cap}:unlimited`]);
    const acked = [];
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const r = await api(h, 'POST', '/api/v1/app/d/msg', { body: { eventType: 'd.f', payload: { i, pad: 'x'.repeat(500) } } });
      if (r.status === 202) acked.push(r.json.id);
      else { assert.equal(r.status, 503, r.text); assert.ok(r.headers.get('retry-after')); refused++; }
    }
    assert.ok(refused > 0, 'the disk filled up');
    execFileSync('prlimit', ['--pid', pid, '--fsize=unlimited:unlimited']);
    let ok = 0;
    for (let i = 0; i < 20; i++) {
      const r = await api(h, 'POST', '/api/v1/app/d/msg', { body: { eventType: 'd.f', payload: { after: i } } });
      if (r.status === 202) { acked.push(r.json.id); ok++; }
      else await sleep(200);
    }
    assert.ok(ok > 0, 'publishing works again');
    for (const id of acked) assert.equal((await api(h, 'GET', `/api/v1/app/d/msg/${id}`)).status, 200, `${id} kept`);
  } finally { await h.stop(); h.cleanup(); }
});

test('kill -9 at random moments under load, 10 rounds: every acknowledged message is delivered', async () => {
  const got = new Set();
  const server = (await import('node:http')).createServer((req, res) => { got.add(req.headers['webhook-id']); req.resume(); res.end('ok'); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const acked = new Set();
  let h = await startHookd({ args: ['--allow-private', '--retry-schedule', '100ms,200ms,500ms'] });
  const dir = h.dir;
  try {
    await api(h, 'POST', '/api/v1/app', { body: { name: 'K', uid: 'k' } });
    await api(h, 'POST', '/api/v1/app/k/endpoint', { body: { url } });
    for (let round = 0; round < 10; round++) {
      if (round > 0) h = await startHookd({ dir, args: ['--allow-private', '--retry-schedule', '100ms,200ms,500ms'] });
      let stop = false;
      const cur = h;
      const pub = async () => {
        while (!stop) {
          try {
            const r = await api(cur, 'POST', '/api/v1/app/k/msg', { body: { eventType: 'k.r', payload: { round } } });
            if (r.status === 202) acked.add(r.json.id);
          } catch { return; }
        }
      };
      const workers = [pub(), pub(), pub(), pub()];
      await sleep(100 + Math.floor(Math.random() * 400));
      h.child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await h.stop();
    }
    h = await startHookd({ dir, args: ['--allow-private', '--retry-schedule', '100ms,200ms,500ms'] });
    for (let t = 0; t < 300 && [...acked].some((id) => !got.has(id)); t++) await sleep(100);
    const missing = [...acked].filter((id) => !got.has(id));
    assert.deepEqual(missing, [], `${acked.size} acknowledged`);
  } finally {
    await h.stop(); h.cleanup();
    server.close();
  }
});

// ownPostgres starts a PostgreSQL server of the test's own (tests/pg.sh): a restart must not
// disturb other tests
function ownPostgres() {
  const pgsh = fileURLToPath(new URL('../pg.sh', import.meta.url));
  const env = execFileSync(pgsh, ['start']).toString();
  const dir = env.match(/^HOOKD_PG_DIR=(.*)$/m)[1];
  return {
    db: env.match(/^HOOKD_TEST_DB=(.*)$/m)[1],
    restart: () => new Promise((resolve, reject) => execFile(pgsh, ['restart', dir], (err) => (err ? reject(err) : resolve()))),
    stop: () => execFileSync(pgsh, ['stop', dir]),
  };
}

// callsAcrossRestart makes total calls from `clients` concurrent clients and restarts pg once a
// third of them have begun. call(i) resolves to what an accepted call gave (anything but
// null/undefined) or to null; a call that throws counts as refused.
async function callsAcrossRestart(pg, total, clients, call) {
  const accepted = [];
  let next = 0, refused = 0;
  const client = async () => {
    for (let i = next++; i < total; i = next++) {
      const got = await call(i).catch(() => null);
      if (got !== null && got !== undefined) accepted.push(got); else refused++;
    }
  };
  const restart = (async () => {
    while (next < total / 3) await sleep(10);
    await pg.restart();
  })();
  await Promise.all([...Array.from({ length: clients }, client), restart]);
  return { accepted, refused };
}

test('PostgreSQL restarted during a stream of publishes: every acknowledged message is delivered, the node carries on', async (t) => {
  const pg = ownPostgres(), db = pg.db;
  const seen = new Set();
  const rx = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => { seen.add(req.headers['webhook-id']); res.end('ok'); });
  });
  await new Promise((r) => rx.listen(0, '127.0.0.1', r));
  let h;
  try {
    h = await startHookd({ db, args: ['--allow-private', '--retry-schedule', '500ms,1s,1s,2s,2s'] });
    assert.equal((await api(h, 'POST', '/api/v1/app', { body: { name: 'R', uid: 'r' } })).status, 201);
    const ep = await api(h, 'POST', '/api/v1/app/r/endpoint', { body: { url: `http://127.0.0.1:${rx.address().port}/hook` } });
    assert.equal(ep.status, 201);
    const { accepted, refused } = await callsAcrossRestart(pg, 3000, 16, async (i) => {
      const r = await api(h, 'POST', '/api/v1/app/r/msg', { body: { eventType: 'restart.test', payload: { i } } });
      return r.status === 202 ? r.json.id : null;
    });
    const acked = new Set(accepted);
    t.diagnostic(`restart: ${acked.size} acknowledged, ${refused} refused`);
    const deadline = Date.now() + 60000;
    const missing = () => [...acked].filter((id) => !seen.has(id));
    while (missing().length && Date.now() < deadline) await sleep(200);
    assert.deepEqual(missing(), [], 'every acknowledged message is delivered');
    // and recorded so: no delivery stays pending because its result was written during the outage
    let pending = -1;
    for (let i = 0; i < 150 && pending !== 0; i++) {
      pending = Number(psql('SELECT count(*) FROM delivery WHERE status = 1', db));
      if (pending) await sleep(200);
    }
    assert.equal(pending, 0, 'deliveries still pending after the restart');
    // the node reconnected: a new message is accepted and delivered
    const r = await api(h, 'POST', '/api/v1/app/r/msg', { body: { eventType: 'restart.test', payload: { after: true } } });
    assert.equal(r.status, 202);
    for (let i = 0; i < 100 && !seen.has(r.json.id); i++) await sleep(100);
    assert.ok(seen.has(r.json.id), 'a message published after the restart is delivered');
  } finally {
    if (h) { await h.stop(); h.cleanup(); }
    rx.close();
    pg.stop();
  }
});

test('PostgreSQL restarted while providers post: every accepted event is routed and delivered once at least', async (t) => {
  const pg = ownPostgres(), db = pg.db;
  const got = new Set();
  const rx = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { got.add(JSON.parse(body).i); res.end('ok'); });
  });
  await new Promise((r) => rx.listen(0, '127.0.0.1', r));
  let h;
  try {
    h = await startHookd({ db, args: ['--allow-private', '--retry-schedule', '500ms,1s,1s,2s,2s'] });
    assert.equal((await api(h, 'POST', '/api/v1/app', { body: { name: 'In', uid: 'in' } })).status, 201);
    assert.equal((await api(h, 'POST', '/api/v1/app/in/endpoint', { body: { url: `http://127.0.0.1:${rx.address().port}/hook` } })).status, 201);
    const src = await api(h, 'POST', '/api/v1/source', { body: { uid: 'gh', provider: 'github', secrets: ['s3cret'], routes: [{ app: 'in' }] } });
    assert.equal(src.status, 201);
    const { accepted: ok, refused } = await callsAcrossRestart(pg, 1500, 8, async (i) => {
      const body = JSON.stringify({ i });
      const sig = 'sha256=' + createHmac('sha256', 's3cret').update(body).digest('hex');
      const r = await fetch(`${h.url}/in/gh`, { method: 'POST', body, headers: { 'x-hub-signature-256': sig, 'x-github-delivery': `d-${i}`, 'x-github-event': 'push' } });
      await r.arrayBuffer();
      return r.status === 200 ? i : null;
    });
    const accepted = new Set(ok);
    t.diagnostic(`inbound restart: ${accepted.size} accepted, ${refused} refused`);
    // routed as soon as the database is back, not by the rescan for events left behind (every 30 s)
    const deadline = Date.now() + 15000;
    const missing = () => [...accepted].filter((i) => !got.has(i));
    while (missing().length && Date.now() < deadline) await sleep(200);
    assert.deepEqual(missing(), [], 'every accepted event reaches the endpoint within 15 s');
    assert.equal(Number(psql('SELECT count(*) FROM inbound WHERE status = 0', db)), 0, 'no event left unrouted');
  } finally {
    if (h) { await h.stop(); h.cleanup(); }
    rx.close();
    pg.stop();
  }
});

test('PostgreSQL restarted while a command hook is called: every accepted call runs, none stays queued', async (t) => {
  const pg = ownPostgres(), db = pg.db;
  const dir = mkdtempSync(join(tmpdir(), 'hookd-fault-hooks-'));
  const hooks = join(dir, 'hooks.json');
  writeFileSync(hooks, JSON.stringify([{ id: 'deploy', 'execute-command': '/bin/true', 'response-message': 'ok' }]));
  let h;
  try {
    h = await startHookd({ dir, db, args: ['--hooks', hooks] });
    const calls = await callsAcrossRestart(pg, 300, 8, async (i) => {
      const r = await fetch(`${h.url}/hooks/deploy`, { method: 'POST', body: JSON.stringify({ i }), headers: { 'content-type': 'application/json' } });
      await r.arrayBuffer();
      return r.status === 200 ? i : null;
    });
    const accepted = calls.accepted.length, refused = calls.refused;
    t.diagnostic(`hooks restart: ${accepted} accepted, ${refused} refused`);
    let runs = [];
    const open = () => runs.filter((r) => r.status === 'queued' || r.status === 'running');
    for (let i = 0; i < 100; i++) {
      runs = [];
      for (let iter = ''; ;) {
        const r = await api(h, 'GET', `/api/v1/hook/deploy/run?limit=250${iter ? `&iterator=${iter}` : ''}`);
        assert.equal(r.status, 200, `${r.text} ${r.headers.get('retry-after')}`);
        runs.push(...r.json.data);
        if (r.json.done || !r.json.iterator) break;
        iter = r.json.iterator;
      }
      if (runs.length >= accepted && !open().length) break;
      await sleep(200);
    }
    assert.ok(runs.length >= accepted, `${runs.length} runs for ${accepted} accepted calls`);
    assert.deepEqual(open().map((r) => r.status), [], 'no run stays queued or running');
  } finally {
    if (h) { await h.stop(); h.cleanup(); }
    pg.stop();
  }
});

test('PostgreSQL restarted while the poll bridge runs: every new item is published once', async (t) => {
  const pg = ownPostgres(), db = pg.db;
  const orders = [];
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: orders }));
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const got = new Map();
  const rx = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const id = JSON.parse(body).id;
      got.set(id, (got.get(id) || 0) + 1);
      res.end('ok');
    });
  });
  await new Promise((r) => rx.listen(0, '127.0.0.1', r));
  let h;
  try {
    h = await startHookd({ db, args: ['--allow-private'] });
    assert.equal((await api(h, 'POST', '/api/v1/app', { body: { name: 'P', uid: 'p' } })).status, 201);
    assert.equal((await api(h, 'POST', '/api/v1/app/p/endpoint', { body: { url: `http://127.0.0.1:${rx.address().port}/hook` } })).status, 201);
    const created = await api(h, 'POST', '/api/v1/poll', {
      body: {
        uid: 'orders', url: `http://127.0.0.1:${srv.address().port}/orders`, intervalSeconds: 1, app: 'p',
        eventType: 'order.new', emitInitial: true, rule: { kind: 'items', path: '.data', idField: 'id' },
      },
    });
    assert.equal(created.status, 201, created.text);
    // a new order every 100 ms for 6 s; the database restarts in the middle
    for (let i = 1; i <= 60; i++) {
      orders.push({ id: i });
      if (i === 30) await pg.restart();
      await sleep(100);
    }
    const deadline = Date.now() + 30000;
    while (got.size < orders.length && Date.now() < deadline) await sleep(200);
    t.diagnostic(`poll restart: ${got.size} of ${orders.length} items delivered`);
    assert.deepEqual(orders.filter((o) => !got.has(o.id)).map((o) => o.id), [], 'every item is published');
    await sleep(1500); // a few more polls: nothing new, nothing again
    assert.deepEqual([...got.values()].filter((n) => n !== 1), [], 'each item once');
  } finally {
    if (h) { await h.stop(); h.cleanup(); }
    rx.close();
    srv.close();
    pg.stop();
  }
});
