// live.js - one server-sent-events connection (GET /api/v1/stream, the token
// as access_token because EventSource cannot send headers) shared by every
// page. Pages subscribe to "message", "attempt" and "inbound" events. When
// the server has no stream (or refuses it) the dashboard falls back to a
// "tick" every few seconds, on which pages re-read what they show.

import { session } from './api.js';

const KINDS = ['message', 'attempt', 'inbound'];
const POLL_MS = 4000;
const subs = new Set();
let es = null;
let timer = null;
let opened = false;
export const state = { mode: 'off' };

function emit(kind, data) {
  for (const s of subs) {
    if (s.kind === kind || s.kind === '*') {
      try { s.fn(data, kind); } catch (e) { console.error(e); }
    }
  }
}

function setMode(mode) {
  state.mode = mode;
  const el = document.getElementById('live');
  if (!el) return;
  el.textContent = mode === 'stream' ? 'Live' : mode === 'polling' ? 'Polling' : 'Offline';
  el.className = `live live-${mode}`;
  el.title = mode === 'stream'
    ? 'Updates arrive as they happen (server-sent events)'
    : mode === 'polling' ? 'No event stream on this server: pages refresh every few seconds' : 'Not connected';
}

function poll() {
  if (timer) return;
  setMode('polling');
  timer = setInterval(() => emit('tick', null), POLL_MS);
}

export function start() {
  stop();
  if (!session.token) return;
  opened = false;
  try {
    es = new EventSource(`/api/v1/stream?access_token=${encodeURIComponent(session.token)}`);
  } catch {
    poll();
    return;
  }
  es.onopen = () => {
    opened = true;
    if (timer) { clearInterval(timer); timer = null; }
    setMode('stream');
  };
  es.onerror = () => {
    // closed for good (an error answer) or never opened: poll instead;
    // a dropped stream that had worked reconnects on its own
    if (es.readyState === EventSource.CLOSED || !opened) {
      if (es.readyState === EventSource.CLOSED) es = null;
      poll();
    }
  };
  for (const k of KINDS) {
    es.addEventListener(k, (ev) => {
      let data = null;
      try { data = JSON.parse(ev.data); } catch { data = { raw: ev.data }; }
      emit(k, data);
    });
  }
}

export function stop() {
  if (es) { es.close(); es = null; }
  if (timer) { clearInterval(timer); timer = null; }
  setMode('off');
}

// on subscribes fn to kind ("message" | "attempt" | "inbound" | "tick" | "*");
// returns the function that unsubscribes.
export function on(kind, fn) {
  const s = { kind, fn };
  subs.add(s);
  return () => subs.delete(s);
}
