// Building the page from data. Everything the API returns is hostile input (a host name can
// hold markup): it only ever becomes text nodes and attribute values, never HTML. No innerHTML.

/**
 * An element: `h('td', { class: 'num', 'data-host-id': id }, 'text', childNode, [more])`.
 * Attribute values are set with setAttribute (so they are never parsed as markup); `on*`
 * attributes take functions; `false`, `null` and `undefined` leave an attribute or child out.
 */
export function h(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** The same for SVG elements. */
export function s(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

function build(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what an element holds. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/**
 * Runs `render` (which replaces what `container` holds) and puts the keyboard focus back on the
 * same control if it was inside: a live update must not throw a keyboard user back to the top.
 * The same control is the one with the same tag, link and text, counted in order.
 */
export function preservingFocus(container, render) {
  const active = document.activeElement;
  if (!(active instanceof Element) || active === container || !container.contains(active)) return render();
  const key = (el) => `${el.tagName}\u0000${el.getAttribute('href') ?? ''}\u0000${el.textContent}`;
  const wanted = key(active);
  const nth = [...container.querySelectorAll(active.tagName)].filter((el) => key(el) === wanted).indexOf(active);
  const result = render();
  const again = [...container.querySelectorAll(active.tagName)].filter((el) => key(el) === wanted)[Math.max(0, nth)];
  if (again instanceof HTMLElement || again instanceof SVGElement) again.focus({ preventScroll: true });
  return result;
}

let lastId = 0;
/** An id unique in the page, for aria-labelledby and friends. */
export function uniqueId(prefix) {
  lastId += 1;
  return `${prefix}-${lastId}`;
}

// ---- times and numbers ---------------------------------------------------------------------

/** `2026-11-26 10:02:03 UTC`: every time on the page is UTC, like the reports. */
export function formatTime(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A `<time>` element. */
export function time(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  return h('time', { datetime: new Date(ms).toISOString() }, formatTime(ms));
}

/** A count as text, `—` when absent. */
export function count(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toLocaleString('en') : '—';
}

export function percentOf(score, maxScore) {
  return maxScore > 0 ? Math.round((10000 * score) / maxScore) / 100 : 0;
}

// ---- badges: status in words and a symbol, never by colour alone ----------------------------

const TRUST = {
  trusted: ['✓', 'trusted'],
  untrusted: ['✗', 'untrusted'],
  unknown: ['?', 'unknown'],
};

export function trustBadge(status) {
  const [symbol, text] = TRUST[status] ?? ['?', String(status ?? 'unknown')];
  return h('span', { class: `badge trust-${TRUST[status] ? status : 'unknown'}`, 'data-trust': status }, h('span', { 'aria-hidden': 'true' }, `${symbol} `), text);
}

/** denied, failed and deny are the attempts an operator looks at first. */
export function isBadOutcome(outcome) {
  return outcome === 'denied' || outcome === 'failed' || outcome === 'deny';
}

export function outcomeBadge(outcome) {
  const bad = isBadOutcome(outcome);
  return h('span', { class: `badge ${bad ? 'outcome-bad' : 'outcome-ok'}` }, h('span', { 'aria-hidden': 'true' }, bad ? '✗ ' : '✓ '), String(outcome ?? '—'));
}

export function complianceBadge(compliant, trustGated) {
  if (compliant) return h('span', { class: 'badge trust-trusted' }, h('span', { 'aria-hidden': 'true' }, '✓ '), 'compliant');
  return h('span', { class: 'badge trust-untrusted' }, h('span', { 'aria-hidden': 'true' }, '✗ '), trustGated ? 'not compliant (trust-gated)' : 'not compliant');
}

export function labelBadges(labels) {
  if (!Array.isArray(labels) || labels.length === 0) return '—';
  return labels.map((label) => h('span', { class: label === 'sensitive' ? 'tag tag-sensitive' : 'tag' }, label));
}

// ---- tables --------------------------------------------------------------------------------

/**
 * A table: `columns` are `{ label, numeric? }`, `rows` are arrays of cells (text or nodes) or
 * `{ cells, attributes }`. An empty table says so in a row of its own.
 */
export function table({ caption, columns, rows, empty = 'Nothing to show.', className = '', captionHidden = false }) {
  const head = h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.numeric ? 'num' : false }, c.label))));
  const body = h(
    'tbody',
    {},
    rows.length === 0
      ? h('tr', { class: 'empty' }, h('td', { colspan: columns.length }, empty))
      : rows.map((row) => {
          const { cells, attributes } = Array.isArray(row) ? { cells: row, attributes: {} } : row;
          return h('tr', attributes, cells.map((cell, i) => h(columns[i]?.header ? 'th' : 'td', { class: columns[i]?.numeric ? 'num' : false, scope: columns[i]?.header ? 'row' : false }, cell)));
        }),
  );
  return h(
    'div',
    { class: 'table-wrap' },
    h('table', { class: className || false }, caption === undefined ? false : h('caption', { class: captionHidden ? 'visually-hidden' : false }, caption), head, body),
  );
}

/** A description list of `[term, value]` pairs, values absent left out. */
export function facts(pairs, className = 'facts') {
  return h(
    'dl',
    { class: className },
    pairs.filter(([, value]) => value !== undefined && value !== null && value !== '').map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))),
  );
}
