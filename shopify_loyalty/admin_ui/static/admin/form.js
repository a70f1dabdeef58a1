// Forms made from field descriptions, sending what the API takes and showing what it
// answers: a 422's errors under their fields, anything else in a banner. The API does the
// validation, so the pages say exactly what other clients are told.
//
// A field: {name, label, type, help, options, prefix, suffix, min, max, wide, group (fields
// of one group in a row are a fieldset named by it)}. Types:
// text, textarea, integer, money (a decimal string), ids and days (lists of whole numbers),
// tags (a list of words), select (``numeric``: its values are ids), checkbox, checkboxes
// (a list of the values ticked; ``columns``: a long list set in columns), date (YYYY-MM-DD,
// or null).

import {ApiError} from './api.js';
import {h, uid} from './dom.js';
import {banner, button} from './ui.js';

function shown(value) {
  if (value === null || value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : String(value);
}

// A number the user typed, or the text itself when it is not one, so that the API
// answers with its own message ("Not a valid integer.").
function whole(text) {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function list(text, item) {
  return text.split(/[,\s]+/).map((part) => part.trim()).filter(Boolean).map(item);
}

const READERS = {
  text: (input) => input.value.trim(),
  textarea: (input) => (input.value.trim() === '' ? null : input.value.trim()),
  integer: (input) => whole(input.value),
  money: (input) => (input.value.trim() === '' ? null : input.value.trim()),
  ids: (input) => list(input.value, whole),
  days: (input) => list(input.value, whole),
  tags: (input) => input.value.split(',').map((tag) => tag.trim()).filter(Boolean),
  select: (input, field) => {
    if (input.value === '') return null;
    return field.numeric ? Number(input.value) : input.value;
  },
  checkbox: (input) => input.checked,
  date: (input) => (input.value === '' ? null : input.value),
};

function control(field, value, id, describedBy) {
  const common = {id, name: field.name, 'aria-describedby': describedBy, class: 'input'};
  if (field.type === 'textarea') return h('textarea', {...common, rows: 3}, shown(value));
  if (field.type === 'select') {
    const options = field.nullable ? [['', field.emptyLabel || 'None'], ...field.options]
      : field.options;
    return h('select', common, options.map(([optionValue, label]) =>
      h('option', {value: optionValue, selected: shown(value) === optionValue}, label)));
  }
  if (field.type === 'date') {
    return h('input', {...common, type: 'date', value: shown(value), min: field.min});
  }
  const numeric = ['integer', 'ids', 'days'].includes(field.type);
  return h('input', {...common, type: 'text', value: shown(value),
    inputmode: numeric ? 'numeric' : field.type === 'money' ? 'decimal' : null,
    placeholder: field.placeholder, autocomplete: 'off'});
}

/** One field: its node, how to read it, and where its errors go. */
function renderField(field, value) {
  const id = uid(field.name);
  const helpId = field.help ? `${id}-help` : null;
  const errorId = `${id}-error`;
  const error = h('p', {class: 'field__error', id: errorId, hidden: true});
  const help = field.help ? h('p', {class: 'field__help', id: helpId}, field.help) : null;
  const describedBy = [helpId, errorId].filter(Boolean).join(' ');
  let read;
  let inputs;
  let body;
  if (field.type === 'checkbox') {
    const input = h('input', {type: 'checkbox', id, name: field.name, checked: Boolean(value),
      'aria-describedby': describedBy});
    inputs = [input];
    read = () => input.checked;
    body = h('label', {class: 'check', for: id}, input, field.label);
  } else if (field.type === 'checkboxes') {
    const chosen = new Set(value || []);
    inputs = field.options.map(([optionValue]) => h('input', {type: 'checkbox', value: optionValue,
      id: `${id}-${optionValue}`, name: field.name, checked: chosen.has(optionValue)}));
    read = () => inputs.filter((input) => input.checked).map((input) => input.value);
    body = h('fieldset', {'aria-describedby': describedBy,
      class: field.columns ? 'fieldset--columns' : null}, h('legend', {}, field.label),
      field.options.map(([, label], i) => h('label', {class: 'check', for: inputs[i].id},
        inputs[i], label)));
  } else {
    const input = control(field, value, id, describedBy);
    inputs = [input];
    read = () => READERS[field.type](input, field);
    body = [h('label', {for: id}, field.label), h('div', {class: 'field__control'},
      field.prefix ? h('span', {class: 'field__affix'}, field.prefix) : null, input,
      field.suffix ? h('span', {class: 'field__affix'}, field.suffix) : null)];
  }
  const wrapper = h('div', {class: field.wide ? 'field field--wide' : 'field'}, body, help, error);
  function setError(messages) {
    error.hidden = !messages;
    error.textContent = messages ? messages.join(' ') : '';
    for (const input of inputs) input.setAttribute('aria-invalid', messages ? 'true' : 'false');
  }
  return {field, node: wrapper, read, setError, focus: () => inputs[0].focus()};
}

/** The fields' nodes, each run of fields of one ``group`` in a fieldset named by it. */
function grouped(rendered) {
  const nodes = [];
  let current = null;
  for (const item of rendered) {
    const {group} = item.field;
    if (!group) {
      current = null;
      nodes.push(item.node);
    } else if (current && current.group === group) {
      current.node.append(item.node);
    } else {
      current = {group, node: h('fieldset', {class: 'form__group'}, h('legend', {}, group),
        item.node)};
      nodes.push(current.node);
    }
  }
  return nodes;
}

/** A form of ``fields`` showing ``values``; ``onSubmit(body)`` sends it. Returns the node. */
export function createForm({fields, values = {}, submitLabel = 'Save', onSubmit, extraActions = [],
  grid = false, aliases = {}}) {
  const rendered = fields.map((field) => renderField(field, values[field.name]));
  const notice = h('div', {});
  const submit = button(submitLabel, {variant: 'primary', type: 'submit'});
  const form = h('form', {class: 'form', novalidate: true},
    notice,
    h('div', {class: grid ? 'form__fields form__fields--grid' : 'form__fields'},
      grouped(rendered)),
    h('div', {class: 'form__actions'}, extraActions, submit));

  function showErrors(error) {
    const byName = Object.fromEntries(rendered.map((item) => [item.field.name, item]));
    const other = [];
    let first = null;
    for (const [name, messages] of Object.entries(error.errors)) {
      const item = byName[aliases[name] || name];
      if (item) {
        item.setError(messages);
        first = first || item;
      } else {
        other.push(`${name}: ${messages.join(' ')}`);
      }
    }
    const title = Object.keys(error.errors).length ? 'Fix the fields marked below.'
      : error.message;
    const box = banner({tone: 'critical', title}, other.length
      ? h('ul', {}, other.map((text) => h('li', {}, text))) : null);
    notice.replaceChildren(box);
    (first && !other.length ? first : box).focus();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    notice.replaceChildren();
    for (const item of rendered) item.setError(null);
    const body = Object.fromEntries(rendered.map((item) => [item.field.name, item.read()]));
    submit.disabled = true;
    try {
      await onSubmit(body);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
