// hooks.js - command hooks, their runs, one run's output, and rerun. A
// server without command hooks answers 404: the page says so.

import { ApiError, enc, get, post } from '../api.js';
import { badge, busy, clear, copyable, empty, h, loading, pre, table, timeEl } from '../dom.js';
import * as live from '../live.js';

const RUN_KIND = { succeeded: 'success', success: 'success', failed: 'fail', fail: 'fail', timeout: 'fail', running: 'sending', queued: 'pending' };

function runBadge(s) {
  return badge(String(s ?? 'unknown'), RUN_KIND[s] || 'muted');
}

function unavailable(root, title) {
  root.append(h('h1', {}, title), empty('Command hooks are not available on this server.',
    h('p', { class: 'muted' }, 'Start hookd with ', h('code', {}, '--hooks hooks.json'), ' to run commands on webhooks.')));
}

async function orMissing(root, title, fn) {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      clear(root);
      unavailable(root, title);
      return null;
    }
    throw e;
  }
}

export async function hookList(root) {
  root.append(loading());
  const res = await orMissing(root, 'Command hooks', () => get('/hook', { limit: 250 }));
  if (!res) return;
  const hooks = res.data || res || [];
  clear(root, h('h1', {}, 'Command hooks'),
    hooks.length ? table(['Hook', 'Command', 'Triggered at'], hooks.map((x) => [
      h('a', { href: `#/hook/${enc(x.id)}` }, x.id), h('code', {}, x.executeCommand || x.command || '—'),
      h('code', {}, `/hooks/${x.id}`)]), 'Command hooks') : empty('No command hooks are defined.'));
}

export async function hookPage(root, { hook }) {
  root.append(loading());
  const res = await orMissing(root, 'Command hook', () => get(`/hook/${enc(hook)}/run`, { limit: 100 }));
  if (!res) return undefined;
  const list = h('div');
  clear(root, h('p', { class: 'crumbs' }, h('a', { href: '#/hooks' }, 'Command hooks'), ' / '), h('h1', {}, hook), list);
  function show(r) {
    const runs = r.data || [];
    clear(list, runs.length ? table(['Run', 'Status', 'Exit code', 'Started', 'Duration'], runs.map((x) => [
      h('a', { href: `#/hook/${enc(hook)}/run/${enc(x.id)}` }, x.id), runBadge(x.status), x.exitCode ?? '—',
      timeEl(x.startedAt || x.createdAt || x.timestamp), x.durationMs !== undefined ? `${x.durationMs} ms` : '—']), 'Runs')
      : empty('This hook has not run yet.'));
  }
  show(res);
  const off = live.on('tick', () => get(`/hook/${enc(hook)}/run`, { limit: 100 }).then(show).catch(() => {}));
  return off;
}

export async function hookRun(root, { hook, run }) {
  root.append(loading());
  const r = await orMissing(root, 'Hook run', () => get(`/hook/${enc(hook)}/run/${enc(run)}`));
  if (!r) return;
  const rerun = h('button', { type: 'button', class: 'primary' }, 'Run again');
  rerun.addEventListener('click', async () => {
    const n = await busy(rerun, () => post(`/hook/${enc(hook)}/run/${enc(run)}/rerun`), 'Hook queued again').catch(() => null);
    if (n && n.id) location.hash = `#/hook/${enc(hook)}/run/${enc(n.id)}`;
  });
  const out = r.output ?? [r.stdout, r.stderr].filter(Boolean).join('\n');
  clear(root, h('p', { class: 'crumbs' }, h('a', { href: '#/hooks' }, 'Command hooks'), ' / ', h('a', { href: `#/hook/${enc(hook)}` }, hook), ' / '),
    h('div', { class: 'page-head' }, h('h1', {}, 'Run'), h('div', { class: 'actions' }, rerun)),
    h('dl', { class: 'card props' },
      h('dt', {}, 'ID'), h('dd', {}, copyable(r.id)),
      h('dt', {}, 'Status'), h('dd', {}, runBadge(r.status)),
      h('dt', {}, 'Exit code'), h('dd', {}, String(r.exitCode ?? '—')),
      h('dt', {}, 'Started'), h('dd', {}, timeEl(r.startedAt || r.createdAt)),
      r.args ? [h('dt', {}, 'Arguments'), h('dd', {}, h('code', {}, JSON.stringify(r.args)))] : null),
    h('section', { class: 'card', 'aria-labelledby': 'out-h' }, h('h2', { id: 'out-h' }, 'Output'), pre(out || '(no output)')));
}
