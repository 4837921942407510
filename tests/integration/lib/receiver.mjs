// A webhook receiver for tests: records every request and answers as the test says.
import http from 'node:http';

// startReceiver({ respond }) — respond(req, body, n) returns { status, headers, body, delayMs, hang }.
export async function startReceiver({ respond } = {}) {
  const requests = [];
  const waiters = [];
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const rec = { method: req.method, url: req.url, headers: req.headers, body, at: Date.now() };
      requests.push(rec);
      const a = (respond && respond(rec, requests.length)) || {};
      const finish = () => {
        if (a.hang) return; // never answer
        res.writeHead(a.status ?? 200, a.headers ?? { 'content-type': 'text/plain' });
        res.end(a.body ?? 'ok');
      };
      if (a.delayMs) setTimeout(finish, a.delayMs); else finish();
      for (const w of [...waiters]) if (w.check()) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  return {
    port, url: `http://127.0.0.1:${port}`, requests,
    // waitFor resolves once pred(requests) holds, or rejects after timeoutMs
    waitFor(pred, timeoutMs = 10000) {
      if (pred(requests)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const w = { check: () => pred(requests), resolve: () => { clearTimeout(t); resolve(); } };
        const t = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); reject(new Error(`timed out waiting; ${requests.length} requests so far`)); }, timeoutMs);
        waiters.push(w);
      });
    },
    // dropConnections closes every connection the receiver holds, idle kept-alive ones included
    dropConnections() { for (const s of sockets) s.destroy(); },
    async close() { for (const s of sockets) s.destroy(); await new Promise((r) => server.close(r)); },
  };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
