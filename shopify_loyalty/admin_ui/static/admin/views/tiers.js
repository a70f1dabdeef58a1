// VIP tiers: the shop's ladder (every tier, active or not, lowest first, with its members)
// and how customers climb it (the tier metric and period, two of the shop's settings).

import {openApiSpec} from '../api.js';
import {formatNumber, h} from '../dom.js';
import {createForm} from '../form.js';
import {button, card, page, statusBadge, table, toast} from '../ui.js';
import {settingField} from './settings.js';
import {inMetric, METRIC_WORDS, PERIOD_WORDS} from './tier_metric.js';

const CLIMB = ['tierMetric', 'tierPeriod'];

function multiplier(tier) {
  return `×${formatNumber(tier.earnMultiplier)}`;
}

/** The tier metric and period, saved with PATCH /settings like the Settings page. */
function climbCard(api, spec, values, refresh) {
  const properties = spec.components.schemas.Settings.properties;
  const form = createForm({
    fields: CLIMB.map((name) => ({...settingField(name, properties[name]), wide: false,
      group: null})),
    values,
    grid: true,
    submitLabel: 'Save',
    async onSubmit(body) {
      await api.patch('/settings', body);
      toast('Tier settings saved');
      refresh();
    },
  });
  return card({title: 'How customers climb'},
    h('p', {class: 'text-secondary'}, `Progress counts ${METRIC_WORDS[values.tierMetric]}, `
      + `over ${PERIOD_WORDS[values.tierPeriod]}. A customer moves up as soon as they reach a `
      + "tier's threshold, and down only when their tier's time is up."),
    form);
}

export async function view(_params, {api, shopInfo, refresh}) {
  const [{data: tiers}, {data: values}, spec, shop] = await Promise.all([
    api.get('/vip-tiers'), api.get('/settings'), openApiSpec(), shopInfo()]);
  const metric = values.tierMetric;
  return page({title: 'VIP tiers',
    actions: [button('Add tier', {variant: 'primary', href: '/app/tiers/new'})]},
  card({title: 'Tiers', flush: true},
    table({caption: 'Tiers', rows: tiers, empty: 'No tiers yet: add one.', columns: [
      {label: 'Tier', render: (t) => h('a', {href: `/app/tiers/${t.id}`}, t.name)},
      {label: 'Threshold', numeric: true, render: (t) => inMetric(t.threshold, metric,
        shop.currency)},
      {label: 'Earns', numeric: true, render: multiplier},
      {label: 'Entry points', numeric: true, render: (t) => formatNumber(t.entryPoints)},
      {label: 'Perks', wrap: true, render: (t) => t.perks || '—'},
      {label: 'Members', numeric: true, render: (t) => formatNumber(t.members)},
      {label: 'Status', render: (t) => statusBadge(t.active ? 'ACTIVE' : 'INACTIVE',
        t.active ? 'Active' : 'Inactive')},
    ]})),
  climbCard(api, spec, values, refresh));
}
