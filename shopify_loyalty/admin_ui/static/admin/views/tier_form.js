// A VIP tier's page: add one, or edit, deactivate or activate it. The API checks the
// values (bounds, a threshold or name another active tier has) and its messages go under
// their fields.

import {h} from '../dom.js';
import {createForm} from '../form.js';
import {button, card, confirmDialog, page, statusBadge, toast} from '../ui.js';
import {thresholdAffix} from './tier_metric.js';

const METRIC_HELP = {SPENT: 'Money spent in paid orders, net of refunds.',
  POINTS_EARNED: 'Points earned by orders and actions (not adjustments).',
  ORDERS: 'Paid orders, net of cancelled ones.'};

function fieldsFor(metric, currency) {
  return [
    {name: 'name', type: 'text', label: 'Name', help: 'Customers see it.'},
    {name: 'threshold', type: 'money', label: 'Threshold', ...thresholdAffix(metric, currency),
      help: `${METRIC_HELP[metric]} Change what counts on the VIP tiers page.`},
    {name: 'earnMultiplier', type: 'money', label: 'Points multiplier', prefix: '×',
      help: 'Members earn this many times the points (1: as everyone).'},
    {name: 'entryPoints', type: 'integer', label: 'Entry points', suffix: 'points',
      help: 'Given once, the first time a customer reaches the tier.'},
    {name: 'perks', type: 'textarea', label: 'Perks', wide: true,
      help: 'Shown to customers: what the tier gives them.'},
  ];
}

async function context(api) {
  const {data: settings} = await api.get('/settings');
  return settings.tierMetric;
}

export async function create(_params, {api, shopInfo, navigate}) {
  const [metric, shop] = await Promise.all([context(api), shopInfo()]);
  const form = createForm({
    fields: fieldsFor(metric, shop.currency),
    values: {earnMultiplier: '1', entryPoints: 0},
    submitLabel: 'Create',
    grid: true,
    async onSubmit(body) {
      const given = Object.entries(body).filter(([, value]) => value !== null);
      const {data} = await api.post('/vip-tiers', Object.fromEntries(given));
      toast('Tier created');
      navigate(`/app/tiers/${data.id}`, {replace: true});
    },
  });
  return page({title: 'New VIP tier', backTo: '/app/tiers', backLabel: 'VIP tiers', narrow: true},
    card({}, form));
}

export async function edit({id}, {api, shopInfo, refresh}) {
  const [{data: tier}, metric, shop] = await Promise.all([api.get(`/vip-tiers/${id}`),
    context(api), shopInfo()]);
  async function deactivate() {
    const sure = await confirmDialog({title: `Deactivate ${tier.name}?`,
      message: 'No one enters it any more; the next daily tiers run places its members by '
        + 'their progress.', confirmLabel: 'Deactivate', tone: 'critical'});
    if (!sure) return;
    await api.post(`/vip-tiers/${id}/deactivate`);
    toast('Deactivated');
    refresh();
  }
  async function activate() {
    await api.patch(`/vip-tiers/${id}`, {active: true});
    toast('Activated');
    refresh();
  }
  const form = createForm({
    fields: fieldsFor(metric, shop.currency),
    values: tier,
    grid: true,
    extraActions: [tier.active ? button('Deactivate', {variant: 'critical', onClick: deactivate})
      : button('Activate', {onClick: activate})],
    async onSubmit(body) {
      await api.patch(`/vip-tiers/${id}`, body);
      toast('Saved');
      refresh();
    },
  });
  return page({title: tier.name, subtitle: 'VIP tier', backTo: '/app/tiers',
    backLabel: 'VIP tiers', narrow: true,
  actions: [statusBadge(tier.active ? 'ACTIVE' : 'INACTIVE', tier.active ? 'Active' : 'Inactive')]},
  tier.active ? null : h('p', {class: 'text-secondary'},
    'Inactive: no one enters it. Activate it to put it back on the ladder.'),
  card({}, form));
}
