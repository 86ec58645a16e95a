// The overview: hosts by trust and pool, sensitive workloads, open alerts, the administrator
// activity feed, compliance bands per template and connector health. Each render function
// fills one container of index.html from API data (GET /v1/overview, /v1/hosts, /v1/activity,
// /v1/alerts, /v1/connectors).

import { stackedBars } from './charts.js';
import { count, fill, formatTime, h, isBadOutcome, labelBadges, outcomeBadge, percentOf, table, time, trustBadge } from './dom.js';
import { hostMatches } from './url-state.js';

export const TRUST_CATEGORIES = [
  { key: 'trusted', label: 'trusted', className: 'seg-trusted' },
  { key: 'untrusted', label: 'untrusted', className: 'seg-untrusted' },
  { key: 'unknown', label: 'unknown', className: 'seg-unknown' },
];

/** A link that opens a host's drill-down (a plain link: Enter and middle-click work). */
export function hostLink(ctx, hostId, name) {
  if (!hostId) return '—';
  return h('a', { href: ctx.hostHref(hostId), class: 'host-link', 'data-host-id': hostId }, name || hostId);
}

function card(metric, label, value, tone = '', sub = '') {
  return h('div', { class: `card ${tone}`, 'data-metric': metric }, h('p', { class: 'card-label' }, label), h('p', { class: 'card-value' }, count(value)), sub ? h('p', { class: 'card-sub' }, sub) : false);
}

/** The counts at the top: hosts by trust, open alerts, sensitive workloads at risk. */
export function renderCards(element, overview) {
  const { hosts, alerts, sensitiveWorkloads = [] } = overview;
  const atRisk = sensitiveWorkloads.filter((w) => w.hostTrust !== 'trusted').length;
  fill(
    element,
    card('hosts', 'Hosts', hosts?.total, '', `${count(hosts?.byPool?.length ?? 0)} pools`),
    card('trusted', 'Trusted', hosts?.byTrust?.trusted, 'good'),
    card('untrusted', 'Untrusted', hosts?.byTrust?.untrusted, hosts?.byTrust?.untrusted > 0 ? 'bad' : ''),
    card('unknown', 'Unknown trust', hosts?.byTrust?.unknown, hosts?.byTrust?.unknown > 0 ? 'warn' : ''),
    card('open-alerts', 'Open alerts', alerts?.open, alerts?.open > 0 ? 'bad' : ''),
    card('sensitive-at-risk', 'Sensitive VMs on hosts not trusted', atRisk, atRisk > 0 ? 'bad' : '', `of ${count(sensitiveWorkloads.length)} sensitive`),
  );
}

export function renderPools(element, overview) {
  const pools = overview.hosts?.byPool ?? [];
  if (pools.length === 0) return fill(element, h('p', { class: 'muted' }, 'No host has reported yet.'));
  const byTrust = overview.hosts.byTrust ?? {};
  const poolName = (p) => p.pool ?? '(no pool)';
  const summary = `${count(overview.hosts.total)} hosts: ${count(byTrust.trusted ?? 0)} trusted, ${count(byTrust.untrusted ?? 0)} untrusted, ${count(byTrust.unknown ?? 0)} unknown. ${pools
    .map((p) => `${poolName(p)}: ${p.trusted} trusted, ${p.untrusted} untrusted, ${p.unknown} unknown`)
    .join('; ')}.`;
  return fill(element, stackedBars({ title: 'Hosts by trust, per pool', summary, categories: TRUST_CATEGORIES, rows: pools.map((p) => ({ label: poolName(p), values: p })) }));
}

/** Bands are named `low-high` (percent of the maximum score); best first. */
function bandCategories(templates) {
  const keys = [...new Set(templates.flatMap((t) => Object.keys(t.bands ?? {})))];
  keys.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return keys.map((key, index) => ({ key, label: `${key.replace('-', '–')} %`, className: `band-${Math.min(3, Math.round((3 * index) / Math.max(1, keys.length - 1)))}` }));
}

