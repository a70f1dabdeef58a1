// Polaris-looking components (classes in admin.css), as functions that return DOM nodes.

import {formatNumber, h, uid} from './dom.js';

/** A page: its title (the one h1, focused after navigation), a back link, actions. */
export function page({title, subtitle, backTo, backLabel = 'Back', actions = [], narrow = false},
  ...children) {
  document.title = `${title} · Loyalty`;
  return h('div', {class: narrow ? 'page page--narrow' : 'page'},
    h('div', {class: 'page-header'},
      backTo ? h('a', {class: 'page-header__back', href: backTo, 'aria-label': backLabel},
        '←') : null,
      h('h1', {tabindex: '-1'}, title),
      actions.length ? h('div', {class: 'page-header__actions'}, actions) : null,
      subtitle ? h('p', {class: 'page-subtitle'}, subtitle) : null),
    h('div', {class: 'stack'}, children));
}

/** A card; ``flush`` lets a table reach its edges. Labelled by its title for screen readers. */
export function card({title, actions = [], flush = false, footer}, ...children) {
  const id = uid('card');
  return h('section', {class: flush ? 'card card--flush' : 'card',
    'aria-labelledby': title ? id : null},
  title ? h('div', {class: 'card__header'}, h('h2', {id}, title), actions) : null,
  children,
  footer ? h('div', {class: 'card__footer'}, footer) : null);
}

/** A button, or a link that looks like one. An action that fails says why in a toast. */
export function button(label, {variant, onClick, type = 'button', href, disabled, ariaLabel} = {}) {
  const classes = variant ? `button button--${variant}` : 'button';
  if (href) return h('a', {class: classes, href, 'aria-label': ariaLabel}, label);
  const run = onClick && (async (event) => {
    const target = event.currentTarget;
    target.disabled = true;
    try {
      await onClick(event);
    } catch (error) {
      toast(error.message, {error: true});
    } finally {
      target.disabled = false;
    }
  });
  return h('button', {class: classes, type, onclick: run, disabled, 'aria-label': ariaLabel},
    label);
}

const TONES = {
  ACTIVE: 'success', DONE: 'success', USED: 'info', APPROVED: 'success', UNUSED: 'attention',
  PENDING: 'warning', INACTIVE: undefined, EXCLUDED: 'critical', EXCLUDED_BY_CUSTOMER: 'critical',
  REFUNDED: undefined, EXPIRED: undefined, FAILED: 'critical', REJECTED: 'critical',
  CLAIMED: 'attention', COMPLETED: 'success', DELIVERED: 'success', DISABLED: undefined,
};

export function badge(text, tone) {
  return h('span', {class: tone ? `badge badge--${tone}` : 'badge'}, text);
}

/** The badge of a status code, toned the way Shopify's admin tones one. */
export function statusBadge(code, label) {
  return badge(label || code, TONES[code]);
}

/** A banner; critical ones are alerts (read out at once). */
export function banner({tone = 'info', title}, ...children) {
  return h('div', {class: `banner banner--${tone}`, role: tone === 'critical' ? 'alert' : 'status',
    tabindex: '-1'},
  title ? h('h2', {}, title) : null, children);
}

/** A data table: columns of {label, render(row), numeric, wrap}. Cells keep to one line
 * (the table scrolls sideways on a phone) unless their column wraps, as long text does. */
export function table({caption, columns, rows, empty = 'Nothing here yet.'}) {
  if (!rows.length) return h('p', {class: 'empty'}, empty);
  return h('div', {class: 'table-wrap'},
    h('table', {class: 'data-table'},
      caption ? h('caption', {class: 'visually-hidden'}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((column) =>
        h('th', {scope: 'col', class: column.numeric ? 'numeric' : null}, column.label)))),
      h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((column) =>
        h('td', {class: column.numeric ? 'numeric' : column.wrap ? 'wrap' : null},
          column.render(row))))))));
}

/** Previous / next over a paged list ("page" from 0, the total from X-Total-Count). */
export function pagination({page, size, total, hrefFor}) {
  const pages = Math.max(1, Math.ceil(total / size));
  if (pages <= 1) return null;
  return h('nav', {class: 'pagination', 'aria-label': 'Pages'},
    page > 0 ? button('Previous', {href: hrefFor(page - 1)}) : null,
    h('span', {}, `Page ${formatNumber(page + 1)} of ${formatNumber(pages)}`),
    page + 1 < pages ? button('Next', {href: hrefFor(page + 1)}) : null);
}

/** A modal question; resolves true when confirmed. Escape or Cancel resolve false. */
export function confirmDialog({title, message, confirmLabel, tone = 'primary'}) {
  return new Promise((resolve) => {
    const titleId = uid('dialog');
    const dialog = h('dialog', {class: 'card', 'aria-labelledby': titleId});
    const close = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.append(h('h2', {id: titleId}, title), h('p', {}, message),
      h('div', {class: 'form__actions'},
        button('Cancel', {onClick: () => close(false)}),
        button(confirmLabel, {variant: tone, onClick: () => close(true)})));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      close(false);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A short message at the bottom of the screen (App Bridge's toast when embedded). */
export function toast(message, {error = false} = {}) {
  if (window.shopify && window.shopify.toast) {
    window.shopify.toast.show(message, {isError: error});
    return;
  }
  const note = h('div', {class: error ? 'toast toast--error' : 'toast'}, message);
  document.querySelector('.toasts').append(note);
  setTimeout(() => note.remove(), 5000);
}

/** A figure with its label and a note under it. */
export function metric(label, value, note) {
  return card({}, h('p', {class: 'metric__label'}, label), h('p', {class: 'metric__value'}, value),
    note ? h('p', {class: 'metric__note'}, note) : null);
}

/** A card's worth of "label: figure" pairs. */
export function summary(pairs) {
  return h('dl', {class: 'summary'}, pairs.map(([label, value]) =>
    h('div', {}, h('dt', {}, label), h('dd', {}, value))));
}
