// The filter form <-> the filters of the page state (url-state.js). Text fields apply as one
// stops typing, lists and dates at once; Enter applies, "Clear filters" empties them all.

import { h } from './dom.js';
import { FILTER_NAMES, fromInputValue, toInputValue } from './url-state.js';

const TEXT_DELAY_MS = 400;

/** The filters the form holds now. */
export function readForm(form) {
  const field = (name) => form.elements.namedItem(name);
  const filters = {};
  for (const name of FILTER_NAMES) filters[name] = field(name).value.trim();
  filters.since = fromInputValue(field('since').value);
  filters.until = fromInputValue(field('until').value);
  if (filters.range !== 'custom') {
    filters.since = '';
    filters.until = '';
  }
  return filters;
}

/** Shows `filters` in the form (a list gains an option for a value it lacks, e.g. from a shared link). */
export function writeForm(form, filters) {
  for (const name of FILTER_NAMES) {
    const field = form.elements.namedItem(name);
    const value = name === 'since' || name === 'until' ? toInputValue(filters[name]) : filters[name];
    if (field instanceof HTMLSelectElement && value !== '' && ![...field.options].some((o) => o.value === value)) field.append(h('option', { value }, value));
    field.value = value;
  }
}

/** Calls `onChange(filters)` whenever the user changes the filters. */
export function bindForm(form, onChange) {
  let timer;
  const apply = () => {
    clearTimeout(timer);
    onChange(readForm(form));
  };
  const field = (name) => form.elements.namedItem(name);
  form.addEventListener('input', (event) => {
    if (event.target instanceof HTMLInputElement && (event.target.type === 'text' || event.target.type === 'search')) {
      clearTimeout(timer);
      timer = setTimeout(apply, TEXT_DELAY_MS);
    }
  });
  form.addEventListener('change', (event) => {
    const target = event.target;
    if (target === field('range') && target.value !== 'custom') {
      field('since').value = '';
      field('until').value = '';
    }
    if (target === field('since') || target === field('until')) field('range').value = field('since').value || field('until').value ? 'custom' : '';
    if (target instanceof HTMLSelectElement || target.type === 'datetime-local') apply();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    apply();
  });
  form.addEventListener('reset', (event) => {
    event.preventDefault();
    for (const name of FILTER_NAMES) field(name).value = '';
    apply();
    field('q').focus();
  });
}

/** Fills the pool list and the host suggestions, keeping what is selected. */
export function offerChoices(form, { pools, hosts }) {
  const select = form.elements.namedItem('pool');
  const selected = select.value;
  const wanted = [...new Set([...pools, ...(selected ? [selected] : [])])].sort();
  const have = [...select.options].slice(1).map((o) => o.value);
  // Rebuilt only when the pools changed: a list that changes under the user's hand is lost focus.
  if (wanted.join('\n') !== have.join('\n')) {
    select.replaceChildren(select.options[0], ...wanted.map((pool) => h('option', { value: pool }, pool)));
    select.value = selected;
  }
  const list = document.getElementById(form.elements.namedItem('host').getAttribute('list'));
  const names = [...new Set(hosts.flatMap((host) => [host.hostId, host.name].filter(Boolean)))].sort();
  if (list.children.length !== names.length) list.replaceChildren(...names.map((name) => h('option', { value: name })));
}
