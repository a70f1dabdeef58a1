// The dashboard: GET /api/admin/dashboard, the program at a glance.

import {formatMoney, formatNumber, formatPercent, h, humanize} from '../dom.js';
import {card, metric, page, statusBadge, table} from '../ui.js';
import {pointsChart} from './chart.js';

const SOURCES = {
  setting: 'your point value setting',
  rules: 'the best rate of your active rewards',
};

function valueNote(board) {
  if (board.pointValue === null) {
    return h('span', {}, 'Worth: set a ', h('a', {href: '/app/settings'}, 'point value'),
      ' or add an amount-off reward.');
  }
  return `Worth ${formatMoney(board.outstandingValue, board.currency)} at `
    + `${formatMoney(board.pointValue, board.currency, {precise: true})} a point `
    + `(${SOURCES[board.pointValueSource]}).`;
}

export async function view(_params, {api}) {
  const {data: board} = await api.get('/dashboard');
  return page({title: 'Dashboard'},
    h('div', {class: 'metrics'},
      metric('Members', formatNumber(board.members),
        `${formatNumber(board.customersByStatus.EXCLUDED
          + board.customersByStatus.EXCLUDED_BY_CUSTOMER)} excluded`),
      metric('Points outstanding', formatNumber(board.pointsOutstanding), valueNote(board)),
      metric('Redemption rate', formatPercent(board.redemptionRate),
        `${formatNumber(board.pointsSpent)} of ${formatNumber(board.pointsCredited)} points `
        + 'ever credited have been redeemed.'),
      metric('Pending points', formatNumber(board.pointsPending),
        'Earned, waiting for the return window.')),
    card({title: 'Points earned and redeemed, last 30 days'}, pointsChart(board.days)),
    h('div', {class: 'columns columns--halves'},
      card({title: 'Rewards by status'},
        h('ul', {class: 'status-list'}, Object.entries(board.rewardsByStatus).map(
          ([status, count]) => h('li', {}, statusBadge(status, humanize(status)),
            h('span', {}, formatNumber(count)))))),
      card({title: 'Top rewards', flush: true}, table({
        caption: 'Top rewards',
        rows: board.topRewards,
        empty: 'No rewards redeemed yet.',
        columns: [
          {label: 'Reward', render: (r) => (r.redeemRuleId
            ? h('a', {href: `/app/program/redeem-rules/${r.redeemRuleId}`}, r.name) : r.name)},
          {label: 'Redeemed', numeric: true, render: (r) => formatNumber(r.count)},
          {label: 'Points', numeric: true, render: (r) => formatNumber(r.points)},
        ],
      }))));
}
