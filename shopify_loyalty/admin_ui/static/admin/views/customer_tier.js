// A customer's VIP tier: the tier held and until when, the progress to the next one up,
// and the merchant's "set a tier" (POST /api/admin/customers/{id}/tier; none takes it away).

import {formatDate, h} from '../dom.js';
import {createForm} from '../form.js';
import {card, summary, toast} from '../ui.js';
import {inMetric} from './tier_metric.js';

function nameOf(tiers, id) {
  const tier = tiers.find((t) => t.id === id);
  return tier ? tier.name : null;
}

function standing(customer, tiers, currency) {
  const progress = customer.tierProgress;
  const held = customer.vipTierId ? nameOf(tiers, customer.vipTierId) || 'A tier' : 'No tier';
  const pairs = [['Tier', held]];
  if (customer.vipTierId) {
    pairs.push(['Kept until', customer.vipTierExpiredAt
      ? formatDate(customer.vipTierExpiredAt) : 'For good']);
  }
  if (progress) {
    pairs.push(['Progress', inMetric(progress.current, progress.metric, currency)]);
    const next = progress.nextTierId ? nameOf(tiers, progress.nextTierId) : null;
    pairs.push(['Next tier', next
      ? `${next}: ${inMetric(progress.neededForNext, progress.metric, currency)} to go`
      : 'None above']);
  }
  return summary(pairs);
}

/** The card; ``tiers`` are the shop's (GET /vip-tiers), ``refresh`` draws the page again. */
export function tierCard(api, customer, tiers, currency, refresh) {
  const choices = tiers.filter((t) => t.active).map((t) => [String(t.id), t.name]);
  const form = createForm({
    fields: [
      {name: 'tierId', type: 'select', label: 'Set tier', numeric: true, nullable: true,
        emptyLabel: 'No tier', options: choices},
      {name: 'until', type: 'date', label: 'Until',
        help: "Empty: the shop's tier period, as if reached today. After it, progress decides."},
    ],
    values: {tierId: customer.vipTierId},
    submitLabel: 'Set tier',
    async onSubmit({tierId, until}) {
      // The end of the chosen day (UTC), so that the tier is held that whole day.
      await api.post(`/customers/${customer.customerId}/tier`,
        {tierId, until: until ? `${until}T23:59:59Z` : null});
      toast(tierId ? `Tier set to ${nameOf(tiers, tierId)}` : 'Tier taken away');
      refresh();
    },
  });
  return card({title: 'VIP tier'}, standing(customer, tiers, currency),
    tiers.length ? form : h('p', {class: 'text-secondary'},
      'The shop has no tiers. ', h('a', {href: '/app/tiers'}, 'Add one'), '.'));
}
