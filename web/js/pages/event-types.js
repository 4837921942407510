// event-types.js - the event types, their descriptions and JSON schemas,
// and a form to add one.

import { getAll, post } from '../api.js';
import { badge, busy, clear, empty, field, h, loading, pre, timeEl } from '../dom.js';

export async function eventTypes(root) {
  const list = h('div', {}, loading());
  const name = h('input', { type: 'text', required: true, pattern: '[a-zA-Z0-9._\\-]+', placeholder: 'invoice.paid' });
  const desc = h('input', { type: 'text', required: true });
  const schema = h('textarea', { rows: 5, placeholder: '{"type": "object", "properties": {...}}' });
  const msg = h('div', { class: 'form-error', role: 'alert' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'newet-h' }, h('h2', { id: 'newet-h' }, 'New event type'),
    field('Name', name), field('Description', desc),
    field('JSON schema (optional)', schema, 'Stored as version 1 of the type\'s schemas.'),
    msg,
    h('button', { type: 'submit', class: 'primary' }, 'Create event type'));
  const showArchived = h('input', { type: 'checkbox', onchange: () => load() });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    msg.textContent = '';
    const body = { name: name.value.trim(), description: desc.value };
    if (schema.value.trim()) {
      try { body.schemas = { 1: JSON.parse(schema.value) }; } catch (e) { msg.textContent = `The schema is not JSON: ${e.message}`; return; }
    }
    const ok = await busy(form.querySelector('button'), () => post('/event-type', body), 'Event type created').catch(() => null);
    if (ok) { form.reset(); load(); }
  });
  root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Event types'), field('Show archived', showArchived)), list, form);

  async function load() {
    const types = await getAll('/event-type', { include_archived: showArchived.checked, with_content: true }, 1000);
    clear(list, types.length ? h('div', { class: 'cards' }, types.map((t) => h('article', { class: 'card', 'aria-label': t.name },
      h('h2', {}, h('code', {}, t.name), ' ', t.archived ? badge('archived', 'muted') : null, t.deprecated ? badge('deprecated', 'pending') : null),
      h('p', {}, t.description || ''),
      t.schemas && Object.keys(t.schemas).length
        ? Object.entries(t.schemas).map(([v, s]) => h('details', {}, h('summary', {}, `Schema version ${v}`), pre(s)))
        : h('p', { class: 'muted' }, 'No schema.'),
      h('p', { class: 'muted small' }, 'Updated ', timeEl(t.updatedAt))))) : empty('No event types yet. Endpoints receive every event until some exist.'));
  }
  await load();
}
