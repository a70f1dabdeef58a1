// Rewards: every reward of the shop, newest first, by status; unused codes can be refunded.

import {formatDate, formatNumber, h, humanize, uid} from '../dom.js';
import {button, card, confirmDialog, page, pagination, statusBadge, table, toast} from '../ui.js';

const SIZE = 20;
const STATUSES = ['UNUSED', 'USED', 'REFUNDED', 'EXPIRED'];

/** "Refund" for an unused discount code: its points back, the code deactivated. */
export function refundButton(api, reward, refresh) {
  if (reward.status !== 'UNUSED' || reward.rewardType !== 'DISCOUNT_CODE') return null;
  return button('Refund', {
    ariaLabel: `Refund ${reward.description || 'reward'} ${reward.discountCode || ''}`.trim(),
    async onClick() {
      const sure = await confirmDialog({title: 'Refund this reward?',
        message: `${formatNumber(reward.points)} points go back to the customer and the code `
          + 'stops working.', confirmLabel: 'Refund', tone: 'critical'});
      if (!sure) return;
      await api.post(`/rewards/${reward.id}/refund`);
      toast('Reward refunded');
      refresh();
    },
  });
}

function filter(status, navigate) {
  const id = uid('status');
  const select = h('select', {id, class: 'input', onchange: () => navigate(select.value
    ? `/app/rewards?status=${select.value}` : '/app/rewards')},
  h('option', {value: ''}, 'All statuses'),
  STATUSES.map((s) => h('option', {value: s, selected: s === status}, humanize(s))));
  return h('div', {class: 'inline'}, h('label', {for: id}, 'Status'), select);
}

export async function view({query}, {api, navigate, refresh}) {
  const status = STATUSES.includes(query.get('status')) ? query.get('status') : '';
  const pageNumber = Math.max(0, Number.parseInt(query.get('page') || '0', 10) || 0);
  const {data: rows, total} = await api.get('/rewards', {status, page: pageNumber, size: SIZE});
  const hrefFor = (n) => `/app/rewards?${new URLSearchParams({...(status ? {status} : {}),
    page: n})}`;
  return page({title: 'Rewards', subtitle: `${formatNumber(total)} rewards`},
    card({flush: true, actions: [filter(status, navigate)], title: 'Redeemed rewards',
      footer: pagination({page: pageNumber, size: SIZE, total, hrefFor})},
    table({caption: 'Rewards', rows, empty: 'No rewards.', columns: [
      {label: 'Reward', wrap: true, render: (r) => r.description || humanize(r.rewardType)},
      {label: 'Customer', render: (r) => h('a', {href: `/app/customers/${r.customerId}`},
        String(r.customerId))},
      {label: 'Code', render: (r) => (r.discountCode ? h('span', {class: 'mono'},
        r.discountCode) : '—')},
      {label: 'Status', render: (r) => statusBadge(r.status, humanize(r.status))},
      {label: 'In Shopify', render: (r) => statusBadge(r.fulfillmentStatus,
        humanize(r.fulfillmentStatus))},
      {label: 'Points', numeric: true, render: (r) => formatNumber(r.points)},
      {label: 'Created', render: (r) => formatDate(r.createdAt)},
      {label: 'Actions', render: (r) => refundButton(api, r, refresh)},
    ]})));
}
