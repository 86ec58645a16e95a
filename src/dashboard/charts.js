// Charts as plain SVG. Each is a <figure>: the SVG (role="img", named by its <title> and
// described by its <desc>) and a visually hidden table of the same values for screen readers.
// Series differ in colour and in shape or position, and are named in a legend.

import { formatTime, h, s, uniqueId } from './dom.js';

const shorten = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The accessible frame every chart shares. */
function figure({ title, summary, svg, table, legend, className }) {
  const titleId = uniqueId('chart-title');
  const descId = uniqueId('chart-desc');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-labelledby', `${titleId} ${descId}`);
  svg.setAttribute('focusable', 'false');
  svg.prepend(s('title', { id: titleId }, title), s('desc', { id: descId }, summary));
  return h('figure', { class: `chart ${className}` }, svg, legend ?? false, h('figcaption', { class: 'visually-hidden' }, summary), table);
}

function hiddenTable(caption, columns, rows) {
  return h(
    'table',
    { class: 'visually-hidden' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((row) => h('tr', {}, row.map((cell, i) => h(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : false }, cell))))),
  );
}

function legendOf(categories) {
  return h(
    'ul',
    { class: 'legend' },
    categories.map((c) => h('li', {}, h('span', { class: `swatch ${c.className}`, 'aria-hidden': 'true' }), c.label)),
  );
}

/**
 * Horizontal stacked bars: one bar per row (`{label, values: {key: n}}`), one segment per
 * category (`{key, label, className}`), lengths to scale with the largest total.
 */
export function stackedBars({ title, summary, categories, rows, className = '' }) {
  const width = 640;
  const rowHeight = 30;
  const labelWidth = 170;
  const totalWidth = 56;
  const barWidth = width - labelWidth - totalWidth;
  const height = Math.max(1, rows.length) * rowHeight + 8;
  const most = Math.max(1, ...rows.map((row) => categories.reduce((sum, c) => sum + (row.values[c.key] ?? 0), 0)));
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'bars', preserveAspectRatio: 'xMinYMin meet' });
  rows.forEach((row, index) => {
    const y = 4 + index * rowHeight;
    const total = categories.reduce((sum, c) => sum + (row.values[c.key] ?? 0), 0);
    const g = s('g', { class: 'bar-row' }, s('text', { x: labelWidth - 8, y: y + 18, 'text-anchor': 'end', class: 'chart-label' }, shorten(row.label, 22)));
    let x = labelWidth;
    for (const c of categories) {
      const value = row.values[c.key] ?? 0;
      if (value <= 0) continue;
      const w = (barWidth * value) / most;
      // A white gap between segments tells neighbours apart without relying on their colours.
      g.append(s('rect', { x: x.toFixed(1), y, width: Math.max(1, w - 1).toFixed(1), height: rowHeight - 8, class: `seg ${c.className}` }, s('title', {}, `${row.label}: ${value} ${c.label}`)));
      if (w >= 22) g.append(s('text', { x: (x + w / 2).toFixed(1), y: y + 16, 'text-anchor': 'middle', class: `seg-label on-${c.className}` }, String(value)));
      x += w;
    }
    g.append(s('text', { x: x + 6, y: y + 18, class: 'chart-label' }, String(total)));
    svg.append(g);
  });
  const table = hiddenTable(title, ['', ...categories.map((c) => c.label), 'Total'], rows.map((row) => [row.label, ...categories.map((c) => String(row.values[c.key] ?? 0)), String(categories.reduce((sum, c) => sum + (row.values[c.key] ?? 0), 0))]));
  return figure({ title, summary, svg, table, legend: legendOf(categories), className });
}

/**
 * A score over time: the percentage (0–100) of each assessment, a circle when compliant and a
 * square when not, joined by a line; the first and last dates on the time axis.
 */
