// Import and export: CSV downloads of customers and the ledger, and starting balances
// imported from another app (customerId,points[,email]).

import {h, uid} from '../dom.js';
import {banner, button, card, page, table} from '../ui.js';

function report(result) {
  return h('div', {class: 'stack stack--tight'},
    banner({tone: result.rejected.length ? 'warning' : 'success',
      title: `${result.imported} imported, ${result.rejected.length} rejected.`}),
    result.rejected.length ? table({caption: 'Rejected rows', rows: result.rejected, columns: [
      {label: 'Line', numeric: true, render: (r) => String(r.line)},
      {label: 'Customer', render: (r) => r.customerId || '—'},
      {label: 'Why', render: (r) => r.reason},
    ]}) : null);
}

function importForm(api) {
  const id = uid('file');
  const input = h('input', {id, type: 'file', accept: '.csv,text/csv', name: 'file',
    'aria-describedby': `${id}-help`});
  const outcome = h('div', {role: 'status'});
  const form = h('form', {class: 'form', onsubmit: async (event) => {
    event.preventDefault();
    if (!input.files.length) {
      outcome.replaceChildren(banner({tone: 'critical'}, h('p', {}, 'Choose a CSV file first.')));
      return;
    }
    const body = new FormData();
    body.append('file', input.files[0]);
    try {
      const {data} = await api.post('/imports/balances', body);
      outcome.replaceChildren(report(data));
    } catch (error) {
      outcome.replaceChildren(banner({tone: 'critical'}, h('p', {}, error.message)));
    }
  }},
  h('div', {class: 'field'}, h('label', {for: id}, 'Balances file'), input,
    h('p', {class: 'field__help', id: `${id}-help`}, 'CSV rows of customerId,points and '
      + 'optionally email. Each customer is imported once, however often the file is sent.')),
  h('div', {class: 'form__actions'}, button('Import', {variant: 'primary', type: 'submit'})),
  outcome);
  return form;
}

export async function view(_params, {api}) {
  return page({title: 'Import and export', narrow: true},
    card({title: 'Export'}, h('div', {class: 'inline'},
      button('Download customers (CSV)', {onClick: () => api.download('/exports/customers.csv',
        'customers.csv')}),
      button('Download points history (CSV)', {onClick: () => api.download('/exports/ledger.csv',
        'ledger.csv')}))),
    card({title: 'Import starting balances'}, importForm(api)));
}
