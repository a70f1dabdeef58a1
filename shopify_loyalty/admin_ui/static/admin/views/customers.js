// Customers: search by email, name or id; newest first; paged.

import {formatDate, formatNumber, h, humanize, uid} from '../dom.js';
import {button, card, page, pagination, statusBadge, table} from '../ui.js';

const SIZE = 20;

export function customerName(customer) {
  const name = [customer.firstName, customer.lastName].filter(Boolean).join(' ');
  return name || customer.email || `Customer ${customer.customerId}`;
}

function searchForm(q, navigate) {
  const id = uid('search');
  const input = h('input', {id, type: 'search', name: 'q', class: 'input', value: q,
    placeholder: 'Email, name or customer id', autocomplete: 'off'});
  return h('form', {class: 'search-bar', role: 'search', onsubmit: (event) => {
    event.preventDefault();
    const text = input.value.trim();
    navigate(text ? `/app/customers?q=${encodeURIComponent(text)}` : '/app/customers');
  }}, h('div', {class: 'field'}, h('label', {for: id, class: 'visually-hidden'},
    'Search customers'), input), button('Search', {type: 'submit'}));
}

export async function view({query}, {api, navigate}) {
  const q = query.get('q') || '';
  const pageNumber = Math.max(0, Number.parseInt(query.get('page') || '0', 10) || 0);
  const [{data: rows, total}, {data: tiers}] = await Promise.all([
    api.get('/customers', {q, page: pageNumber, size: SIZE}),
    api.get('/vip-tiers', {members: false})]);
  const tierNames = Object.fromEntries(tiers.map((t) => [t.id, t.name]));
  const hrefFor = (n) => `/app/customers?${new URLSearchParams({...(q ? {q} : {}), page: n})}`;
  return page({title: 'Customers',
    subtitle: `${formatNumber(total)} ${q ? 'found' : 'in the program'}`},
  card({flush: true, footer: pagination({page: pageNumber, size: SIZE, total, hrefFor})},
    searchForm(q, navigate),
    table({caption: 'Customers', rows, empty: q ? 'No customer matches.' : 'No customers yet.',
      columns: [
        {label: 'Customer', render: (c) => h('div', {},
          h('a', {href: `/app/customers/${c.customerId}`}, customerName(c)),
          c.email && customerName(c) !== c.email
            ? h('div', {class: 'text-secondary'}, c.email) : null)},
        {label: 'Status', render: (c) => statusBadge(c.customerStatus,
          humanize(c.customerStatus))},
        {label: 'VIP tier', render: (c) => (c.vipTierId ? tierNames[c.vipTierId] || '—' : '—')},
        {label: 'Points', numeric: true, render: (c) => formatNumber(c.availablePoints)},
        {label: 'Pending', numeric: true, render: (c) => formatNumber(c.pendingPoints)},
        {label: 'Member since', render: (c) => formatDate(c.createdAt)},
      ]})));
}
