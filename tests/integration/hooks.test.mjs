// Issue: command hooks and GitOps. adnanh/webhook's own scenarios (its hooks fixtures and its
// request/response table) re-expressed against hookd, then what hookd adds: no lost commands under
// load, literal argv/env, NUL refusal, process-group timeouts, coalescing, de-duplication, runs API,
// reload, re-queue after a crash, and a GitOps loop on a real Git repository.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sign as octokitSign } from '@octokit/webhooks-methods';
import { startHookd, api } from './lib/hookd.mjs';
import { sleep } from './lib/receiver.mjs';

const FIX = new URL('./fixtures/hooks/', import.meta.url).pathname;
const EXAMPLES = new URL('../../examples/gitops/', import.meta.url).pathname;
const HOOKECHO = join(FIX, 'hookecho.mjs');
const sha1 = (secret, body) => createHmac('sha1', secret).update(body).digest('hex');
const sha256 = (secret, body) => createHmac('sha256', secret).update(body).digest('hex');

async function post(h, id, body = '', headers = {}, method = 'POST') {
  const res = await fetch(`${h.url}/hooks/${id}`, { method, body: method === 'GET' ? undefined : body, headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

// idle waits until a hook has nothing queued, reserved or running
async function idle(h, id, ms = 30000) {
  const t0 = Date.now();
  for (;;) {
    const r = await api(h, 'GET', '/api/v1/hook');
    const hk = r.json.data.find((x) => x.id === id);
    if (hk && hk.state.queued === 0 && hk.state.running === 0 && hk.state.reserved === 0) {
      // the last records are written just after the run ends: wait for them too
      const last = (await api(h, 'GET', `/api/v1/hook/${encodeURIComponent(id)}/run?limit=50`)).json.data;
      if (!last.some((x) => x.status === 'queued' || x.status === 'running')) return hk;
    }
    if (Date.now() - t0 > ms) throw new Error(`hook ${id} still busy: ${JSON.stringify(hk)}`);
    await sleep(50);
  }
}

async function runs(h, id, limit = 250) {
  const r = await api(h, 'GET', `/api/v1/hook/${encodeURIComponent(id)}/run?limit=${limit}`);
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

function hooksFile(dir, name, hooks) {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(hooks, null, 2));
  return p;
}

// ---------------------------------------------------------------------------------------------
// adnanh/webhook's scenarios: the same hook definitions, status codes, bodies, argv and env

const push = {
  ref: 'refs/heads/master',
  before: '17c497ccc7cca9c2f735aa07e9e3813060ce9a6a',
  after: '1481a2de7b2a7d02428ad93446ab166be7793fbb',
  head_commit: {
    id: '1481a2de7b2a7d02428ad93446ab166be7793fbb',
    message: 'Rename a file',
    timestamp: '2013-03-12T08:14:29-07:00',
    author: { name: 'Garen Torikian', email: 'lolwut@noway.biz', username: 'octokitty' },
  },
  repository: { name: 'testing', url: 'https://github.com/octokitty/testing' },
};
const ghBody = JSON.stringify(push, null, '\t');
const ghOut = 'arg: 1481a2de7b2a7d02428ad93446ab166be7793fbb lolwut@noway.biz\nenv: HOOK_head_commit.timestamp=2013-03-12T08:14:29-07:00\n';
const noEmail = JSON.stringify({ ref: 'refs/heads/master', head_commit: { id: push.head_commit.id, timestamp: push.head_commit.timestamp, author: { name: 'x' } } });
const noTime = JSON.stringify({ ref: 'refs/heads/master', head_commit: { id: push.head_commit.id, author: { email: 'lolwut@noway.biz' } } });
const gitlab = JSON.stringify({
  object_kind: 'push', ref: 'refs/heads/master', user_name: 'John Smith', user_email: 'john@example.com',
  commits: [{ id: 'b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327', message: 'Update Catalan translation' }, { id: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7' }],
});
const bitbucket = 'payload=' + encodeURIComponent(JSON.stringify({
  canon_url: 'https://bitbucket.org', commits: [{ author: 'marcus', branch: 'master', message: 'Added some things\n' }],
  repository: { absolute_url: '/webhook/testing/', name: 'Project X' }, user: 'marcus',
}));
const xml = '<app>\n  <users>\n    <user id="1" name="Jeff" />\n    <user id="2" name="Sally" />\n  </users>\n  <messages>\n    <message id="1" from_user="1" to_user="2">Hello!!</message>\n  </messages>\n</app>';
const sendgrid = (event) => JSON.stringify([{ email: 'example@test.com', timestamp: 1513299569, event, category: 'cat facts' }]);
const multipart = '--xxx\r\nContent-Disposition: form-data; name="payload"\r\n\r\n{"event": "media.play", "user": true, "Account": {"id": 1, "title": "elan"}}\r\n' +
  '--xxx\r\nContent-Disposition: form-data; name="thumb"; filename="thumb.jpg"\r\nContent-Type: application/octet-stream\r\n\r\nbinary data\r\n--xxx--\r\n';
const EXEC_ERR = "Error occurred while executing the hook's command. Please check your logs for more details.";
const JSON_CT = { 'content-type': 'application/json' };

const table = [
  ['github', 'github', ghBody, { ...JSON_CT, 'X-Hub-Signature': sha1('mysecret', ghBody) }, 200, ghOut],
  ['github-multi-sig', 'github-multi-sig', ghBody, { ...JSON_CT, 'X-Hub-Signature': sha1('mysecret', ghBody) }, 200, ghOut],
  ['github-multi-sig-fail', 'github-multi-sig-fail', ghBody, { ...JSON_CT, 'X-Hub-Signature': sha1('mysecret', ghBody) }, 500, 'Error occurred while evaluating hook rules.'],
  ['bitbucket (form)', 'bitbucket', bitbucket, { 'content-type': 'application/x-www-form-urlencoded' }, 200, 'success'],
  ['gitlab', 'gitlab', gitlab, { ...JSON_CT, 'X-Gitlab-Event': 'Push Hook' }, 200, 'arg: b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327 John Smith john@example.com\n'],
  ['xml', 'xml', xml, { 'content-type': 'application/xml' }, 200, 'success'],
  ['txt-raw', 'txt-raw', '# FOO\n\nblah\nblah', { 'content-type': 'text/plain' }, 200, 'arg: # FOO\n\nblah\nblah\n'],
  ['payload-json-array', 'sendgrid', sendgrid('processed'), JSON_CT, 200, 'success'],
  ['slash-in-hook-id', 'sendgrid/dir', sendgrid('it worked!'), JSON_CT, 200, 'success'],
  ['multipart', 'plex', multipart, { 'content-type': 'multipart/form-data; boundary=xxx' }, 200, 'success'],
  ['issue-471', 'issue-471', '{"exists": 1}', JSON_CT, 200, 'success'],
  ['issue-471-and', 'issue-471-and', '{"exists": 1}', JSON_CT, 200, 'Hook rules were not satisfied.'],
  ['missing-cmd-arg', 'github', noEmail, { ...JSON_CT, 'X-Hub-Signature': sha1('mysecret', noEmail) }, 200,
    'arg: 1481a2de7b2a7d02428ad93446ab166be7793fbb \nenv: HOOK_head_commit.timestamp=2013-03-12T08:14:29-07:00\n'],
  ['missing-env-arg', 'github', noTime, { ...JSON_CT, 'X-Hub-Signature': sha1('mysecret', noTime) }, 200,
    'arg: 1481a2de7b2a7d02428ad93446ab166be7793fbb lolwut@noway.biz\n'],
  ['empty-payload-signature', 'empty-payload-signature', '', { ...JSON_CT, 'X-Hub-Signature': sha1('mysecret', '') }, 200, ''],
  ['request-source', 'request-source', '{}', JSON_CT, 200, /^arg: POST 127\.0\.0\.1:\d+\n$/],
  ['disallowed method', 'github', '', {}, 405, '', 'GET'],
  ['empty payload (custom mismatch code)', 'github', '{}', JSON_CT, 400, 'Hook rules were not satisfied.'],
  ['empty payload (unknown mismatch code answers 200)', 'bitbucket', '{}', JSON_CT, 200, 'Hook rules were not satisfied.'],
  ['empty payload (no mismatch code)', 'gitlab', '{}', JSON_CT, 200, 'Hook rules were not satisfied.'],
  ["don't capture output on success by default", 'capture-command-output-on-success-not-by-default', '{}', JSON_CT, 200, ''],
  ['capture output on success with flag set', 'capture-command-output-on-success-yes-with-flag', '{}', JSON_CT, 200, 'arg: exit=0\n'],
  ["don't capture output on error by default", 'capture-command-output-on-error-not-by-default', '{}', JSON_CT, 500, EXEC_ERR],
  ['capture output on error with extra flag set', 'capture-command-output-on-error-yes-with-extra-flag', '{}', JSON_CT, 500, 'arg: exit=1\n'],
  ['static params should pass', 'static-params-ok', '{}', JSON_CT, 200, 'arg: passed\n'],
  ['command with space fails to execute', 'warn-on-space', '{}', JSON_CT, 500, EXEC_ERR],
  ['unsupported content type', 'github', '{}', { 'Content-Type': 'nonexistent/format' }, 400, 'Hook rules were not satisfied.'],
  ['unknown hook', 'nope', '{}', JSON_CT, 404, 'Hook not found.'],
];

for (const ext of ['json', 'yaml']) {
  test(`adnanh/webhook scenarios with hooks.${ext}: same status codes, bodies, argv and env`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookd-compat-'));
    const file = join(dir, `hooks.${ext}`);
    writeFileSync(file, readFileSync(join(FIX, 'adnanh.json'), 'utf8').replaceAll('HOOKECHO', HOOKECHO));
    const h = await startHookd({ dir, args: ['--hooks', file] });
    try {
      for (const [desc, id, body, headers, status, expect, method] of table) {
        const r = await post(h, id, body, headers, method);
        assert.equal(r.status, status, `${desc}: status (${r.text})`);
        if (expect instanceof RegExp) assert.match(r.text, expect, desc);
        else assert.equal(r.text, expect, desc);
      }
      // the run of a hook answered at once still happened, and was recorded with its trigger event
      await idle(h, 'sendgrid');
      const [run] = await runs(h, 'sendgrid');
      assert.equal(run.status, 'succeeded');
      assert.match(run.eventId, /^evt_/);
    } finally { await h.stop(); h.cleanup(); }
  });
}

test('--urlprefix moves the hooks; response headers and success code apply', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hookd-prefix-'));
  const file = hooksFile(dir, 'hooks.json', [{
    id: 'hi', 'execute-command': HOOKECHO, 'response-message': 'queued', 'success-http-response-code': 202,
    'response-headers': [{ name: 'Access-Control-Allow-Origin', value: '*' }],
  }]);
  const h = await startHookd({ dir, args: ['--hooks', file, '--urlprefix', 'run'] });
  try {
    const r = await fetch(`${h.url}/run/hi`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 202);
    assert.equal(await r.text(), 'queued');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.equal((await fetch(`${h.url}/hooks/hi`, { method: 'POST' })).status, 404);
  } finally { await h.stop(); h.cleanup(); }
});

// ---------------------------------------------------------------------------------------------
// what hookd adds

let h, dir;
const out = (name) => join(dir, name);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hookd-hooks-'));
  const file = hooksFile(dir, 'hooks.json', [
    { id: 'append', 'execute-command': join(FIX, 'append.sh'), 'pass-arguments-to-command': [
      { source: 'payload', name: 'n' }, { source: 'string', name: join(dir, 'append.txt') }] },
    { id: 'dump', 'execute-command': join(FIX, 'dump.mjs'), 'include-command-output-in-response': true,
      'command-working-directory': dir,
      'pass-arguments-to-command': [{ source: 'payload', name: 'a' }, { source: 'payload', name: 'b' }, { source: 'header', name: 'X-Value' }],
      'pass-environment-to-command': [{ source: 'payload', name: 'a', envname: 'PAYLOAD_A' }, { source: 'payload', name: 'b' }],
      'pass-file-to-command': [{ source: 'payload', name: 'a', envname: 'PAYLOAD_FILE_A' }] },
    { id: 'timeout', 'execute-command': join(FIX, 'spawner.sh'), timeout: 1,
      'pass-arguments-to-command': [{ source: 'string', name: join(dir, 'pids.txt') }] },
    { id: 'coalesce', 'execute-command': join(FIX, 'slow-append.sh'), coalesce: true,
      'pass-arguments-to-command': [{ source: 'payload', name: 'n' }, { source: 'string', name: join(dir, 'coalesce.txt') }, { source: 'string', name: '1' }] },
    { id: 'exit-map', 'execute-command': HOOKECHO, 'include-command-output-in-response': true,
      'exit-code-status': { '3': 409 }, 'include-command-output-in-response-on-error': true,
      'pass-arguments-to-command': [{ source: 'payload', name: 'exit' }] },
    { id: 'chatty', 'execute-command': '/bin/sh', 'output-limit': 100, 'include-command-output-in-response': true,
      'pass-arguments-to-command': [{ source: 'string', name: '-c' }, { source: 'string', name: 'yes hookd | head -c 100000; echo done >&2' }] },
  ]);
  h = await startHookd({ dir, args: ['--hooks', file] });
});
after(async () => { await h.stop(); h.cleanup(); });

test('no command is lost: 2,000 posts from 32 connections, at least 1,000 accepted, the rest 503, one line per accepted post', async () => {
  const total = 2000, conns = 32;
  const accepted = [], refused = [], other = [];
  let next = 0;
  async function worker() {
    while (next < total) {
      const n = next++;
      const r = await post(h, 'append', JSON.stringify({ n: String(n) }), JSON_CT);
      if (r.status === 200) accepted.push(n);
      else if (r.status === 503) { assert.ok(r.headers.get('retry-after')); refused.push(n); }
      else other.push([n, r.status, r.text]);
    }
  }
  await Promise.all(Array.from({ length: conns }, worker));
  assert.deepEqual(other, []);
  assert.ok(accepted.length >= 1000, `accepted ${accepted.length}`);
  assert.equal(accepted.length + refused.length, total);
  await idle(h, 'append', 120000);
  const lines = readFileSync(out('append.txt'), 'utf8').trim().split('\n');
  assert.equal(lines.length, accepted.length, 'exactly one line per accepted post');
  assert.deepEqual([...lines].map(Number).sort((a, b) => a - b), [...accepted].sort((a, b) => a - b));
});

test('shell metacharacters reach the command as literal argv, env and file contents', async () => {
  const nasty = ["; rm -rf / #", '`touch pwned`', '$(touch pwned2)', '"quoted" \'single\'', 'line1\nline2', '*', '$HOME', '|| true &'];
  for (const a of nasty) {
    const b = `${a} & ${a}`;
    const r = await post(h, 'dump', JSON.stringify({ a, b }), { ...JSON_CT, 'X-Value': 'x;y' });
    assert.equal(r.status, 200, r.text);
    const got = JSON.parse(r.text);
    assert.deepEqual(got.argv, [a, b, 'x;y']);
    assert.equal(got.env.PAYLOAD_A, a);
    assert.equal(got.env.HOOK_b, b);
    assert.equal(got.files.PAYLOAD_FILE_A, a);
    assert.equal(got.cwd, dir);
  }
  assert.ok(!existsSync(join(dir, 'pwned')) && !existsSync(join(dir, 'pwned2')), 'nothing was evaluated by a shell');
  // the pass-file-to-command files are gone after the run
  const leftovers = execFileSync('sh', ['-c', `ls "${dir}" | grep PAYLOAD_FILE_A || true`]).toString();
  assert.equal(leftovers, '');
});

test('a NUL byte in a value is refused with 400 and no run', async () => {
  const before = (await runs(h, 'dump')).length;
  const r = await post(h, 'dump', JSON.stringify({ a: 'ok\u0000; rm -rf /', b: 'x' }), JSON_CT);
  assert.equal(r.status, 400);
  assert.equal(r.text, 'argument contains a NUL byte');
  assert.equal((await runs(h, 'dump')).length, before);
});

test('timeout ends the whole process group (the command and the child it started)', async () => {
  const r = await post(h, 'timeout', '{}', JSON_CT);
  assert.equal(r.status, 200);
  let pids;
  for (let i = 0; i < 100 && !pids; i++) {
    await sleep(50);
    if (existsSync(out('pids.txt'))) pids = readFileSync(out('pids.txt'), 'utf8').trim().split(/\s+/).map(Number);
  }
  assert.equal(pids.length, 2);
  const alive = (pid) => {
    try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
  };
  assert.ok(pids.every(alive), 'both running before the timeout');
  await idle(h, 'timeout', 15000);
  await sleep(200);
  assert.deepEqual(pids.filter(alive), [], 'neither survives the timeout');
  const [run] = await runs(h, 'timeout');
  assert.equal(run.status, 'timed_out');
  assert.match(run.error, /timed out after 1 s/);
});

test('coalescing: a burst of 10 triggers during a run gives exactly one more run, with the latest event', async () => {
  assert.equal((await post(h, 'coalesce', JSON.stringify({ n: 'first' }), JSON_CT)).status, 200);
  for (let i = 0; i < 100; i++) {
    const hk = (await api(h, 'GET', '/api/v1/hook')).json.data.find((x) => x.id === 'coalesce');
    if (hk.state.running === 1) break;
    await sleep(20);
  }
  for (let i = 1; i <= 10; i++) assert.equal((await post(h, 'coalesce', JSON.stringify({ n: `burst-${i}` }), JSON_CT)).status, 200);
  await idle(h, 'coalesce', 20000);
  assert.deepEqual(readFileSync(out('coalesce.txt'), 'utf8').trim().split('\n'), ['first', 'burst-10']);
  const all = await runs(h, 'coalesce');
  assert.equal(all.length, 11, 'every trigger is recorded');
  const ran = all.filter((x) => x.status === 'succeeded');
  const merged = all.filter((x) => x.status === 'coalesced');
  assert.equal(ran.length, 2);
  assert.equal(merged.length, 9);
  assert.ok(merged.every((x) => x.coalescedInto === ran[0].id), 'newest first: the second run absorbed the burst');
});

test('exit-code-status maps exit codes; output is capped at output-limit', async () => {
  let r = await post(h, 'exit-map', JSON.stringify({ exit: 'exit=3' }), JSON_CT);
  assert.equal(r.status, 409);
  assert.equal(r.text, 'arg: exit=3\n');
  r = await post(h, 'exit-map', JSON.stringify({ exit: 'exit=0' }), JSON_CT);
  assert.equal(r.status, 200);
  r = await post(h, 'exit-map', JSON.stringify({ exit: 'exit=4' }), JSON_CT);
  assert.equal(r.status, 500);
  r = await post(h, 'chatty', '{}', JSON_CT);
  assert.equal(r.status, 200);
  assert.equal(r.text.length, 100);
  await idle(h, 'chatty');
  const [run] = await runs(h, 'chatty');
  assert.equal(run.outputTruncated, true);
  const one = await api(h, 'GET', `/api/v1/hook/chatty/run/${run.id}`);
  assert.equal(one.json.output.length, 100);
});

test('de-duplication: a repeated provider delivery id runs once; identical posts without one run twice', async () => {
  const body = JSON.stringify({ n: 'dupe' });
  const hd = { ...JSON_CT, 'X-GitHub-Delivery': 'd-123', 'X-GitHub-Hook-ID': '9' };
  const a = await post(h, 'append', body, hd), b = await post(h, 'append', body, hd);
  assert.equal(a.status, 200);
  assert.equal(b.status, 200);
  assert.match(b.headers.get('x-hookd-duplicate'), /^evt_/);
  const c = await post(h, 'append', JSON.stringify({ n: 'same' }), JSON_CT), d = await post(h, 'append', JSON.stringify({ n: 'same' }), JSON_CT);
  assert.equal(c.status, 200);
  assert.equal(d.status, 200);
  await idle(h, 'append');
  const lines = readFileSync(out('append.txt'), 'utf8').trim().split('\n');
  assert.equal(lines.filter((l) => l === 'dupe').length, 1);
  assert.equal(lines.filter((l) => l === 'same').length, 2);
});

test('runs API: list newest first (Svix list shape), get with output, rerun (202) with the same event', async () => {
  const list = await api(h, 'GET', '/api/v1/hook');
  assert.equal(list.status, 200);
  const dump = list.json.data.find((x) => x.id === 'dump');
  assert.equal(dump.concurrency, 1);
  assert.equal(dump.queue, 1000);
  assert.equal(dump.timeout, 600);
  const page = await api(h, 'GET', '/api/v1/hook/dump/run?limit=2');
  assert.deepEqual(Object.keys(page.json).sort(), ['data', 'done', 'iterator', 'prevIterator']);
  assert.equal(page.json.data.length, 2);
  assert.ok(page.json.data[0].id > page.json.data[1].id, 'newest first');
  assert.match(page.json.data[0].id, /^run_[0-9A-Za-z]{27}$/);
  const next = await api(h, 'GET', `/api/v1/hook/dump/run?limit=2&iterator=${page.json.iterator}`);
  assert.ok(next.json.data[0].id < page.json.data[1].id);
  const first = page.json.data[0];
  const one = await api(h, 'GET', `/api/v1/hook/dump/run/${first.id}`);
  assert.equal(one.status, 200);
  assert.ok(JSON.parse(one.json.output).argv, 'the output is kept');
  for (const k of ['startedAt', 'endedAt', 'durationMs', 'exitCode', 'eventId']) assert.notEqual(one.json[k], null, k);
  const rerun = await api(h, 'POST', `/api/v1/hook/dump/run/${first.id}/rerun`);
  assert.equal(rerun.status, 202, rerun.text);
  assert.equal(rerun.json.retryOf, first.id);
  assert.equal(rerun.json.eventId, first.eventId);
  await idle(h, 'dump');
  const again = await api(h, 'GET', `/api/v1/hook/dump/run/${rerun.json.id}`);
  assert.equal(again.json.status, 'succeeded');
  assert.deepEqual(JSON.parse(again.json.output).argv, JSON.parse(one.json.output).argv, 'the same request, the same command');
  assert.equal((await api(h, 'GET', '/api/v1/hook/dump/run/run_nope')).status, 404);
  assert.equal((await api(h, 'GET', '/api/v1/hook', { token: 'wrong' })).status, 401);
});

test('SIGHUP reloads the hooks files; a file that fails to parse keeps the previous hooks', async () => {
  const d = mkdtempSync(join(tmpdir(), 'hookd-reload-'));
  const file = hooksFile(d, 'hooks.yaml', [{ id: 'one', 'execute-command': HOOKECHO, 'response-message': 'one' }]);
  const hk = await startHookd({ dir: d, args: ['--hooks', file] });
  try {
    assert.equal((await post(hk, 'one')).text, 'one');
    assert.equal((await post(hk, 'two')).status, 404);
    writeFileSync(file, '- id: two\n  execute-command: ' + HOOKECHO + '\n  response-message: two\n');
    hk.child.kill('SIGHUP');
    let r;
    for (let i = 0; i < 50; i++) { await sleep(50); r = await post(hk, 'two'); if (r.status === 200) break; }
    assert.equal(r.text, 'two');
    assert.equal((await post(hk, 'one')).status, 404);
    writeFileSync(file, '- id: [broken\n');
    hk.child.kill('SIGHUP');
    for (let i = 0; i < 50 && !hk.stderr().includes('keeping the previous'); i++) await sleep(50);
    assert.match(hk.stderr(), /cannot reload the hooks, keeping the previous ones/);
    assert.equal((await post(hk, 'two')).text, 'two');
  } finally { await hk.stop(); hk.cleanup(); }
});

test('runs left queued or running by a killed hookd are marked interrupted and run again at start', async () => {
  const d = mkdtempSync(join(tmpdir(), 'hookd-requeue-'));
  const file = hooksFile(d, 'hooks.json', [{ id: 'slow', 'execute-command': join(FIX, 'slow-append.sh'),
    'pass-arguments-to-command': [{ source: 'payload', name: 'n' }, { source: 'string', name: join(d, 'done.txt') }, { source: 'string', name: '2' }] }]);
  let hk = await startHookd({ dir: d, args: ['--hooks', file] });
  for (const n of ['a', 'b', 'c']) assert.equal((await post(hk, 'slow', JSON.stringify({ n }), JSON_CT)).status, 200);
  await sleep(300);
  await hk.stop('SIGKILL');
  hk = await startHookd({ dir: d, args: ['--hooks', file] });
  try {
    await sleep(300);
    await idle(hk, 'slow', 30000);
    // 'a' was running when hookd died: its command (in its own session) may have finished on its
    // own, and the re-queued run repeats it; runs are at-least-once, never forgotten
    const lines = readFileSync(join(d, 'done.txt'), 'utf8').trim().split('\n').sort();
    assert.deepEqual([...new Set(lines)], ['a', 'b', 'c'], 'every push ran once the node was back');
    assert.equal(lines.filter((l) => l === 'b').length, 1);
    assert.equal(lines.filter((l) => l === 'c').length, 1);
    const all = await runs(hk, 'slow');
    assert.equal(all.filter((x) => x.status === 'interrupted').length, 3);
    const again = all.filter((x) => x.trigger === 'requeue');
    assert.equal(again.length, 3);
    assert.ok(again.every((x) => x.status === 'succeeded' && x.retryOf));
  } finally { await hk.stop(); hk.cleanup(); }
});

// ---------------------------------------------------------------------------------------------
// GitOps: a real bare repository, signed pushes, the example's deploy and apply scripts

function git(cwd, ...args) {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd }).toString().trim();
}

