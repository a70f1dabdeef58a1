// One customer: balances, an adjustment form, exclusion, rewards and the points history.

import {formatDate, formatMoney, formatNumber, h, humanize, randomKey} from '../dom.js';
import {createForm} from '../form.js';
import {button, card, confirmDialog, page, pagination, statusBadge, summary, table, toast}
  from '../ui.js';
import {tierCard} from './customer_tier.js';
import {customerName} from './customers.js';
import {refundButton} from './rewards.js';

const SIZE = 20;
const ADJUST_FIELDS = [
  {name: 'points', type: 'integer', label: 'Points', help: 'Negative to take points away.'},
  {name: 'reason', type: 'text', label: 'Reason', help: 'Kept in the points history.'},
];

function adjustCard(api, id, refresh) {
  // One key per adjustment: a retry after a lost answer posts it once; a new one gets a new key.
  const key = randomKey();
  return card({title: 'Adjust points'}, createForm({
    fields: ADJUST_FIELDS,
    submitLabel: 'Adjust points',
    async onSubmit(body) {
      await api.post(`/customers/${id}/adjust-points`, body, {'Idempotency-Key': key});
      toast('Points adjusted');
      refresh();
    },
  }));
}

function exclusionButton(api, customer, refresh) {
  const status = customer.customerStatus;
  if (status === 'EXCLUDED_BY_CUSTOMER') return null;
  const excluded = status === 'EXCLUDED';
  return button(excluded ? 'Include in the program' : 'Exclude from the program', {
    variant: excluded ? null : 'critical',
    async onClick() {
      if (!excluded && !await confirmDialog({title: `Exclude ${customerName(customer)}?`,
        message: 'They stop earning and redeeming points until you include them again.',
        confirmLabel: 'Exclude', tone: 'critical'})) return;
      await api.post(`/customers/${customer.customerId}/${excluded ? 'include' : 'exclude'}`);
      toast(excluded ? 'Included' : 'Excluded');
      refresh();
    },
  });
}

function pointsCard(customer, currency) {
  return card({title: 'Points'}, summary([
    ['Available', formatNumber(customer.availablePoints)],
    ['Pending', formatNumber(customer.pendingPoints)],
    ['Earned, lifetime', formatNumber(customer.creditedPoints)],
    ['Redeemed, lifetime', formatNumber(customer.spentPoints)],
    ['Store credit', formatMoney(customer.storeCreditBalance, currency)],
  ]));
}

function rewardsCard(customer, api, refresh) {
  return card({title: 'Rewards', flush: true}, table({caption: 'Rewards', rows: customer.rewards,
    empty: 'No rewards yet.', columns: [
      {label: 'Reward', wrap: true, render: (r) => r.description || humanize(r.rewardType)},
      {label: 'Code', render: (r) => (r.discountCode ? h('span', {class: 'mono'}, r.discountCode)
        : '—')},
      {label: 'Status', render: (r) => statusBadge(r.status, humanize(r.status))},
      {label: 'Points', numeric: true, render: (r) => formatNumber(r.points)},
      {label: 'Created', render: (r) => formatDate(r.createdAt)},
      {label: 'Actions', render: (r) => refundButton(api, r, refresh)},
    ]}));
}

function historyCard(rows, total, pageNumber, id) {
  return card({title: 'Points history', flush: true, footer: pagination({page: pageNumber,
    size: SIZE, total, hrefFor: (n) => `/app/customers/${id}?page=${n}`})},
  table({caption: 'Points history', rows, empty: 'No points yet.', columns: [
    {label: 'Date', render: (t) => formatDate(t.createdAt, {time: true})},
    {label: 'What', wrap: true, render: (t) => h('div', {}, humanize(t.kind),
      t.description ? h('div', {class: 'text-secondary'}, t.description) : null)},
    {label: 'Status', render: (t) => statusBadge(t.status, humanize(t.status))},
    {label: 'Points', numeric: true, render: (t) => (t.points > 0 ? '+' : '')
      + formatNumber(t.points)},
    {label: 'Balance', numeric: true, render: (t) => formatNumber(t.availableAfter)},
  ]}));
}

export async function view({id, query}, {api, shopInfo, refresh}) {
  const pageNumber = Math.max(0, Number.parseInt(query.get('page') || '0', 10) || 0);
  const [{data: customer}, {data: rows, total}, shop, {data: tiers}] = await Promise.all([
    api.get(`/customers/${id}`),
    api.get(`/customers/${id}/transactions`, {page: pageNumber, size: SIZE}),
    shopInfo(), api.get('/vip-tiers', {members: false})]);
  const name = customerName(customer);
  return page({title: name, backTo: '/app/customers', backLabel: 'Customers',
    subtitle: [customer.email !== name ? customer.email : null,
      `Customer ${customer.customerId}`, `since ${formatDate(customer.createdAt)}`]
      .filter(Boolean).join(' · '),
    actions: [statusBadge(customer.customerStatus, humanize(customer.customerStatus)),
      exclusionButton(api, customer, refresh)].filter(Boolean)},
  h('div', {class: 'columns columns--two-one columns--aside-first'},
    h('div', {class: 'stack'}, pointsCard(customer, shop.currency), adjustCard(api, id, refresh),
      tierCard(api, customer, tiers, shop.currency, refresh)),
    h('div', {class: 'stack'}, historyCard(rows, total, pageNumber, id),
      rewardsCard(customer, api, refresh))));
}
