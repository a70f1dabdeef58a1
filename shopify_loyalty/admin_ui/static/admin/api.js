// The admin API client: every page talks to /api/admin like any other client.
//
// Embedded in the Shopify admin, each call carries a fresh App Bridge session token from
// shopify.idToken() (https://shopify.dev/docs/api/app-home/apis/authentication-and-data/id-token-api):
// they live a minute, so none is kept. Standalone, the browser sends the session cookie and
// every call that changes something adds the page's CSRF token.

const LOCATIONS = ['json', 'query', 'form', 'files', 'headers'];

/** An error answer of the API: {code, message, status, errors?}. */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `The server answered ${status}.`);
    this.status = status;
    this.code = (body && body.code) || 'http_error';
    this.errors = flattenErrors(body && body.errors);
  }
}

function messagesOf(value, prefix = '') {
  if (Array.isArray(value)) return value.flatMap((item) => messagesOf(item, prefix));
  if (value && typeof value === 'object') {
    // A list's item errors come keyed by position: {"0": ["Not a valid integer."]}.
    return Object.entries(value).flatMap(([key, inner]) =>
      messagesOf(inner, /^\d+$/.test(key) ? `Item ${Number(key) + 1}: ` : `${key}: `));
  }
  return [prefix + String(value)];
}

/** {field: [message, …]}: the schema's errors come under their location ("json"), the
 * services' at the top; both mean the same fields. */
export function flattenErrors(errors) {
  const flat = {};
  if (!errors || typeof errors !== 'object') return flat;
  for (const [key, value] of Object.entries(errors)) {
    if (LOCATIONS.includes(key) && value && typeof value === 'object' && !Array.isArray(value)) {
      Object.assign(flat, flattenErrors(value));
    } else {
      flat[key] = messagesOf(value);
    }
  }
  return flat;
}

async function bodyOf(response) {
  const type = response.headers.get('Content-Type') || '';
  if (!type.includes('json')) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

export function createApi({mode, csrfToken, idToken}) {
  async function headersFor(method, extra) {
    const headers = {Accept: 'application/json', ...extra};
    if (mode === 'embedded') headers.Authorization = `Bearer ${await idToken()}`;
    else if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
    return headers;
  }

  async function send(method, path, {body, query, headers, raw = false} = {}) {
    const url = new URL(`/api/admin${path}`, window.location.origin);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, value);
    }
    const init = {method, headers: await headersFor(method, headers), credentials: 'same-origin'};
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(0, {code: 'network_error',
        message: 'The server could not be reached. Check your connection and try again.'});
    }
    if (!response.ok) throw new ApiError(response.status, await bodyOf(response));
    if (raw) return response;
    const total = response.headers.get('X-Total-Count');
    return {data: response.status === 204 ? null : await bodyOf(response),
      total: total === null ? null : Number(total)};
  }

  return {
    mode,
    get: (path, query) => send('GET', path, {query}),
    post: (path, body, headers) => send('POST', path, {body, headers}),
    patch: (path, body) => send('PATCH', path, {body}),
    remove: (path) => send('DELETE', path),
    /** Saves an authenticated download (a CSV export) as a file. */
    async download(path, filename) {
      const response = await send('GET', path, {raw: true});
      const link = document.createElement('a');
      link.href = URL.createObjectURL(await response.blob());
      link.download = filename;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    },
  };
}

/** The OpenAPI description, read once: the settings form is made from its schema. */
let spec;
export async function openApiSpec() {
  if (!spec) {
    spec = fetch('/openapi.json', {headers: {Accept: 'application/json'}}).then((response) => {
      if (!response.ok) throw new ApiError(response.status, null);
      return response.json();
    }).catch((error) => {
      spec = undefined;
      throw error;
    });
  }
  return spec;
}