export function renderCompliance(element, overview) {
  const templates = overview.compliance ?? [];
  if (templates.length === 0) return fill(element, h('p', { class: 'muted' }, 'No host has been assessed yet.'));
  const categories = bandCategories(templates);
  const summary = templates.map((t) => `${t.templateId}: ${t.compliant} of ${t.hosts} hosts compliant; ${categories.map((c) => `${t.bands?.[c.key] ?? 0} in ${c.label}`).join(', ')}`).join('. ') + '.';
  return fill(
    element,
    stackedBars({ title: 'Hosts per score band, per template', summary, categories, rows: templates.map((t) => ({ label: t.templateId, values: t.bands ?? {} })) }),
    table({
      caption: 'Compliant hosts per template',
      captionHidden: true,
      className: 'compact',
      columns: [{ label: 'Template', header: true }, { label: 'Hosts', numeric: true }, { label: 'Compliant', numeric: true }, { label: 'Not compliant', numeric: true }],
      rows: templates.map((t) => ({ cells: [h('code', {}, t.templateId), count(t.hosts), count(t.compliant), count(t.hosts - t.compliant)], attributes: { 'data-template': t.templateId } })),
    }),
  );
}

export function renderHosts(element, hosts, filters, ctx) {
  const shown = hosts.filter((host) => hostMatches(host, filters));
  const order = { untrusted: 0, unknown: 1, trusted: 2 };
  shown.sort((a, b) => (order[a.trust?.status] ?? 1) - (order[b.trust?.status] ?? 1) || String(a.name ?? a.hostId).localeCompare(String(b.name ?? b.hostId)));
  return fill(
    element,
    h('p', { class: 'muted', 'data-count': shown.length }, `${shown.length} of ${hosts.length} hosts${shown.length < hosts.length ? ' match the filters' : ''}. Open a host for its trust history, workloads and compliance evidence.`),
    table({
      caption: 'Hosts',
      captionHidden: true,
      className: 'hosts',
      columns: [{ label: 'Host', header: true }, { label: 'Pool' }, { label: 'Trust' }, { label: 'Since' }, { label: 'Faults', numeric: true }, { label: 'Compliance' }, { label: 'Workloads', numeric: true }],
      rows: shown.map((host) => ({
        attributes: { 'data-host-id': host.hostId, 'data-trust': host.trust?.status, class: host.trust?.status === 'untrusted' ? 'row-bad' : false },
        cells: [
          [hostLink(ctx, host.hostId, host.name), host.name && host.name !== host.hostId ? h('span', { class: 'sub id' }, host.hostId) : false],
          host.pool ?? '—',
          trustBadge(host.trust?.status),
          time(host.trust?.since),
          count(host.trust?.faultCount ?? 0),
          host.compliance ? `${percentOf(host.compliance.score, host.compliance.maxScore)} % ${host.compliance.compliant ? '(compliant)' : '(not compliant)'} · ${host.compliance.templateId}` : '—',
          count(host.workloads ?? 0),
        ],
      })),
      empty: hosts.length === 0 ? 'No host has reported yet.' : 'No host matches the filters.',
    }),
  );
}

export function renderSensitive(element, overview, filters, ctx) {
  const workloads = (overview.sensitiveWorkloads ?? []).filter((w) => (!filters.pool || w.pool === filters.pool) && (!filters.host || w.hostId === filters.host || w.hostName === filters.host));
  workloads.sort((a, b) => Number(a.hostTrust === 'trusted') - Number(b.hostTrust === 'trusted'));
  return fill(
    element,
    table({
      caption: 'Sensitive workloads',
      captionHidden: true,
      className: 'sensitive',
      columns: [{ label: 'Workload', header: true }, { label: 'Labels' }, { label: 'Host' }, { label: 'Pool' }, { label: 'Host trust' }],
      rows: workloads.map((w) => ({
        attributes: { 'data-vm-id': w.id, class: w.hostTrust !== 'trusted' ? 'row-bad' : false },
        cells: [[h('strong', {}, w.name || w.id), w.name && w.name !== w.id ? h('span', { class: 'sub id' }, w.id) : false], labelBadges(w.labels), hostLink(ctx, w.hostId, w.hostName), w.pool ?? '—', trustBadge(w.hostTrust)],
      })),
      empty: 'No sensitive workload runs on a host that matches the filters.',
    }),
  );
}

