// The client-side router: real paths under /app (the server answers each with the same
// page), so links can be opened in a new tab, and App Bridge's menu links work as they are.

import {ApiError} from './api.js';
import {h} from './dom.js';
import {banner, page} from './ui.js';

const BASE = '/app';
const routes = [];
let context;
let rendering = 0;

/** ``pattern`` like "/customers/:id"; ``view(params, context)`` resolves to a node. */
export function route(pattern, view) {
  const source = pattern.replace(/:(\w+)/g, '(?<$1>[^/]+)');
  routes.push({regex: new RegExp(`^${source}/?$`), view});
}

function ours(url) {
  return url.origin === window.location.origin && (url.pathname === BASE
    || url.pathname.startsWith(`${BASE}/`)) && !url.pathname.startsWith(`${BASE}/static/`)
    && !['/app/login', '/app/logout'].includes(url.pathname);
}

export function navigate(href, {replace = false} = {}) {
  const url = new URL(href, window.location.href);
  if (!ours(url)) {
    window.location.assign(url);
    return;
  }
  window.history[replace ? 'replaceState' : 'pushState']({}, '', url);
  render();
}

function failure(error) {
  const signedOut = error instanceof ApiError && error.status === 401;
  const message = signedOut && context.mode === 'session'
    ? 'Your session has ended. Run flask --app app admin-link on the server for a new link.'
    : error.message;
  const missing = error instanceof ApiError && error.status === 404;
  const title = signedOut ? 'Not signed in' : missing ? 'Not found' : 'Something went wrong';
  return page({title},
    banner({tone: 'critical'}, h('p', {}, message)));
}

function markCurrent(path) {
  for (const link of document.querySelectorAll('.side-nav a')) {
    const target = new URL(link.href).pathname.slice(BASE.length) || '/';
    const current = target === '/' ? path === '/' : path.startsWith(target);
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

/** Renders the view of the current path into <main>, then moves focus to its title. */
export async function render({keepFocus = false} = {}) {
  const main = document.getElementById('main');
  const path = window.location.pathname.slice(BASE.length) || '/';
  const ticket = ++rendering;
  markCurrent(path);
  let node;
  try {
    const found = routes.map((r) => [r, r.regex.exec(path)]).find(([, match]) => match);
    if (!found) {
      node = page({title: 'Page not found'}, banner({tone: 'warning'},
        h('p', {}, 'There is no such page in the loyalty admin. '),
        h('a', {href: BASE}, 'Go to the dashboard')));
    } else {
      const [{view}, match] = found;
      const params = {...match.groups, query: new URLSearchParams(window.location.search)};
      node = await view(params, context);
    }
  } catch (error) {
    node = failure(error);
  }
  if (ticket !== rendering) return; // a newer navigation won
  main.replaceChildren(node);
  if (!keepFocus) (main.querySelector('h1') || main).focus();
}

export function start(appContext) {
  context = {...appContext, navigate, refresh: () => render({keepFocus: true})};
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href]');
    if (!link || event.defaultPrevented || event.button !== 0 || link.target || link.download
        || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const url = new URL(link.href);
    if (!ours(url)) return;
    event.preventDefault();
    navigate(url.href);
  });
  window.addEventListener('popstate', () => render());
  return render({keepFocus: true});
}
