// Referrals: every friend a customer referred (GET /api/admin/referrals), newest first,
// by state: CLAIMED (the friend has a code), COMPLETED (a first paid order used it; paid
// or not, with the reason), REJECTED (refused, or the order was refunded or cancelled).

import {formatDate, formatNumber, h, humanize, uid} from '../dom.js';
import {card, page, pagination, statusBadge, table} from '../ui.js';

const SIZE = 20;
const STATES = ['CLAIMED', 'COMPLETED', 'REJECTED'];
const REASONS = {weekly_cap: "over the referrer's weekly cap"};

function filter(state, navigate) {
  const id = uid('state');
  const select = h('select', {id, class: 'input', onchange: () => navigate(select.value
    ? `/app/referrals?state=${select.value}` : '/app/referrals')},
  h('option', {value: ''}, 'All states'),
  STATES.map((s) => h('option', {value: s, selected: s === state}, humanize(s))));
  return h('div', {class: 'inline'}, h('label', {for: id}, 'State'), select);
}

function customerLink(id, email) {
  if (!id) return email || '—';
  return h('div', {}, h('a', {href: `/app/customers/${id}`}, email || `Customer ${id}`),
    email ? h('div', {class: 'text-secondary'}, `Customer ${id}`) : null);
}

function stateOf(r) {
  const note = r.reason ? REASONS[r.reason] || r.reason
    : r.state === 'COMPLETED' && !r.paid ? 'not paid' : null;
  return h('div', {}, statusBadge(r.state, humanize(r.state)),
    note ? h('div', {class: 'text-secondary'}, note) : null);
}

function earned(r) {
  if (r.state !== 'COMPLETED') return '—';
  return r.paid ? formatNumber(r.points) : 'Not paid';
}

export async function view({query}, {api, navigate}) {
  const state = STATES.includes(query.get('state')) ? query.get('state') : '';
  const pageNumber = Math.max(0, Number.parseInt(query.get('page') || '0', 10) || 0);
  const {data: rows, total} = await api.get('/referrals', {state, page: pageNumber, size: SIZE});
  const hrefFor = (n) => `/app/referrals?${new URLSearchParams({...(state ? {state} : {}),
    page: n})}`;
  return page({title: 'Referrals', subtitle: `${formatNumber(total)} referrals`},
    card({flush: true, actions: [filter(state, navigate)], title: 'Referred friends',
      footer: pagination({page: pageNumber, size: SIZE, total, hrefFor})},
    table({caption: 'Referrals', rows, empty: state ? 'No referral in this state.'
      : 'No referrals yet: customers share their link from the loyalty widget.', columns: [
      {label: 'Referrer', render: (r) => customerLink(r.referrerId, r.referrerEmail)},
      {label: 'Friend', render: (r) => customerLink(r.friendCustomerId, r.friendEmail)},
      {label: 'State', render: stateOf},
      {label: "Friend's code", render: (r) => (r.discountCode
        ? h('span', {class: 'mono'}, r.discountCode) : '—')},
      {label: 'Order', render: (r) => (r.orderId ? String(r.orderId) : '—')},
      {label: 'Referrer earned', numeric: true, render: earned},
      {label: 'Claimed', render: (r) => formatDate(r.createdAt)},
      {label: 'Completed', render: (r) => formatDate(r.completedAt)},
    ]})));
}
