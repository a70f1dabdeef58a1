// A redeem or earn rule's page: create one of a kind, or edit, deactivate, activate one.
// The fields come from kinds.js, by the rule's kind; the API checks them.

import {h} from '../dom.js';
import {createForm} from '../form.js';
import {banner, button, card, confirmDialog, page, statusBadge, toast} from '../ui.js';
import {FAMILIES, fieldsOf, kindHas} from './kinds.js';

function familyOf(name) {
  const family = FAMILIES[name];
  if (!family) throw new Error('There is no such part of the program.');
  return family;
}

/** The shop's tiers, for a form with a required tier (none asked for otherwise). */
async function tiersFor(api, family, kind) {
  if (!kindHas(family, kind, 'requiredTierId')) return [];
  return (await api.get('/vip-tiers', {members: false})).data;
}

function capitalised(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function kindChooser(family, info) {
  return page({title: `New ${info.noun}`, backTo: '/app/program', backLabel: 'Program',
    narrow: true},
  card({title: 'Choose a kind'}, h('ul', {class: 'status-list'},
    Object.entries(info.kinds).map(([kind, {label}]) =>
      h('li', {}, h('a', {href: `/app/program/${family}/new?kind=${kind}`}, label))))));
}

export async function create({family, query}, {api, shopInfo, navigate}) {
  const info = familyOf(family);
  const kind = query.get('kind');
  if (!info.kinds[kind]) return kindChooser(family, info);
  const [shop, tiers] = await Promise.all([shopInfo(), tiersFor(api, family, kind)]);
  const form = createForm({
    fields: fieldsOf(family, kind, shop.currency, {tiers}),
    values: family === 'earn-rules' ? {pendingDays: 0} : {},
    submitLabel: 'Create',
    grid: true,
    async onSubmit(body) {
      // Left empty means "not set": the API's default.
      const given = Object.entries(body).filter(([, value]) => value !== null);
      const {data} = await api.post(`/${family}`, {kind, ...Object.fromEntries(given)});
      toast(`${capitalised(info.noun)} created`);
      navigate(`/app/program/${family}/${data.id}`, {replace: true});
    },
  });
  return page({title: `New ${info.noun}: ${info.kinds[kind].label}`, backTo: '/app/program',
    backLabel: 'Program', narrow: true}, card({}, form));
}

export async function edit({family, id}, {api, shopInfo, refresh}) {
  const info = familyOf(family);
  const [{data: rule}, shop] = await Promise.all([api.get(`/${family}/${id}`), shopInfo()]);
  const kind = info.kinds[rule.kind];
  const tiers = kind ? await tiersFor(api, family, rule.kind) : [];
  if (!kind) {
    return page({title: rule.name || rule.kind, backTo: '/app/program', backLabel: 'Program'},
      banner({tone: 'warning'}, h('p', {}, `${rule.kind} rules cannot be edited here yet.`)));
  }
  async function deactivate() {
    const sure = await confirmDialog({title: `Deactivate ${rule.name || kind.label}?`,
      message: 'Customers stop seeing it; what they already have stays theirs.',
      confirmLabel: 'Deactivate', tone: 'critical'});
    if (!sure) return;
    await api.post(`/${family}/${id}/deactivate`);
    toast('Deactivated');
    refresh();
  }
  async function activate() {
    await api.patch(`/${family}/${id}`, {active: true});
    toast('Activated');
    refresh();
  }
  const form = createForm({
    fields: fieldsOf(family, rule.kind, shop.currency, {tiers, current: rule}),
    values: rule,
    grid: true,
    extraActions: [rule.active ? button('Deactivate', {variant: 'critical', onClick: deactivate})
      : button('Activate', {onClick: activate})],
    async onSubmit(body) {
      await api.patch(`/${family}/${id}`, body);
      toast('Saved');
      refresh();
    },
  });
  return page({title: rule.name || kind.label, subtitle: kind.label, backTo: '/app/program',
    backLabel: 'Program', narrow: true,
  actions: [statusBadge(rule.active ? 'ACTIVE' : 'INACTIVE', rule.active ? 'Active' : 'Inactive')]},
  card({}, form));
}