test('GitOps: a verified push moves the working copy and applies once per coalesced burst, via /hooks and via an inbound source', async () => {
  const d = mkdtempSync(join(tmpdir(), 'hookd-gitops-'));
  const SECRET = "It's a Secret to Everybody";
  git(d, 'init', '--bare', '-q', 'origin.git');
  git(d, 'clone', '-q', 'origin.git', 'dev');
  const dev = join(d, 'dev');
  const commit = (content) => {
    writeFileSync(join(dev, 'desired.conf'), content);
    git(dev, 'add', '.');
    git(dev, 'commit', '-q', '-m', 'change');
    git(dev, 'push', '-q', 'origin', 'HEAD:main');
    return git(dev, 'rev-parse', 'HEAD');
  };
  commit('greeting = hello\n');
  git(d, 'clone', '-q', '-b', 'main', 'origin.git', 'checkout');
  const deployHook = (id, rule) => ({
    id, 'execute-command': join(EXAMPLES, 'deploy.sh'), coalesce: true, 'response-message': 'deploy queued', 'success-http-response-code': 202,
    'pass-arguments-to-command': [
      { source: 'string', name: join(d, 'checkout') }, { source: 'string', name: 'main' },
      { source: 'string', name: join(EXAMPLES, 'apply.sh') }, { source: 'payload', name: 'after' }],
    'pass-environment-to-command': [
      { source: 'string', name: join(d, 'live'), envname: 'GITOPS_TARGET' }, { source: 'string', name: '2', envname: 'APPLY_DELAY' }],
    ...(rule ? { 'trigger-rule': rule } : {}),
  });
  const rule = { and: [
    { match: { type: 'payload-hmac-sha256', secret: SECRET, parameter: { source: 'header', name: 'X-Hub-Signature-256' } } },
    { match: { type: 'value', value: 'refs/heads/main', parameter: { source: 'payload', name: 'ref' } } }] };
  const file = hooksFile(d, 'hooks.json', [deployHook('deploy', rule), deployHook('deploy-routed', null)]);
  const hk = await startHookd({ dir: d, args: ['--hooks', file] });
  const pushTo = async (sha, ref = 'refs/heads/main', delivery = `${Math.random()}`) => {
    const body = JSON.stringify({ ref, after: sha, repository: { full_name: 'acme/site' } });
    return post(hk, 'deploy', body, { ...JSON_CT, 'X-GitHub-Event': 'push', 'X-GitHub-Delivery': delivery,
      'X-Hub-Signature-256': await octokitSign(SECRET, body) });
  };
  const applied = () => readFileSync(join(d, 'live', '.applied.log'), 'utf8').trim().split('\n');
  try {
    // one push
    const c1 = commit('greeting = hello world\ncolour = blue\n');
    let r = await pushTo(c1);
    assert.equal(r.status, 202, r.text);
    assert.equal(r.text, 'deploy queued');
    await idle(hk, 'deploy');
    assert.equal(git(join(d, 'checkout'), 'rev-parse', 'HEAD'), c1);
    assert.equal(readFileSync(join(d, 'live', 'colour'), 'utf8'), 'blue\n');
    assert.deepEqual(applied(), [c1]);
    // a bad signature and another branch do nothing
    const bad = await post(hk, 'deploy', JSON.stringify({ ref: 'refs/heads/main', after: 'x' }), { ...JSON_CT, 'X-Hub-Signature-256': 'sha256=00' });
    assert.equal(bad.status, 500, 'a signature that does not verify is an error, as in adnanh');
    assert.equal(bad.text, 'Error occurred while evaluating hook rules.');
    assert.equal((await pushTo(c1, 'refs/heads/feature')).text, 'Hook rules were not satisfied.');
    // a burst: the first push deploys, the next five (during that deploy) collapse into one more
    const c2 = commit('greeting = two\n');
    assert.equal((await pushTo(c2)).status, 202);
    await sleep(300);
    const burst = [];
    for (let i = 0; i < 5; i++) burst.push(commit(`greeting = burst ${i}\n`));
    for (const sha of burst) assert.equal((await pushTo(sha)).status, 202);
    const last = burst.at(-1);
    await idle(hk, 'deploy', 30000);
    // the second deploy fetches whatever the tip is when it starts; the burst's pushes made during
    // it collapse into one more deploy, at the newest commit
    const log = applied();
    assert.equal(log.length, 3, 'two applies for the burst of six pushes');
    assert.equal(log.at(-1), last);
    const deploys = await runs(hk, 'deploy');
    assert.equal(deploys.filter((x) => x.status === 'succeeded').length, 3);
    assert.equal(deploys.filter((x) => x.status === 'coalesced').length, 4);
    assert.equal(git(join(d, 'checkout'), 'rev-parse', 'HEAD'), last);
    assert.ok(!existsSync(join(d, 'live', 'colour')), 'what the file no longer declares is removed');
    // the same through an inbound source verified by the github provider, routed to a hook
    const src = await api(hk, 'POST', '/api/v1/source', { body: { uid: 'gh', provider: 'github', secrets: [SECRET], routes: [{ hook: 'deploy-routed' }] } });
    assert.equal(src.status, 201, src.text);
    const c3 = commit('greeting = routed\n');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: c3 });
    const res = await fetch(`${hk.url}/in/gh`, { method: 'POST', body, headers: { ...JSON_CT, 'x-github-event': 'push', 'x-github-delivery': 'r-1', 'x-github-hook-id': '1', 'x-hub-signature-256': await octokitSign(SECRET, body) } });
    const resText = await res.text();
    assert.equal(res.status, 200, resText);
    const evt = JSON.parse(resText).id;
    await sleep(200);
    await idle(hk, 'deploy-routed', 30000);
    assert.equal(git(join(d, 'checkout'), 'rev-parse', 'HEAD'), c3);
    assert.equal(applied().at(-1), c3);
    const [run] = await runs(hk, 'deploy-routed');
    assert.equal(run.eventId, evt, 'the run points at the inbound event');
    assert.equal(run.trigger, 'route');
    const ev = await api(hk, 'GET', `/api/v1/source/gh/event/${evt}`);
    assert.equal(ev.json.routed[0].hook, 'deploy-routed');
  } finally { await hk.stop(); hk.cleanup(); }
});
