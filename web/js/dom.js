// dom.js - a tiny element builder and the small pieces every page shares:
// status badges, times, copy buttons, notices, empty states and forms.

// h builds an element: h('a', {href: '#/'}, 'text', child, [more]).
// Attributes starting with "on" become listeners; null/false are skipped.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string' && k !== 'list') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const STATUS = ['success', 'pending', 'fail', 'sending', 'canceled'];

// badge shows a status as text and colour (never colour alone).
export function badge(text, kind = text) {
  return h('span', { class: `badge badge-${kind}` }, text);
}

export function statusBadge(n) {
  const name = STATUS[n] ?? String(n);
  return badge(name, name);
}

export function fmtTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return s;
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function timeEl(s) {
  return h('time', { datetime: s || '' }, fmtTime(s));
}

export function fmtNum(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return Number(n).toLocaleString(undefined, { maximumFractionDigits: digits });
}

export function fmtPct(x) {
  return x === null || x === undefined || Number.isNaN(x) ? '—' : `${(x * 100).toFixed(1)} %`;
}

// copyable shows a full id in code with a button that copies it.
export function copyable(text, label = 'Copy') {
  const btn = h('button', {
    type: 'button', class: 'copy', 'aria-label': `${label} ${text}`,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(text);
        btn.textContent = 'Copied';
      } catch {
        const r = document.createRange();
        r.selectNodeContents(code);
        getSelection().removeAllRanges();
        getSelection().addRange(r);
        btn.textContent = 'Selected';
      }
      setTimeout(() => { btn.textContent = label; }, 1500);
    },
  }, label);
  const code = h('code', { class: 'id' }, text);
  return h('span', { class: 'copyable' }, code, btn);
}

// notify announces a message in the live region (and shows it briefly).
export function notify(text, kind = 'info') {
  const box = document.getElementById('notices');
  const n = h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  box.append(n);
  setTimeout(() => n.remove(), kind === 'error' ? 8000 : 4000);
}

export function empty(text, ...more) {
  return h('div', { class: 'empty' }, h('p', {}, text), ...more);
}

export function errorBox(err) {
  return h('div', { class: 'error', role: 'alert' }, err.message || String(err));
}

export function loading() {
  return h('p', { class: 'loading', 'aria-busy': 'true' }, 'Loading…');
}

// field wraps a control with its label (and an optional hint).
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  const isCheck = control.type === 'checkbox';
  return isCheck
    ? h('div', { class: 'field check' }, control, h('label', { for: id }, label), hintEl)
    : h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

// table builds a responsive table: rows is a list of cell arrays.
export function table(headers, rows, caption) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || headers.join(', ') },
    h('table', {},
      caption ? h('caption', { class: 'sr-only' }, caption) : null,
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c)))))));
}

export function pre(value) {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return h('pre', { class: 'code', tabindex: '0' }, text);
}

// busy disables a button while an async action runs and reports its outcome.
export async function busy(btn, fn, okText) {
  btn.disabled = true;
  try {
    const r = await fn();
    if (okText) notify(okText, 'ok');
    return r;
  } catch (e) {
    notify(e.message || String(e), 'error');
    throw e;
  } finally {
    btn.disabled = false;
  }
}

// toLocalInput / fromLocalInput convert between RFC 3339 and <input type=datetime-local>.
export function toLocalInput(d) {
  const t = new Date(d);
  const p = (n) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}`;
}
export function fromLocalInput(v) {
  return v ? new Date(v).toISOString() : '';
}
