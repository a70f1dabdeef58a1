// The rule kinds and the fields each one uses: the rule forms are made from these.
// A new kind is one entry in REDEEM_KINDS or EARN_KINDS (and any new field in FIELDS).

const COMBINES = [['order', 'Order discounts'], ['product', 'Product discounts'],
  ['shipping', 'Shipping discounts']];
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
};

const LIMITS = ['limitCount', 'limitInterval'];
const CODE_TERMS = ['minSubtotal', 'expiresInDays', 'combinesWith', ...LIMITS];

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
      ['expiresInDays', {label: 'Credit expires after'}], ...LIMITS]},
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
};

export const FAMILIES = {
  'redeem-rules': {kinds: REDEEM_KINDS, head: ['name', 'description'], noun: 'reward',
    title: 'Ways to redeem'},
  'earn-rules': {kinds: EARN_KINDS, head: [['name', {help: 'Optional.'}]], noun: 'way to earn',
    title: 'Ways to earn'},
};

/** The form fields of a kind, with the shop's currency as the money prefix. */
export function fieldsOf(family, kind, currency) {
  const {kinds, head} = FAMILIES[family];
  const symbol = currencySymbol(currency);
  return [...head, ...kinds[kind].fields].map((entry) => {
    const [name, overrides] = Array.isArray(entry) ? entry : [entry, {}];
    const field = {name, ...FIELDS[name], ...overrides};
    if (field.type === 'money' && field.prefix !== null) field.prefix = symbol;
    return field;
  });
}

function currencySymbol(currency) {
  try {
    const parts = new Intl.NumberFormat(undefined, {style: 'currency', currency: currency || 'USD'})
      .formatToParts(0);
    return (parts.find((part) => part.type === 'currency') || {}).value || currency;
  } catch {
    return currency;
  }
}