export function scoreChart({ title, points }) {
  const width = 640;
  const height = 170;
  const left = 40;
  const right = 16;
  const top = 12;
  const bottom = 30;
  const first = points[0]?.time ?? 0;
  const last = points[points.length - 1]?.time ?? first;
  const span = Math.max(1, last - first);
  const x = (t) => (points.length === 1 ? (left + width - right) / 2 : left + ((width - left - right) * (t - first)) / span);
  const y = (pct) => top + ((height - top - bottom) * (100 - Math.min(100, Math.max(0, pct)))) / 100;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'score-chart', preserveAspectRatio: 'xMinYMin meet' });
  for (const pct of [0, 50, 100]) {
    svg.append(s('line', { x1: left, x2: width - right, y1: y(pct), y2: y(pct), class: 'gridline' }), s('text', { x: left - 6, y: y(pct) + 4, 'text-anchor': 'end', class: 'chart-label' }, `${pct}%`));
  }
  if (points.length > 1) svg.append(s('polyline', { points: points.map((p) => `${x(p.time).toFixed(1)},${y(p.percent).toFixed(1)}`).join(' '), class: 'line' }));
  for (const p of points) {
    const cx = x(p.time);
    const cy = y(p.percent);
    const label = `${formatTime(p.time)}: ${p.percent}% (${p.compliant ? 'compliant' : 'not compliant'})`;
    svg.append(
      p.compliant
        ? s('circle', { cx: cx.toFixed(1), cy: cy.toFixed(1), r: 5, class: 'point good' }, s('title', {}, label))
        : s('rect', { x: (cx - 5).toFixed(1), y: (cy - 5).toFixed(1), width: 10, height: 10, class: 'point bad' }, s('title', {}, label)),
    );
  }
  if (points.length > 0) {
    svg.append(s('text', { x: left, y: height - 8, class: 'chart-label' }, formatTime(first)));
    if (points.length > 1) svg.append(s('text', { x: width - right, y: height - 8, 'text-anchor': 'end', class: 'chart-label' }, formatTime(last)));
  }
  const latest = points[points.length - 1];
  const summary =
    latest === undefined
      ? 'No assessment yet.'
      : `${points.length} assessment${points.length === 1 ? '' : 's'} from ${formatTime(first)} to ${formatTime(last)}; latest ${latest.percent}%, ${latest.compliant ? 'compliant' : 'not compliant'}; lowest ${Math.min(...points.map((p) => p.percent))}%, highest ${Math.max(...points.map((p) => p.percent))}%.`;
  const table = hiddenTable(title, ['Assessed', 'Score', 'Points', 'Status'], points.map((p) => [formatTime(p.time), `${p.percent}%`, `${p.score} / ${p.maxScore}`, p.compliant ? 'compliant' : p.trustGated ? 'not compliant (trust-gated)' : 'not compliant']));
  const legend = legendOf([
    { label: 'compliant (circle)', className: 'good round' },
    { label: 'not compliant (square)', className: 'bad' },
  ]);
  return figure({ title, summary, svg, table, legend, className: 'score' });
}

const TRUST_LABEL = { trusted: 'trusted', untrusted: 'untrusted', unknown: 'unknown' };

/**
 * Trust over time as a strip: one band per period between changes, coloured by the status and
 * hatched when untrusted; a tick at each change.
 */
export function trustTimeline({ title, changes, now }) {
  const width = 640;
  const height = 56;
  const left = 8;
  const right = 8;
  const first = changes[0]?.time ?? now;
  const end = Math.max(now, changes[changes.length - 1]?.time ?? now);
  const span = Math.max(1, end - first);
  const x = (t) => left + ((width - left - right) * (t - first)) / span;
  const hatch = uniqueId('hatch');
  const svg = s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, class: 'timeline', preserveAspectRatio: 'xMinYMin meet' },
    s('defs', {}, s('pattern', { id: hatch, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, s('rect', { width: 6, height: 6, class: 'seg-untrusted' }), s('line', { x1: 0, y1: 0, x2: 0, y2: 6, class: 'hatch-line' }))),
  );
  const periods = changes.map((change, i) => ({ status: change.current, from: change.time, to: changes[i + 1]?.time ?? end }));
  for (const period of periods) {
    const status = TRUST_LABEL[period.status] ? period.status : 'unknown';
    svg.append(
      s('rect', { x: x(period.from).toFixed(1), y: 8, width: Math.max(2, x(period.to) - x(period.from)).toFixed(1), height: 22, class: status === 'untrusted' ? 'seg hatched' : `seg seg-${status}`, fill: status === 'untrusted' ? `url(#${hatch})` : null }, s('title', {}, `${status} from ${formatTime(period.from)}`)),
    );
  }
  for (const change of changes) svg.append(s('line', { x1: x(change.time).toFixed(1), x2: x(change.time).toFixed(1), y1: 4, y2: 34, class: 'tick' }));
  if (changes.length > 0) {
    svg.append(s('text', { x: left, y: height - 6, class: 'chart-label' }, formatTime(first)));
    svg.append(s('text', { x: width - right, y: height - 6, 'text-anchor': 'end', class: 'chart-label' }, 'now'));
  }
  const summary =
    periods.length === 0
      ? 'No trust change is known.'
      : periods.map((p, i) => `${TRUST_LABEL[p.status] ?? p.status} ${i === periods.length - 1 ? `since ${formatTime(p.from)}` : `from ${formatTime(p.from)} to ${formatTime(p.to)}`}`).join('; ') + '.';
  const table = hiddenTable(title, ['From', 'Status', 'Until'], periods.map((p, i) => [formatTime(p.from), TRUST_LABEL[p.status] ?? String(p.status), i === periods.length - 1 ? 'now' : formatTime(p.to)]));
  const legend = legendOf([
    { label: 'trusted', className: 'seg-trusted' },
    { label: 'untrusted (hatched)', className: 'seg-untrusted hatched' },
    { label: 'unknown', className: 'seg-unknown' },
  ]);
  return figure({ title, summary, svg, table, legend, className: 'trust' });
}
