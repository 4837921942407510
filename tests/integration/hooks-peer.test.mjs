// Issue: command hooks. hookd and adnanh/webhook itself (the `webhook` binary) load the same hooks
// file and get the same requests: status, body, the headers a hook sets, and what the command saw.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHookd } from './lib/hookd.mjs';

const FIX = new URL('./fixtures/hooks/', import.meta.url).pathname;
const DUMP = join(FIX, 'dump.mjs');

let webhookBin = '';
try { webhookBin = execFileSync('sh', ['-c', 'command -v webhook'], { encoding: 'utf8' }).trim(); } catch { /* absent */ }
const needs = webhookBin ? {} : { skip: 'adnanh/webhook is not installed (scripts/deps.sh test)' };

let dir, h, peer, peerUrl;

function freePort() {
  return new Promise((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
}

before(async () => {
  if (!webhookBin) return;
  dir = mkdtempSync(join(tmpdir(), 'hookd-peer-'));
  // a command of the same name in the working directory and on PATH: adnanh runs the first
  const wd = join(dir, 'wd');
  const bin = join(dir, 'bin');
  mkdirSync(wd);
  mkdirSync(bin);
  for (const [d, word] of [[wd, 'working-directory'], [bin, 'path']]) {
    writeFileSync(join(d, 'which-one'), `#!/bin/sh\necho ${word}\n`);
    chmodSync(join(d, 'which-one'), 0o755);
  }
  const hooks = [
    { id: 'env', 'execute-command': DUMP, 'include-command-output-in-response': true,
      'pass-environment-to-command': [{ source: 'string', name: 'from-hook', envname: 'PAYLOAD_INHERITED' },
        { source: 'string', name: 'first', envname: 'PAYLOAD_TWICE' }, { source: 'string', name: 'second', envname: 'PAYLOAD_TWICE' }] },
    { id: 'wd', 'execute-command': 'which-one', 'command-working-directory': wd, 'include-command-output-in-response': true },
    { id: 'headers', 'execute-command': DUMP, 'response-message': '{"ok":true}', 'success-http-response-code': 202,
      'http-methods': ['POST'],
      'response-headers': [{ name: 'X-One', value: 'first' }, { name: 'X-One', value: 'last' }, { name: 'Content-Type', value: 'application/json' }],
      'trigger-rule': { match: { type: 'value', value: 's3cret', parameter: { source: 'header', name: 'X-Token' } } } },
    { id: 'odd-code', 'execute-command': DUMP, 'response-message': 'odd', 'success-http-response-code': 299 },
    { id: 'output-404', 'execute-command': DUMP, 'include-command-output-in-response': true, 'success-http-response-code': 404,
      'pass-arguments-to-command': [{ source: 'header', name: 'Host' }, { source: 'header', name: 'X-Token' }] },
  ];
  const file = join(dir, 'hooks.json');
  writeFileSync(file, JSON.stringify(hooks));
  const env = { PATH: `${bin}:${process.env.PATH}`, PAYLOAD_INHERITED: 'from-parent' };
  h = await startHookd({ dir, args: ['--hooks', file], env });
  const port = await freePort();
  peer = spawn(webhookBin, ['-hooks', file, '-ip', '127.0.0.1', '-port', String(port)], { env: { ...process.env, ...env }, stdio: 'ignore' });
  peerUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try { await fetch(`${peerUrl}/hooks/none`); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
});
after(async () => {
  if (!webhookBin) return;
  peer.kill();
  await h.stop(); h.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

// both sends one request to each server and returns their answers
async function both(id, { method = 'POST', headers = {}, body } = {}) {
  const ask = async (base) => {
    const res = await fetch(`${base}/hooks/${id}`, { method, headers, body: method === 'GET' ? undefined : body ?? '' });
    return { status: res.status, body: await res.text(), headers: res.headers };
  };
  return { hookd: await ask(h.url), adnanh: await ask(peerUrl) };
}

test('a hook variable replaces an inherited one, and the last of two wins', needs, async () => {
  const { hookd, adnanh } = await both('env');
  assert.equal(adnanh.status, 200);
  assert.deepEqual(JSON.parse(hookd.body).env, JSON.parse(adnanh.body).env);
  assert.equal(JSON.parse(hookd.body).env.PAYLOAD_INHERITED, 'from-hook');
  assert.equal(JSON.parse(hookd.body).env.PAYLOAD_TWICE, 'second');
});

test('with command-working-directory a bare command is the one in that directory', needs, async () => {
  const { hookd, adnanh } = await both('wd');
  assert.equal(adnanh.body, 'working-directory\n');
  assert.equal(hookd.body, adnanh.body);
});

test('response-headers: set once (last value), Content-Type replaced, only on triggered answers', needs, async () => {
  const ok = await both('headers', { headers: { 'X-Token': 's3cret   ' } }); // trailing blanks are not part of a value
  for (const a of [ok.adnanh, ok.hookd]) {
    assert.equal(a.status, 202);
    assert.equal(a.body, '{"ok":true}');
    assert.equal(a.headers.get('x-one'), 'last');
    assert.equal(a.headers.get('content-type'), 'application/json');
  }
  for (const req of [{ headers: { 'X-Token': 'wrong' } }, { method: 'GET' }]) {
    const r = await both('headers', req);
    assert.equal(r.hookd.status, r.adnanh.status);
    assert.equal(r.hookd.body, r.adnanh.body);
    assert.equal(r.adnanh.headers.get('x-one'), null);
    assert.equal(r.hookd.headers.get('x-one'), null);
  }
});

test('a success code Go has no name for answers 200', needs, async () => {
  const { hookd, adnanh } = await both('odd-code');
  assert.equal(adnanh.status, 200);
  assert.equal(hookd.status, adnanh.status);
  assert.equal(hookd.body, adnanh.body);
});

test('a run that succeeds answers its output even with a success code of 404; Host is not a header', needs, async () => {
  const { hookd, adnanh } = await both('output-404', { headers: { 'X-Token': '  padded\t' } });
  assert.equal(adnanh.status, 404);
  assert.equal(hookd.status, 404);
  assert.deepEqual(JSON.parse(hookd.body).argv, JSON.parse(adnanh.body).argv);
  assert.deepEqual(JSON.parse(hookd.body).argv, ['', 'padded']);
});