/** `{vmName: 'x', labels: 'a,b'}` → `vmName: x · labels: a,b`. */
function detailsText(details) {
  if (!details || typeof details !== 'object') return '';
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${value}`)
    .join(' · ');
}

export function alertsTable(alerts, ctx, empty = 'No open alert.') {
  return table({
    caption: 'Alerts',
    captionHidden: true,
    className: 'alerts',
    columns: [{ label: 'Raised' }, { label: 'Severity', numeric: true }, { label: 'Alert', header: true }, { label: 'Host' }, { label: 'State' }, { label: 'Details' }],
    rows: alerts.map((alert) => ({
      attributes: { 'data-alert-id': alert.id, 'data-rule': alert.rule, class: [alert.severity >= 7 ? 'row-bad' : '', ctx.fresh?.has(alert.id) ? 'fresh' : ''].join(' ').trim() || false },
      cells: [time(alert.time), count(alert.severity), [h('span', {}, alert.title ?? alert.rule), h('span', { class: 'sub id' }, alert.rule)], hostLink(ctx, alert.hostId, alert.hostName), alert.open ? h('strong', {}, 'open') : 'closed', h('span', { class: 'sub' }, detailsText(alert.details))],
    })),
    empty,
  });
}

export function renderAlerts(element, alerts, ctx) {
  return fill(element, alertsTable(alerts, ctx, 'No open alert matches the filters.'));
}

const TYPE_LABEL = { 'admin.action': 'admin action', 'policy.decision': 'policy decision' };

/** The activity feed; denied, failed and deny rows are highlighted (and say so in words). */
export function activityTable(items, ctx, empty = 'No administrator activity matches the filters.') {
  return table({
    caption: 'Administrator activity',
    captionHidden: true,
    className: 'activity',
    columns: [{ label: 'Time' }, { label: 'Outcome' }, { label: 'User' }, { label: 'Operation', header: true }, { label: 'Target' }, { label: 'Host' }, { label: 'Detail' }],
    rows: items.map((item) => {
      const highlight = item.highlight === true || isBadOutcome(item.outcome);
      return {
        attributes: { 'data-id': item.id, 'data-outcome': item.outcome, 'data-highlight': highlight ? 'true' : 'false', class: [highlight ? 'highlight' : '', ctx.fresh?.has(item.id) ? 'fresh' : ''].join(' ').trim() || false },
        cells: [
          time(item.time),
          outcomeBadge(item.outcome),
          item.user ? [item.user.name ?? item.user.id, item.user.name && item.user.name !== item.user.id ? h('span', { class: 'sub id' }, item.user.id) : false] : '—',
          [h('code', {}, item.operation ?? '—'), h('span', { class: 'sub' }, TYPE_LABEL[item.type] ?? item.type ?? '')],
          item.target ?? '—',
          [hostLink(ctx, item.hostId, item.hostName), item.pool ? h('span', { class: 'sub' }, item.pool) : false],
          item.detail ? h('span', { class: 'detail' }, item.detail) : '—',
        ],
      };
    }),
    empty,
  });
}

export function renderActivity(element, items, ctx) {
  const highlighted = items.filter((item) => item.highlight === true || isBadOutcome(item.outcome)).length;
  return fill(element, h('p', { class: 'muted' }, `${items.length} ${items.length === 1 ? 'entry' : 'entries'}, ${highlighted} denied or failed.`), activityTable(items, ctx));
}

export function renderConnectors(element, connectors) {
  return fill(
    element,
    table({
      caption: 'Connectors',
      captionHidden: true,
      className: 'connectors',
      columns: [{ label: 'Connector', header: true }, { label: 'State' }, { label: 'Delivered', numeric: true }, { label: 'Retried', numeric: true }, { label: 'Dead-lettered', numeric: true }, { label: 'Lag', numeric: true }, { label: 'Last error' }],
      rows: connectors.map((c) => {
        const bad = c.state !== 'running' || c.deadLettered > 0;
        return {
          attributes: { 'data-connector': c.name, class: bad ? 'row-bad' : false },
          cells: [
            [h('strong', {}, c.name), h('span', { class: 'sub' }, c.type ?? '')],
            h('span', { class: `badge ${c.state === 'running' ? 'trust-trusted' : 'trust-untrusted'}` }, h('span', { 'aria-hidden': 'true' }, c.state === 'running' ? '✓ ' : '✗ '), c.state ?? 'unknown'),
            count(c.delivered),
            count(c.retries),
            count(c.deadLettered),
            count(c.lag),
            c.reason ?? c.lastError ?? '—',
          ],
        };
      }),
      empty: 'No connector is configured.',
    }),
  );
}

export function renderGenerated(element, overview) {
  fill(element, overview.generatedAt ? `As of ${formatTime(overview.generatedAt)}.` : '');
}
