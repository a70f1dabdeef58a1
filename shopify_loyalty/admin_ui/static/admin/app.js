// The admin's entry point: which mode the page is in, the API client, the routes.
//
// A new page is a view module and one route() line here (and a link in app.html's menus).

import {createApi} from './api.js';
import {h} from './dom.js';
import {route, start} from './router.js';
import {banner, page} from './ui.js';
import * as apiKeys from './views/api_keys.js';
import * as customer from './views/customer.js';
import * as customers from './views/customers.js';
import * as dashboard from './views/dashboard.js';
import * as data from './views/data.js';
import * as eventEndpoints from './views/event_endpoints.js';
import * as program from './views/program.js';
import * as referrals from './views/referrals.js';
import * as rewards from './views/rewards.js';
import * as ruleForm from './views/rule_form.js';
import * as settings from './views/settings.js';
import * as tierForm from './views/tier_form.js';
import * as tiers from './views/tiers.js';

function meta(name) {
  const tag = document.querySelector(`meta[name="${name}"]`);
  return tag ? tag.content : null;
}

route('/', dashboard.view);
route('/program', program.view);
route('/program/:family/new', ruleForm.create);
route('/program/:family/:id', ruleForm.edit);
route('/tiers', tiers.view);
route('/tiers/new', tierForm.create);
route('/tiers/:id', tierForm.edit);
route('/settings', settings.view);
route('/customers', customers.view);
route('/customers/:id', customer.view);
route('/rewards', rewards.view);
route('/referrals', referrals.view);
route('/events', eventEndpoints.view);
route('/api-keys', apiKeys.view);
route('/data', data.view);

const mode = meta('loyalty-mode');
const bridge = window.shopify;
if (mode === 'embedded' && !(bridge && typeof bridge.idToken === 'function')) {
  // Opened outside the Shopify admin with no session, or Shopify's CDN is out of reach.
  document.getElementById('main').replaceChildren(page({title: 'Open Loyalty from Shopify'},
    banner({tone: 'info', title: 'This page needs the Shopify admin, or a sign-in link.'},
      h('p', {}, 'Open the app from your Shopify admin (Apps → Loyalty). On a self-hosted '
        + 'install, run this on the server for a one-time link:'),
      h('p', {}, h('code', {}, 'flask --app app admin-link your-shop.myshopify.com')))));
} else {
  const api = createApi({mode, csrfToken: meta('csrf-token'), idToken: () => bridge.idToken()});
  let shop;
  // The shop's domain, name and currency, asked once and shared by every page.
  const shopInfo = () => {
    shop = shop || api.get('/shop').then(({data}) => data).catch((error) => {
      shop = undefined;
      throw error;
    });
    return shop;
  };
  start({api, mode, shopInfo});
}
