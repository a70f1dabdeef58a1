// The program: the shop's ways to redeem (redeem rules) and ways to earn (earn rules).

import {formatMoney, formatNumber, h, uid} from '../dom.js';
import {button, card, page, statusBadge, table} from '../ui.js';
import {EARN_KINDS, FAMILIES, REDEEM_KINDS} from './kinds.js';

function cost(rule) {
  if (rule.kind === 'VARIABLE_AMOUNT') return `${formatNumber(rule.pointsPerUnit)} a unit`;
  return formatNumber(rule.pointsCost);
}

function worth(rule, currency) {
  if (rule.kind === 'PERCENTAGE') return `${rule.value}%`;
  if (rule.kind === 'FREE_SHIPPING') {
    return rule.maxShipping === null ? 'Any shipping' : `Up to ${formatMoney(rule.maxShipping,
      currency)}`;
  }
  if (rule.kind === 'FREE_PRODUCT') return `${rule.variantIds.length} variant(s)`;
  if (rule.kind === 'VARIABLE_AMOUNT') {
    return `${formatNumber(rule.minPoints)}–${rule.maxPoints === null ? 'any'
      : formatNumber(rule.maxPoints)} points`;
  }
  return formatMoney(rule.value, currency);
}

function earning(rule, currency) {
  if (rule.kind === 'PURCHASE') {
    const minimum = rule.minOrder ? `, orders from ${formatMoney(rule.minOrder, currency)}` : '';
    return `${formatNumber(rule.pointsPerUnit)} points per unit${minimum}`;
  }
  const points = rule.points === undefined || rule.points === null ? ''
    : `${formatNumber(rule.points)} points`;
  if (rule.kind === 'REFERRAL') {
    const gift = rule.refereeKind === 'PERCENTAGE' ? `${rule.refereeValue}% off`
      : formatMoney(rule.refereeValue, currency);
    return `${points} a referral; the friend gets ${gift}`;
  }
  if (rule.network) return `${points} on ${NETWORK_NAMES[rule.network] || rule.network}`;
  return points;
}

const NETWORK_NAMES = {facebook: 'Facebook', instagram: 'Instagram', tiktok: 'TikTok',
  twitter: 'X (Twitter)', x: 'X (Twitter)', pinterest: 'Pinterest', youtube: 'YouTube'};

/** "Add …" with a choice of kind: a select and a button, keyboard-friendly. */
function adder(family, kinds, label, navigate) {
  const id = uid('kind');
  const select = h('select', {id, class: 'input'}, Object.entries(kinds).map(([kind, info]) =>
    h('option', {value: kind}, info.label)));
  return h('div', {class: 'inline'},
    h('label', {for: id, class: 'visually-hidden'}, `Kind of ${FAMILIES[family].noun}`), select,
    button(label, {variant: 'primary',
      onClick: () => navigate(`/app/program/${family}/new?kind=${select.value}`)}));
}

function activeBadge(rule) {
  return statusBadge(rule.active ? 'ACTIVE' : 'INACTIVE', rule.active ? 'Active' : 'Inactive');
}

export async function view(_params, {api, shopInfo, navigate}) {
  const [{data: redeem}, {data: earn}, shop, {data: tiers}] = await Promise.all([
    api.get('/redeem-rules'), api.get('/earn-rules'), shopInfo(),
    api.get('/vip-tiers', {members: false})]);
  const tierNames = Object.fromEntries(tiers.map((t) => [t.id, t.name]));
  return page({title: 'Program'},
    card({title: 'Ways to redeem', flush: true,
      actions: [adder('redeem-rules', REDEEM_KINDS, 'Add reward', navigate)]},
    table({caption: 'Ways to redeem', rows: redeem, empty: 'No rewards yet: add one.',
      columns: [
        {label: 'Reward', render: (r) => h('div', {},
          h('a', {href: `/app/program/redeem-rules/${r.id}`}, r.name),
          r.requiredTierId ? h('div', {class: 'text-secondary'},
            `${tierNames[r.requiredTierId] || 'A tier'} and above`) : null)},
        {label: 'Kind', render: (r) => (REDEEM_KINDS[r.kind] || {label: r.kind}).label},
        {label: 'Points', numeric: true, render: cost},
        {label: 'Worth', render: (r) => worth(r, shop.currency)},
        {label: 'Status', render: activeBadge},
      ]})),
    card({title: 'Ways to earn', flush: true,
      actions: [adder('earn-rules', EARN_KINDS, 'Add way to earn', navigate)]},
    table({caption: 'Ways to earn', rows: earn, empty: 'No ways to earn yet: add one.',
      columns: [
        {label: 'Way to earn', render: (r) => h('a', {href: `/app/program/earn-rules/${r.id}`},
          r.name || (EARN_KINDS[r.kind] || {label: r.kind}).label)},
        {label: 'Kind', render: (r) => (EARN_KINDS[r.kind] || {label: r.kind}).label},
        {label: 'Earns', render: (r) => earning(r, shop.currency)},
        {label: 'Status', render: activeBadge},
      ]}),
    h('p', {class: 'card__footer text-secondary'},
      'Of several active rules of one kind, the newest applies.')));
}
