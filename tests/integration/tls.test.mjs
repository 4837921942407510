// Issue: hardening. An HTTPS listener, and client certificates (mTLS) per inbound source or for everything.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHookd } from './lib/hookd.mjs';

let dir, pki;
const ossl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hookd-pki-'));
  // a CA, a server certificate for 127.0.0.1 and a client certificate, all made here
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=hookd test CA');
  for (const [name, subj, ext] of [['server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1'], ['client', '/CN=provider', 'extendedKeyUsage=clientAuth']]) {
    ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj);
    writeFileSync(join(dir, `${name}.ext`), ext + '\n');
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
  pki = Object.fromEntries(['ca.pem', 'client.pem', 'client.key'].map((f) => [f, readFileSync(join(dir, f))]));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function request(url, { method = 'GET', headers = {}, body, client = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, headers, ca: pki['ca.pem'], ...(client ? { cert: pki['client.pem'], key: pki['client.key'] } : {}) }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('HTTPS listener; a source that requires a client certificate refuses requests without one', async () => {
  const h = await startHookd({ args: ['--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server.key'), '--tls-client-ca', join(dir, 'ca.pem')] });
  try {
    assert.match(h.url, /^https:/);
    assert.equal((await request(`${h.url}/api/v1/health`)).status, 200);
    const auth = { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' };
    const made = await request(`${h.url}/api/v1/source`, { method: 'POST', headers: auth, body: JSON.stringify({ uid: 'mtls', provider: 'bearer', secrets: ['tok'], requireClientCert: true }) });
    assert.equal(made.status, 201, made.text);
    const hdr = { authorization: 'Bearer tok' };
    const without = await request(`${h.url}/in/mtls`, { method: 'POST', headers: hdr, body: '{}' });
    assert.equal(without.status, 403);
    assert.equal(JSON.parse(without.text).code, 'client_certificate_required');
    const withCert = await request(`${h.url}/in/mtls`, { method: 'POST', headers: hdr, body: '{}', client: true });
    assert.equal(withCert.status, 200, withCert.text);
    // the refusal is counted as a rejected post of that source
    const src = JSON.parse(made.text);
    const metrics = (await request(`${h.url}/metrics`, { headers: auth })).text;
    assert.match(metrics, new RegExp(`hookd_inbound_events_total\\{source="${src.id}",verdict="rejected"\\} 1\\n`));
    assert.match(metrics, new RegExp(`hookd_inbound_events_total\\{source="${src.id}",verdict="accepted"\\} 1\\n`));
  } finally { await h.stop(); h.cleanup(); }
});

test('Twilio signs the https address it called: hookd serving TLS itself checks that one', async () => {
  const h = await startHookd({ args: ['--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server.key')] });
  try {
    const auth = { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' };
    const made = await request(`${h.url}/api/v1/source`, { method: 'POST', headers: auth, body: JSON.stringify({ uid: 'tw', provider: 'twilio', secrets: ['tw-token'] }) });
    assert.equal(made.status, 201, made.text);
    const { default: twilio } = await import('twilio');
    const params = { CallSid: 'CA1', From: '+15550001111' };
    const body = new URLSearchParams(params).toString();
    const post = (sig) => request(`${h.url}/in/tw`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig } });
    const ok = await post(twilio.getExpectedTwilioSignature('tw-token', `${h.url}/in/tw`, params));
    assert.equal(ok.status, 200, ok.text);
    // the same request signed over plain http is not what was called
    const plain = await post(twilio.getExpectedTwilioSignature('tw-token', `${h.url.replace('https:', 'http:')}/in/tw`, params));
    assert.equal(plain.status, 401);
  } finally { await h.stop(); h.cleanup(); }
});

test('--tls-require-client-cert guards every route', async () => {
  const h = await startHookd({ args: ['--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server.key'), '--tls-client-ca', join(dir, 'ca.pem'), '--tls-require-client-cert'] });
  try {
    assert.equal((await request(`${h.url}/api/v1/health`)).status, 403);
    assert.equal((await request(`${h.url}/api/v1/health`, { client: true })).status, 200);
  } finally { await h.stop(); h.cleanup(); }
});
