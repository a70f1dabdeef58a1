// The rule kinds and the fields each one uses: the rule forms are made from these.
// A new kind is one entry in REDEEM_KINDS or EARN_KINDS (and any new field in FIELDS).

const COMBINES = [['order', 'Order discounts'], ['product', 'Product discounts'],
  ['shipping', 'Shipping discounts']];
const FOLLOW_NETWORKS = [['facebook', 'Facebook'], ['instagram', 'Instagram'],
  ['tiktok', 'TikTok'], ['twitter', 'X (Twitter)'], ['pinterest', 'Pinterest'],
  ['youtube', 'YouTube']];
const SHARE_NETWORKS = [['facebook', 'Facebook'], ['x', 'X (Twitter)']];
const REFEREE_KINDS = [['FIXED_AMOUNT', 'An amount off'], ['PERCENTAGE', 'A percentage off']];
const INTERVALS = [['day', 'A day'], ['week', 'A week'], ['month', 'A month'],
  ['year', 'A year'], ['lifetime', 'Ever']];

/** Every field a rule form can show, by its API name. */
export const FIELDS = {
  name: {type: 'text', label: 'Name', wide: true},
  description: {type: 'textarea', label: 'Description', wide: true,
    help: 'Shown to customers with the reward.'},
  pointsCost: {type: 'integer', label: 'Points cost', suffix: 'points'},
  value: {type: 'money', label: 'Amount off', prefix: '$'},
  maxShipping: {type: 'money', label: 'Maximum shipping price covered',
    help: 'Empty: any shipping price.'},
  variantIds: {type: 'ids', label: 'Product variant ids', wide: true,
    help: 'The variants a customer can choose from, comma-separated.'},
  productIds: {type: 'ids', label: 'Only for products (ids)', help: 'Comma-separated.'},
  collectionIds: {type: 'ids', label: 'Only for collections (ids)', help: 'Comma-separated.'},
  pointsPerUnit: {type: 'integer', label: 'Points for one currency unit', suffix: 'points'},
  minPoints: {type: 'integer', label: 'Fewest points', suffix: 'points'},
  maxPoints: {type: 'integer', label: 'Most points', suffix: 'points',
    help: 'Empty: as many as the customer has.'},
  increment: {type: 'integer', label: 'In steps of', suffix: 'points'},
  minSubtotal: {type: 'money', label: 'Minimum order subtotal', help: 'Empty: no minimum.'},
  expiresInDays: {type: 'integer', label: 'Code expires after', suffix: 'days',
    help: 'Empty: never.'},
  combinesWith: {type: 'checkboxes', label: 'Combines with', options: COMBINES},
  limitCount: {type: 'integer', label: 'Claims allowed', help: 'Empty: no limit.'},
  limitInterval: {type: 'select', label: 'Per', options: INTERVALS, nullable: true,
    emptyLabel: 'No limit'},
  points: {type: 'integer', label: 'Points', suffix: 'points'},
  minOrder: {type: 'money', label: 'Minimum order', help: 'Empty: any order earns.'},
  includeShipping: {type: 'checkbox', label: 'Count shipping'},
  includeTax: {type: 'checkbox', label: 'Count taxes'},
  pendingDays: {type: 'integer', label: 'Points pending for', suffix: 'days',
    help: 'Points become spendable after this many days (your return window); 0: at once.'},
  network: {type: 'select', label: 'Network', options: FOLLOW_NETWORKS,
    help: 'One rule per network.'},
  refereeValue: {type: 'money', label: "Friend's discount", prefix: null,
    help: 'What the code a referred friend gets is worth: an amount, or a percent.'},
  refereeKind: {type: 'select', label: "Friend's discount is", options: REFEREE_KINDS},
  // Its options are the shop's tiers (fieldsOf's ``tiers``).
  requiredTierId: {type: 'select', label: 'Only for VIP tier', numeric: true, nullable: true,
    emptyLabel: 'Every customer', options: [],
    help: 'The tier chosen and every tier above it can redeem this reward.'},
};

const LIMITS = ['limitCount', 'limitInterval'];
const CODE_TERMS = ['minSubtotal', 'expiresInDays', 'combinesWith', ...LIMITS,
  'requiredTierId'];

/** Redeem rule kinds: their name, and their fields after name and description.
 * A field may be [name, overrides] to relabel it for the kind. */
