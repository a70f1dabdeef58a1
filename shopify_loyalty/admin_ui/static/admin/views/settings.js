// The shop's settings. The form is made from the OpenAPI spec's Settings schema (each
// property's kind, bounds and help) and the values of GET /api/admin/settings, so a setting
// added on the server shows up here with no page code.

import {openApiSpec} from '../api.js';
import {humanize} from '../dom.js';
import {createForm} from '../form.js';
import {card, page, toast} from '../ui.js';

const KIND_TYPES = {text: 'text', tags: 'tags', choice: 'select', whole: 'integer',
  days: 'days', switch: 'checkbox', money: 'money'};

function typeOf(property) {
  const kind = property['x-setting-kind'];
  if (KIND_TYPES[kind]) return KIND_TYPES[kind];
  if (property.enum) return 'select';
  if (property.type === 'boolean') return 'checkbox';
  if (property.type === 'integer') return 'integer';
  if (property.type === 'array') return property.items && property.items.type === 'integer'
    ? 'days' : 'tags';
  return 'text';
}

/** A form field from a property of the Settings schema. */
export function settingField(name, property) {
  const type = typeOf(property);
  const field = {name, type, label: humanize(name), help: property.description, wide: true,
    group: property['x-setting-group'] || null};
  if (type === 'select') {
    const labels = property['x-choice-labels'] || {};
    field.options = property.enum.map((value) => [value, labels[value] || humanize(value)]);
    field.nullable = Boolean(property.nullable);
  }
  if (type === 'integer' || type === 'days') {
    const {minimum, maximum} = type === 'days' ? property.items || {} : property;
    if (minimum !== undefined && maximum !== undefined) {
      field.help = `${field.help || ''} From ${minimum} to ${maximum}.`.trim();
    }
  }
  if (type === 'days' || type === 'tags') field.help = `${field.help || ''} Comma-separated.`.trim();
  if (property.nullable && type !== 'select') field.placeholder = 'Automatic';
  return field;
}

export async function view(_params, {api, refresh}) {
  const [spec, {data: values}] = await Promise.all([openApiSpec(), api.get('/settings')]);
  const properties = spec.components.schemas.Settings.properties;
  const form = createForm({
    fields: Object.entries(properties).map(([name, property]) => settingField(name, property)),
    values,
    async onSubmit(body) {
      await api.patch('/settings', body);
      toast('Settings saved');
      refresh();
    },
  });
  return page({title: 'Settings', narrow: true}, card({}, form));
}
