// API keys for the external API: create (the key is shown once), list, revoke.

import {formatDate, h} from '../dom.js';
import {createForm} from '../form.js';
import {banner, button, card, confirmDialog, page, statusBadge, table, toast} from '../ui.js';

function shownOnce(key) {
  const copy = button('Copy key', {async onClick() {
    await navigator.clipboard.writeText(key);
    toast('Key copied');
  }});
  return banner({tone: 'success', title: 'Copy your new key now: it is not shown again.'},
    h('p', {class: 'mono'}, key), navigator.clipboard ? copy : null);
}

export async function view(_params, {api, refresh}) {
  const {data: keys} = await api.get('/api-keys');
  const form = createForm({
    fields: [{name: 'name', type: 'text', label: 'Name',
      help: 'What the key is for, such as your ERP.'}],
    submitLabel: 'Create key',
    async onSubmit(body) {
      const {data} = await api.post('/api-keys', {name: body.name || null});
      await refresh();
      // The list is drawn again; the key goes above it, once.
      const place = document.querySelector('[data-new-key]');
      place.replaceChildren(shownOnce(data.key));
      place.querySelector('.banner').focus();
    },
  });
  async function revoke(key) {
    const sure = await confirmDialog({title: `Revoke ${key.name || key.hint}?`,
      message: 'Requests with this key are refused from now on.', confirmLabel: 'Revoke',
      tone: 'critical'});
    if (!sure) return;
    await api.remove(`/api-keys/${key.id}`);
    toast('Key revoked');
    refresh();
  }
  return page({title: 'API keys',
    subtitle: 'Keys for the external API (X-API-Key), for your other systems.'},
  h('div', {'data-new-key': true}),
  card({title: 'Create a key'}, form),
  card({title: 'Keys', flush: true}, table({caption: 'API keys', rows: keys,
    empty: 'No keys yet.', columns: [
      {label: 'Name', render: (k) => k.name || '—'},
      {label: 'Key', render: (k) => h('span', {class: 'mono'}, k.hint)},
      {label: 'Created', render: (k) => formatDate(k.createdAt)},
      {label: 'Status', render: (k) => (k.revokedAt ? statusBadge('REVOKED', 'Revoked')
        : statusBadge('ACTIVE', 'Active'))},
      {label: 'Actions', render: (k) => (k.revokedAt ? null : button('Revoke', {
        ariaLabel: `Revoke ${k.name || k.hint}`, onClick: () => revoke(k)}))},
    ]})));
}