export const REDEEM_KINDS = {
  FIXED_AMOUNT: {label: 'Amount off the order',
    fields: ['pointsCost', ['value', {label: 'Amount off'}], 'productIds', 'collectionIds',
      ...CODE_TERMS]},
  PERCENTAGE: {label: 'Percentage off the order',
    fields: ['pointsCost', ['value', {label: 'Percent off', prefix: null, suffix: '%'}],
      'productIds', 'collectionIds', ...CODE_TERMS]},
  FREE_SHIPPING: {label: 'Free shipping', fields: ['pointsCost', 'maxShipping', ...CODE_TERMS]},
  FREE_PRODUCT: {label: 'Free product', fields: ['pointsCost', 'variantIds', ...CODE_TERMS]},
  STORE_CREDIT: {label: 'Store credit',
    fields: ['pointsCost', ['value', {label: 'Credit amount'}],
      ['expiresInDays', {label: 'Credit expires after'}], ...LIMITS, 'requiredTierId']},
  VARIABLE_AMOUNT: {label: 'Amount off, customer picks the points',
    fields: ['pointsPerUnit', 'minPoints', 'maxPoints', 'increment', 'productIds',
      'collectionIds', ...CODE_TERMS]},
};

/** Earn rule kinds: the newest active rule of a kind is the one that applies. */
export const EARN_KINDS = {
  PURCHASE: {label: 'Points for purchases',
    fields: [['pointsPerUnit', {label: 'Points per currency unit spent'}], 'minOrder',
      'includeShipping', 'includeTax', 'pendingDays']},
  SIGNUP: {label: 'Points for signing up', fields: ['points', 'pendingDays']},
  BIRTHDAY: {label: 'Points on their birthday', fields: [['points', {
    help: "Once a year, on the customer's birthday (a date of birth given 30 days before)."}]]},
  NEWSLETTER: {label: 'Points for subscribing to emails', fields: [['points', {
    help: 'Once, when the customer agrees to email marketing in Shopify.'}]]},
  SMS: {label: 'Points for subscribing to texts', fields: [['points', {
    help: 'Once, when the customer agrees to SMS marketing in Shopify.'}]]},
  SOCIAL_FOLLOW: {label: 'Points for following on social media',
    fields: ['network', ['points', {help: 'Once per customer and network.'}]]},
  SOCIAL_SHARE: {label: 'Points for sharing on social media',
    fields: [['network', {options: SHARE_NETWORKS}],
      ['points', {help: 'Once per customer and network.'}]]},
  REFERRAL: {label: 'Referring a friend',
    fields: [['points', {label: "Referrer's points",
      help: "For each referred friend's first paid order (see the weekly cap in Settings)."}],
    'pendingDays', 'refereeKind', 'refereeValue']},
};

export const FAMILIES = {
  'redeem-rules': {kinds: REDEEM_KINDS, head: ['name', 'description'], noun: 'reward',
    title: 'Ways to redeem'},
  'earn-rules': {kinds: EARN_KINDS, head: [['name', {help: 'Optional.'}]], noun: 'way to earn',
    title: 'Ways to earn'},
};

/** The form fields of a kind, with the shop's currency as the money prefix and the
 * shop's tiers (``tiers``, lowest first; inactive ones only if ``current`` names one) as
 * the choices of a required tier. */
export function fieldsOf(family, kind, currency, {tiers = [], current = {}} = {}) {
  const {kinds, head} = FAMILIES[family];
  const symbol = currencySymbol(currency);
  return [...head, ...kinds[kind].fields].map((entry) => {
    const [name, overrides] = Array.isArray(entry) ? entry : [entry, {}];
    const field = {name, ...FIELDS[name], ...overrides};
    if (field.type === 'money' && field.prefix !== null) field.prefix = symbol;
    if (name === 'requiredTierId') {
      field.options = tiers.filter((t) => t.active || t.id === current.requiredTierId)
        .map((t) => [String(t.id), t.active ? t.name : `${t.name} (inactive)`]);
    }
    return field;
  });
}

/** Whether a kind's form shows a field. */
export function kindHas(family, kind, name) {
  return FAMILIES[family].kinds[kind].fields.some((entry) =>
    (Array.isArray(entry) ? entry[0] : entry) === name);
}

export function currencySymbol(currency) {
  try {
    const parts = new Intl.NumberFormat(undefined, {style: 'currency', currency: currency || 'USD'})
      .formatToParts(0);
    return (parts.find((part) => part.type === 'currency') || {}).value || currency;
  } catch {
    return currency;
  }
}
