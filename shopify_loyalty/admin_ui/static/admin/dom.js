// Building DOM nodes and formatting values. Text always goes in as text, never as HTML,
// so nothing that comes from the API (a customer's name, a rule's description) can
// inject markup.

const SVG = 'http://www.w3.org/2000/svg';

function build(element, props, children) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'class') {
      element.setAttribute('class', value);
    } else if (value === true) {
      element.setAttribute(key, '');
    } else {
      element.setAttribute(key, String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An HTML element: h('a', {href: '/app'}, 'Dashboard'). */
export function h(tag, props, ...children) {
  return build(document.createElement(tag), props, children);
}

/** An SVG element, for the chart. */
export function svg(tag, props, ...children) {
  return build(document.createElementNS(SVG, tag), props, children);
}

let lastId = 0;
/** A unique id, to tie a label, a help text or an error to its input. */
export function uid(prefix = 'id') {
  lastId += 1;
  return `${prefix}-${lastId}`;
}

const numbers = new Intl.NumberFormat();

export function formatNumber(value) {
  return value === null || value === undefined ? '—' : numbers.format(value);
}

/** Money from the API's decimal strings (or numbers) in the shop's currency. */
export function formatMoney(amount, currency, {precise = false} = {}) {
  if (amount === null || amount === undefined || amount === '') return '—';
  const options = {style: 'currency', currency: currency || 'USD'};
  if (precise) options.maximumFractionDigits = 6;
  return new Intl.NumberFormat(undefined, options).format(Number(amount));
}

export function formatPercent(share) {
  if (share === null || share === undefined) return '—';
  return new Intl.NumberFormat(undefined, {style: 'percent', maximumFractionDigits: 1})
    .format(share);
}

export function formatDate(iso, {time = false} = {}) {
  if (!iso) return '—';
  const options = {year: 'numeric', month: 'short', day: 'numeric'};
  if (time) Object.assign(options, {hour: 'numeric', minute: '2-digit'});
  // A bare date ("2026-11-02") is a UTC day: show that day, whatever the browser's zone.
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) options.timeZone = 'UTC';
  return new Intl.DateTimeFormat(undefined, options).format(new Date(iso));
}

/** "EXCLUDED_BY_CUSTOMER" → "Excluded by customer". */
export function humanize(code) {
  if (!code) return '';
  const words = String(code).replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A random key for Idempotency-Key headers (works outside secure contexts too). */
export function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
