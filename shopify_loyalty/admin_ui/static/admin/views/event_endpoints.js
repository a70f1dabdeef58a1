// Event endpoints: the merchant's systems (Klaviyo, a CRM, a warehouse) that the program's
// events are sent to as signed webhooks. List them (events, enabled or why not, failing
// since), add one (its signing secret shown this once), disable, enable, delete; under them
// the recent deliveries (views/event_deliveries.js).

import {openApiSpec} from '../api.js';
import {formatDate, h} from '../dom.js';
import {createForm} from '../form.js';
import {banner, button, card, confirmDialog, page, statusBadge, table, toast} from '../ui.js';
import {deliveriesCard, filtersOf} from './event_deliveries.js';

// Every endpoint on one page: a shop has at most 20 (MAX_ENDPOINTS_PER_SHOP).
const ENDPOINTS_PAGE = 100;

/** The event types the API takes: the enum of the create schema in the OpenAPI spec. */
async function eventTypes() {
  const spec = await openApiSpec();
  return spec.components.schemas.EventEndpointCreate.properties.eventTypes.items.enum;
}

function shownOnce(secret) {
  const copy = button('Copy secret', {async onClick() {
    await navigator.clipboard.writeText(secret);
    toast('Secret copied');
  }});
  return banner({tone: 'success',
    title: 'Copy the signing secret now: it is shown once, and never again.'},
  h('p', {}, 'Your endpoint checks the webhook-signature header of each request with it '
    + '(Standard Webhooks).'),
  h('p', {class: 'mono'}, secret), navigator.clipboard ? copy : null);
}

function addCard(api, types, refresh) {
  const form = createForm({
    fields: [
      {name: 'url', type: 'text', label: 'Endpoint URL', wide: true,
        placeholder: 'https://hooks.example.com/loyalty',
        help: 'https, on a public address. Each event is POSTed to it.'},
      {name: 'eventTypes', type: 'checkboxes', label: 'Events', wide: true, columns: true,
        options: types.map((type) => [type, type]),
        help: 'None ticked: every event, including those added later.'},
    ],
    submitLabel: 'Add endpoint',
    async onSubmit(body) {
      let data;
      try {
        ({data} = await api.post('/event-endpoints', {url: body.url,
          eventTypes: body.eventTypes.length ? body.eventTypes : null}));
      } catch (error) {
        // The URL check answers with a message of its own and no field: it is the URL's.
        if (error.code === 'unsafe_endpoint_url' && !Object.keys(error.errors).length) {
          error.errors = {url: [error.message]};
        }
        throw error;
      }
      await refresh();
      const place = document.querySelector('[data-new-secret]');
      place.replaceChildren(shownOnce(data.secret));
      place.querySelector('.banner').focus();
    },
  });
  return card({title: 'Add an endpoint'}, form);
}

function statusOf(e) {
  return h('div', {}, e.enabled ? statusBadge('ACTIVE', 'Enabled')
    : statusBadge('DISABLED', 'Disabled'),
  !e.enabled && e.disabledReason ? h('div', {class: 'text-secondary'}, e.disabledReason) : null);
}

function actionsOf(api, e, refresh) {
  async function setEnabled(enabled) {
    await api.patch(`/event-endpoints/${e.id}`, {enabled});
    toast(enabled ? 'Endpoint enabled' : 'Endpoint disabled');
    refresh();
  }
  async function remove() {
    const sure = await confirmDialog({title: `Delete ${e.url}?`,
      message: 'No more events are sent to it, and its deliveries are deleted with it.',
      confirmLabel: 'Delete', tone: 'critical'});
    if (!sure) return;
    await api.remove(`/event-endpoints/${e.id}`);
    toast('Endpoint deleted');
    refresh();
  }
  return h('div', {class: 'inline'},
    button('Deliveries', {href: `/app/events?endpoint=${e.id}`,
      ariaLabel: `Deliveries to ${e.url}`}),
    e.enabled ? button('Disable', {ariaLabel: `Disable ${e.url}`, onClick: () => setEnabled(false)})
      : button('Enable', {ariaLabel: `Enable ${e.url}`, onClick: () => setEnabled(true)}),
    button('Delete', {variant: 'critical', ariaLabel: `Delete ${e.url}`, onClick: remove}));
}

export async function view({query}, {api, navigate, refresh}) {
  const [{data: endpoints}, types] = await Promise.all([
    api.get('/event-endpoints', {size: ENDPOINTS_PAGE}), eventTypes()]);
  const current = filtersOf(query);
  const deliveries = await deliveriesCard(api, current, endpoints, {navigate, refresh});
  return page({title: 'Event endpoints',
    subtitle: "Your other systems get the program's events as signed webhooks."},
  h('div', {'data-new-secret': true}),
  card({title: 'Endpoints', flush: true}, table({caption: 'Event endpoints', rows: endpoints,
    empty: 'No endpoints yet: add one below.', columns: [
      {label: 'URL', wrap: true, render: (e) => h('span', {class: 'mono'}, e.url)},
      {label: 'Events', wrap: true, render: (e) => (e.eventTypes ? e.eventTypes.join(', ')
        : 'All events')},
      {label: 'Status', render: statusOf},
      {label: 'Failing since', render: (e) => formatDate(e.failingSince, {time: true})},
      {label: 'Actions', render: (e) => actionsOf(api, e, refresh)},
    ]})),
  addCard(api, types, refresh),
  deliveries);
}
