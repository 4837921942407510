// Deliveries per second with and without a trivial transformation, on one hookd, in one run.
// Usage: node bench/transform.mjs [messages] [endpoints]   (HOOKD_BIN selects the binary)
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.argv[2] || 2000);       // messages per scenario
const FAN = Number(process.argv[3] || 4);        // endpoints per app: N * FAN deliveries
const CONC = 32;                                 // publishes in flight
const BIN = process.env.HOOKD_BIN || new URL('../hookd', import.meta.url).pathname;
const TOKEN = 'bench-token';
const TRIVIAL = 'function handler(webhook) webhook.payload.seen = true return webhook end';

async function start() {
  const dir = mkdtempSync(join(tmpdir(), 'hookd-bench-'));
  const child = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--db', `sqlite:${join(dir, 'hookd.db')}`,
    '--token', TOKEN, '--allow-private', '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => { out += d; const m = out.match(/listening on (http:\/\/[\d.]+:\d+)/); if (m) resolve(m[1]); });
    child.on('exit', (c) => reject(new Error(`hookd exited ${c}`)));
  });
  return { url, child, dir };
}

async function call(h, method, path, body) {
  const res = await fetch(h.url + path, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

// sink counts deliveries per app (by path) and remembers when the last arrived
function sink() {
  const counts = new Map(), last = new Map(), waiters = [];
  const agent = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const k = req.url;
      counts.set(k, (counts.get(k) || 0) + 1);
      last.set(k, performance.now());
      res.writeHead(204); res.end();
      for (const w of [...waiters]) if ((counts.get(w.k) || 0) >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    });
  });
  agent.keepAliveTimeout = 60000;
  return new Promise((r) => agent.listen(0, '127.0.0.1', () => r({
    url: `http://127.0.0.1:${agent.address().port}`, last,
    wait: (k, n) => ((counts.get(k) || 0) >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ k, n, resolve }))),
    close: () => new Promise((r2) => { agent.closeAllConnections?.(); agent.close(r2); }),
  })));
}

async function scenario(h, rx, name, code) {
  const app = await call(h, 'POST', '/api/v1/app', { name });
  for (let i = 0; i < FAN; i++) {
    const ep = await call(h, 'POST', `/api/v1/app/${app.id}/endpoint`, { url: `${rx.url}/${name}` });
    if (code) await call(h, 'PUT', `/api/v1/app/${app.id}/endpoint/${ep.id}/transformation`, { code });
  }
  const payload = { id: 'ord_123', amount: 4200, currency: 'EUR', customer: { id: 'cus_9', email: 'a@example.com' }, items: [{ sku: 'A', qty: 2 }, { sku: 'B', qty: 1 }] };
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONC }, async () => {
    while (next < N) { next++; await call(h, 'POST', `/api/v1/app/${app.id}/msg`, { eventType: 'order.created', payload }); }
  }));
  await rx.wait(`/${name}`, N * FAN);
  const secs = (rx.last.get(`/${name}`) - t0) / 1000;
  return { name, deliveries: N * FAN, secs, rate: (N * FAN) / secs };
}

const h = await start();
const rx = await sink();
try {
  await scenario(h, rx, 'warmup', null);
  const results = [];
  for (let round = 0; round < 3; round++) {            // interleaved, so drift hits both alike
    results.push(await scenario(h, rx, `none${round}`, null));
    results.push(await scenario(h, rx, `script${round}`, TRIVIAL));
  }
  const sum = (p) => results.filter((r) => r.name.startsWith(p)).reduce((a, r) => ({ d: a.d + r.deliveries, s: a.s + r.secs }), { d: 0, s: 0 });
  const none = sum('none'), script = sum('script');
  const rNone = none.d / none.s, rScript = script.d / script.s;
  for (const r of results) console.log(`${r.name.padEnd(8)} ${r.deliveries} deliveries in ${r.secs.toFixed(2)} s = ${r.rate.toFixed(0)}/s`);
  console.log(`none:   ${rNone.toFixed(0)} deliveries/s`);
  console.log(`script: ${rScript.toFixed(0)} deliveries/s`);
  console.log(`change: ${(((rScript - rNone) / rNone) * 100).toFixed(1)} %`);
  console.log(JSON.stringify({ none: Math.round(rNone), script: Math.round(rScript), messages: N, endpoints: FAN }));
} finally {
  await rx.close();
  h.child.kill('SIGTERM');
  rmSync(h.dir, { recursive: true, force: true });
}
