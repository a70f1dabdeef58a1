// Recent deliveries of the shop's events (GET /api/admin/event-deliveries, newest first):
// all of them or one endpoint's, "failed only" (waiting for a retry, or FAILED), each with
// a Replay button (POST …/replay: sent at once, the same webhook-id) that says how it went.

import {formatNumber, h, uid} from '../dom.js';
import {banner, button, card, pagination, statusBadge, table, toast} from '../ui.js';

export const SIZE = 20;

/** The page's filters from its query string. */
export function filtersOf(query) {
  const endpoint = Number.parseInt(query.get('endpoint') || '', 10);
  return {endpointId: endpoint > 0 ? endpoint : null, failed: query.get('failed') === '1',
    page: Math.max(0, Number.parseInt(query.get('page') || '0', 10) || 0)};
}

function hrefOf({endpointId, failed, page = 0}) {
  const params = new URLSearchParams();
  if (endpointId) params.set('endpoint', endpointId);
  if (failed) params.set('failed', '1');
  if (page) params.set('page', page);
  const search = params.toString();
  return search ? `/app/events?${search}` : '/app/events';
}

// Times of this day or week: no year, to keep the table narrow.
const short = new Intl.DateTimeFormat(undefined, {month: 'short', day: 'numeric',
  hour: 'numeric', minute: '2-digit'});

function when(iso) {
  return iso ? short.format(new Date(iso)) : '—';
}

/** The badge, and when it was delivered or is tried next. PENDING after an attempt is a
 * retry waiting for its time. */
function statusOf(d) {
  const retrying = d.status === 'PENDING' && d.attempts > 0;
  const words = {PENDING: 'Pending', DELIVERED: 'Delivered', FAILED: 'Failed'};
  const note = d.deliveredAt ? when(d.deliveredAt)
    : d.status === 'PENDING' && d.nextAttemptAt ? `Next try ${when(d.nextAttemptAt)}` : null;
  return h('div', {}, retrying ? statusBadge('FAILED', 'Retrying')
    : statusBadge(d.status, words[d.status] || d.status),
  note ? h('div', {class: 'text-secondary'}, note) : null);
}

function lastResult(d) {
  if (!d.attempts) return 'Not sent yet';
  const code = d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : null;
  const error = d.lastError && d.lastError !== code ? d.lastError : null;
  return h('div', {}, code || error || '—',
    code && error ? h('div', {class: 'text-secondary'}, error) : null);
}

function eventOf(d, url) {
  return h('div', {}, d.eventType,
    h('div', {class: 'text-secondary mono'}, d.eventId),
    h('div', {class: 'text-secondary'}, 'To ', h('span', {class: 'mono'}, url),
      ` · ${when(d.createdAt)}`));
}

/** What a replay came to, in words. */
function replayed(d) {
  const how = d.status === 'DELIVERED' ? 'delivered'
    : d.status === 'FAILED' ? 'failed' : 'not delivered yet: it will be retried';
  const answer = d.lastStatusCode ? ` (HTTP ${d.lastStatusCode})`
    : d.lastError ? ` (${d.lastError})` : '';
  return banner({tone: d.status === 'DELIVERED' ? 'success' : 'warning',
    title: `Delivery ${d.id} replayed: ${how}${answer}.`},
  h('p', {}, `${formatNumber(d.attempts)} attempts so far.`));
}

function filters({endpointId, failed}, endpoints, navigate) {
  const selectId = uid('endpoint');
  const checkId = uid('failed');
  const select = h('select', {id: selectId, class: 'input',
    onchange: () => navigate(hrefOf({endpointId: Number(select.value) || null, failed}))},
  h('option', {value: ''}, 'All endpoints'),
  endpoints.map((e) => h('option', {value: e.id, selected: e.id === endpointId}, e.url)));
  const check = h('input', {type: 'checkbox', id: checkId, checked: failed,
    onchange: () => navigate(hrefOf({endpointId, failed: check.checked}))});
  return h('div', {class: 'inline'}, h('label', {for: selectId}, 'Endpoint'), select,
    h('label', {class: 'check', for: checkId}, check, 'Failed only'));
}

/** The deliveries card; ``endpoints`` name the URL of each row's endpoint. */
export async function deliveriesCard(api, current, endpoints, {navigate, refresh}) {
  const {data: rows, total} = await api.get('/event-deliveries', {
    endpointId: current.endpointId, failed: current.failed || null, page: current.page,
    size: SIZE});
  const urls = new Map(endpoints.map((e) => [e.id, e.url]));
  async function replay(d) {
    const {data} = await api.post(`/event-deliveries/${d.id}/replay`);
    await refresh();
    const place = document.querySelector('[data-replay-result]');
    place.replaceChildren(replayed(data));
    place.querySelector('.banner').focus();
    toast(`Delivery ${d.id} replayed`);
  }
  const empty = current.failed ? 'No failed deliveries.'
    : 'No deliveries yet: each event the program sends to an endpoint is listed here.';
  return card({title: 'Recent deliveries', flush: true,
    actions: [filters(current, endpoints, navigate)],
    footer: pagination({page: current.page, size: SIZE, total,
      hrefFor: (n) => hrefOf({...current, page: n})})},
  h('div', {'data-replay-result': true}),
  table({caption: 'Recent deliveries', rows, empty, columns: [
    {label: 'Event', wrap: true, render: (d) => eventOf(d,
      urls.get(d.endpointId) || `endpoint ${d.endpointId}`)},
    {label: 'Status', render: statusOf},
    {label: 'Attempts', numeric: true, render: (d) => formatNumber(d.attempts)},
    {label: 'Last answer', render: lastResult},
    {label: 'Last try', render: (d) => when(d.lastAttemptAt)},
    {label: 'Actions', render: (d) => button('Replay', {ariaLabel: `Replay delivery ${d.id}`,
      onClick: () => replay(d)})},
  ]}));
}
