/**
 * The report and a host's drill-down as self-contained HTML pages: inline CSS, no script, no
 * external asset (a Content-Security-Policy says so to the browser), readable on screen and on
 * paper. Every text that came from outside (host names, pools, rule titles, evidence, waiver
 * justifications) is escaped; status is spelled out in words and symbols, never by colour alone,
 * so it survives a black-and-white printer.
 */
import type { ComplianceReport, ComplianceStatus, HostCompliance, HostTemplateCompliance, ReportFilters, RuleEvidence, WorstRule } from './report.js';
import { citedReferences, referenceText } from './report.js';

export interface HtmlOptions {
  /** The page's title; default "Compliance report" or "Host compliance: <host>". */
  title?: string;
  /**
   * A link to a host's drill-down, e.g. `(id) => `/v1/compliance/hosts/${encodeURIComponent(id)}?format=html``.
   * The URL is escaped as an attribute, not encoded: encode the id. No link when absent.
   */
  hostHref?: (hostId: string) => string | undefined;
  /** Epoch ms the drill-down page is dated with (the report carries its own). */
  generatedAt?: number;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const e = (value: string | number | undefined): string => (value === undefined ? '' : escapeHtml(String(value)));

function time(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}"><span>${iso.slice(0, 10)}</span> <span>${iso.slice(11, 16)} UTC</span></time>`;
}

/** Percentages are already rounded to 2 decimals. */
function percent(value: number): string {
  return `${value}&nbsp;%`;
}

function scoringModel(uri: string): string {
  return uri.replace(/^urn:xccdf:scoring:/, '');
}

const STATUS_TEXT: Readonly<Record<ComplianceStatus, [string, string]>> = {
  compliant: ['✓', 'Compliant'],
  noncompliant: ['✗', 'Not compliant'],
  gated: ['✗', 'Not compliant'],
};

function badge(status: ComplianceStatus): string {
  const [symbol, text] = STATUS_TEXT[status];
  return `<span class="badge ${status}"><span aria-hidden="true">${symbol}</span> ${text}</span>`;
}

/** The badge, and the trust the host had when assessed; a gated one says why it is not compliant. */
function statusCell(status: ComplianceStatus, trustStatus: string): string {
  const trust = status === 'gated' ? `<strong class="gate">untrusted: trust-gated</strong>` : `trust: ${e(trustStatus)}`;
  return `${badge(status)}<br><span class="sub">${trust}</span>`;
}

const RESULT_CLASS: Readonly<Record<string, string>> = { pass: 'compliant', fail: 'noncompliant', error: 'noncompliant', notchecked: 'muted', notapplicable: 'muted' };

const CSS = `
:root { --ink: #1b1f24; --muted: #5b6470; --line: #d6dae0; --good: #1a7f37; --bad: #b42318; --warn: #9a6700; --head: #f2f4f7; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { font: 14px/1.45 "Liberation Sans", "Helvetica Neue", Arial, sans-serif; color: var(--ink); margin: 0 auto; padding: 24px; max-width: 1280px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.meta, .note { color: var(--muted); margin: 0 0 8px; }
.note { font-size: 12px; }
code, .id { font-family: "Liberation Mono", Menlo, Consolas, monospace; font-size: 12px; }
.id { color: var(--muted); overflow-wrap: anywhere; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 150px; background: #fafbfc; }
.card .label { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 26px; font-weight: 700; }
.card .sub { font-size: 12px; color: var(--muted); }
.card.good .value { color: var(--good); } .card.bad .value { color: var(--bad); } .card.warn .value { color: var(--warn); }
.columns { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.columns > div { flex: 1 1 380px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--head); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
tr.noncompliant td:first-child, tr.gated td:first-child { box-shadow: inset 4px 0 0 var(--bad); }
.badge { display: inline-block; white-space: nowrap; font-weight: 600; font-size: 12px; padding: 1px 8px; border-radius: 10px; border: 1px solid currentColor; }
.badge.compliant { color: var(--good); background: #e9f6ec; }
.badge.noncompliant, .badge.gated { color: var(--bad); background: #fdecea; }
.badge.muted { color: var(--muted); background: #f2f4f7; }
.sev-high { color: var(--bad); font-weight: 600; } .sev-medium { color: var(--warn); } .sev-low { color: var(--muted); }
.bar { display: inline-block; height: 10px; background: #4b6bfb; border-radius: 2px; vertical-align: middle; }
.ids { font-family: "Liberation Mono", Menlo, Consolas, monospace; font-size: 11px; }
.ids span, td code, time span, td.nowrap { white-space: nowrap; }
td.num.wrap { white-space: normal; }
td .sub { font-size: 12px; color: var(--muted); }
.gate { color: var(--bad); font-weight: 600; }
table.hosts td:first-child { min-width: 12em; overflow-wrap: anywhere; }
table.templates td:first-child { min-width: 16em; }
table.evidence-table { table-layout: fixed; }
table.evidence-table td { overflow-wrap: anywhere; }
table.evidence-table td code { white-space: normal; }
.evidence { font-family: "Liberation Mono", Menlo, Consolas, monospace; font-size: 12px; overflow-wrap: anywhere; white-space: pre-wrap; }
.waiver { margin-top: 4px; padding: 4px 6px; border-left: 3px solid var(--warn); font-size: 12px; }
.lapsed { color: var(--bad); font-weight: 600; }
a { color: #0b57d0; }
svg.trend { width: 100%; max-width: 640px; height: 120px; display: block; }
footer { margin-top: 28px; border-top: 1px solid var(--line); padding-top: 8px; }
@page { margin: 14mm 12mm; }
@media print {
  body { font-size: 9pt; padding: 0; max-width: none; -webkit-print-color-adjust: economy; print-color-adjust: economy; }
  h1 { font-size: 16pt; } h2 { font-size: 12pt; margin-top: 14pt; } h3 { font-size: 10pt; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  .card, th, .badge, .badge.compliant, .badge.noncompliant, .badge.gated, .badge.muted { background: none; }
  .card { padding: 4pt 8pt; min-width: 0; break-inside: avoid; }
  .card .value { font-size: 14pt; }
  th { color: #000; border-bottom: 1.5pt solid #000; }
  th, td { padding: 2pt 4pt; }
  .bar { background: none; border: 1pt solid #000; height: 6pt; }
  tr.noncompliant td:first-child, tr.gated td:first-child { box-shadow: none; border-left: 3pt solid #000; }
  a { color: inherit; text-decoration: none; }
  section { break-inside: auto; }
  table { font-size: 8pt; }
  code, .id, .ids, .evidence, td .sub { font-size: 7.5pt; }
  table.hosts td:first-child { min-width: 0; }
  .ids span, td code, td.nowrap { white-space: normal; }
  .ids { overflow-wrap: anywhere; }
  .gate { color: #000; }
}
`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="trustwire">
<title>${e(title)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

function card(metric: string, label: string, value: string | number, tone = '', sub = ''): string {
  return `<div class="card ${tone}" data-metric="${e(metric)}"><div class="label">${e(label)}</div><div class="value">${e(value)}</div>${sub === '' ? '' : `<div class="sub">${sub}</div>`}</div>`;
}

function hostCell(id: string, name: string | undefined, options: HtmlOptions): string {
  const href = options.hostHref?.(id);
  const shown = name ?? id;
  const label = href === undefined ? `<strong>${e(shown)}</strong>` : `<a href="${e(href)}"><strong>${e(shown)}</strong></a>`;
  return name === undefined || name === id ? label : `${label}<br><span class="id">${e(id)}</span>`;
}

function filtersText(filters: ReportFilters): string {
  const parts = [
    `template: ${filters.template === undefined ? 'all' : `<code>${e(filters.template)}</code>`}`,
    `pool: ${filters.pool === undefined ? 'all' : `<code>${e(filters.pool)}</code>`}`,
    `assessed since: ${filters.since === undefined ? 'any time' : time(filters.since)}`,
  ];
  return parts.join(' · ');
}

/** Ids that wrap between one another, never inside one. */
function idList(ids: readonly string[]): string {
  return ids.map((id) => `<span>${e(id)}</span>`).join(' ');
}

function references(refs: RuleEvidence['references'], cited: boolean): string {
  const texts = cited ? citedReferences(refs) : refs.map(referenceText);
  return texts.map(e).join('<br>');
}

// ---- the fleet report ------------------------------------------------------------------

/** The fleet report: summary, score bands and templates, one row per host × template, the most failed rules. */
export function reportHtml(report: ComplianceReport, options: HtmlOptions = {}): string {
  const title = options.title ?? 'Compliance report';
  const { summary } = report;
  const w = summary.waivers;
  const waiverSub = `${w.expiringSoon} ending within ${w.horizonDays} days${w.lapsed > 0 ? ` · <span class="lapsed">${w.lapsed} lapsed since assessed</span>` : ''}`;

  const cards = [
    card('hosts', 'Hosts assessed', summary.hosts, '', `${summary.assessments} host × template assessments`),
    card('compliant', 'Compliant', summary.compliant, 'good', 'with every template'),
    card('not-compliant', 'Not compliant', summary.notCompliant, summary.notCompliant > 0 ? 'bad' : ''),
    card('trust-gated', 'Trust-gated', summary.trustGated, summary.trustGated > 0 ? 'warn' : '', 'untrusted when assessed'),
    card('waivers', 'Waived failures', w.applied, '', waiverSub),
  ].join('\n');

  const most = Math.max(1, ...report.bands.map((b) => b.assessments));
  const bands = report.bands
    .map(
      (b) =>
        `<tr data-band="${e(b.band)}"><td>${e(b.label)}</td><td class="num">${b.assessments}</td><td><span class="bar" style="width:${Math.round((120 * b.assessments) / most)}px"></span></td></tr>`,
    )
    .join('\n');

  const templates = report.templates
    .map(
      (t) => `<tr data-template="${e(t.templateId)}">
<td><code>${e(t.templateId)}</code> <span class="id">v${e(t.versions.join(', v'))}</span>${t.title === undefined ? '' : `<br>${e(t.title)}`}</td>
<td class="num">${t.hosts}</td><td class="num">${t.compliant}</td><td class="num">${t.notCompliant}</td>
<td class="num">${percent(t.averagePercent)}</td><td class="num">${percent(t.averagePercentWithoutWaivers)}</td></tr>`,
    )
    .join('\n');

  const rows = report.rows
    .map(
      (r) => `<tr class="${r.status}" data-host-id="${e(r.hostId)}" data-template="${e(r.templateId)}" data-status="${r.status}">
<td>${hostCell(r.hostId, r.hostName, options)}</td>
<td class="nowrap">${e(r.pool ?? '—')}</td>
<td><code>${e(r.templateId)}</code><br><span class="id">v${e(r.templateVersion)} · ${e(scoringModel(r.scoringModel))}</span></td>
<td class="num"><strong>${percent(r.percent)}</strong><br><span class="id">${e(r.score)} / ${e(r.maxScore)}</span></td>
<td>${statusCell(r.status, r.trustStatus)}</td>
<td>${time(r.assessedAt)}</td>
<td class="num wrap">${r.counts.fail + r.counts.error} failing<br><span class="id">${r.counts.waived} waived · ${r.counts.pass} pass</span></td>
<td class="ids">${idList(r.failingRuleIds) || '—'}</td>
</tr>`,
    )
    .join('\n');

  const worst = report.worstRules.map((rule, i) => worstRow(rule, i + 1)).join('\n');

  const body = `<header>
<h1>${e(title)}</h1>
<p class="meta">Generated ${time(report.generatedAt)} · ${filtersText(report.filters)}</p>
</header>
<section class="summary" aria-label="Summary">
<div class="cards">
${cards}
</div>
<div class="columns">
<div>
<h3>Score bands</h3>
<table class="bands"><thead><tr><th>Score (% of maximum)</th><th class="num">Assessments</th><th></th></tr></thead>
<tbody>
${bands}
</tbody></table>
</div>
<div>
<h3>Templates</h3>
<table class="templates"><thead><tr><th>Template</th><th class="num">Hosts</th><th class="num">Compliant</th><th class="num">Not compliant</th><th class="num">Average</th><th class="num">Without waivers</th></tr></thead>
<tbody>
${templates || '<tr><td colspan="6">No assessments.</td></tr>'}
</tbody></table>
</div>
</div>
</section>
<section aria-label="Hosts">
<h2>Hosts</h2>
<table class="hosts"><colgroup><col style="width:17%"><col style="width:9%"><col style="width:10%"><col style="width:7%"><col style="width:13%"><col style="width:10%"><col style="width:9%"><col style="width:25%"></colgroup><thead><tr><th>Host</th><th>Pool</th><th>Template</th><th class="num">Score</th><th>Status</th><th>Assessed</th><th class="num">Findings</th><th>Failing rules</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="8">No host was assessed within these filters.</td></tr>'}
</tbody></table>
</section>
<section aria-label="Most failed rules">
<h2>Most failed rules</h2>
<table class="rules"><thead><tr><th class="num">#</th><th>Rule</th><th>Severity</th><th>Reference</th><th class="num">Failing hosts</th><th class="num">Waived</th><th>Hosts</th></tr></thead>
<tbody>
${worst || '<tr><td colspan="7">No rule fails on any host.</td></tr>'}
</tbody></table>
</section>
<footer class="note">
<p>Score: the score with waivers in force, as a percentage of the scoring model's maximum (XCCDF 1.2 models; trustwire's default weighs rules by severity: high 10, medium 5, low 1). Bands: ≥ 90 %, 75 to under 90 %, 50 to under 75 %, under 50 %. Compliant: at or above the template's threshold, and the host was not untrusted when assessed (an untrusted host is never compliant, whatever its score). Failing: a rule that fails or errs and is not waived.</p>
</footer>`;
  return page(title, body);
}

function worstRow(rule: WorstRule, rank: number): string {
  return `<tr data-rule-id="${e(rule.ruleId)}">
<td class="num">${rank}</td>
<td><code>${e(rule.ruleId)}</code><br>${e(rule.title)}</td>
<td class="sev-${rule.severity}">${e(rule.severity)}</td>
<td>${references(rule.references, true) || '—'}</td>
<td class="num">${rule.failingHosts} of ${rule.assessedHosts}</td>
<td class="num">${rule.waivedHosts}</td>
<td class="ids">${idList(rule.failingHostIds)}</td>
</tr>`;
}

// ---- one host --------------------------------------------------------------------------

/** Failing first, then waived, not checked, passing, not applicable; template order within each. */
function evidenceRank(rule: RuleEvidence): number {
  if (rule.waiver !== undefined) return 1;
  switch (rule.result) {
    case 'error':
    case 'fail':
      return 0;
    case 'notchecked':
      return 2;
    case 'pass':
      return 3;
    case 'notapplicable':
      return 4;
  }
}

/** One host's drill-down: per template its score, trend and every rule's evidence. */
export function hostHtml(drillDown: HostCompliance, options: HtmlOptions = {}): string {
  const { host } = drillDown;
  const title = options.title ?? `Host compliance: ${host.name ?? host.id}`;
  const facts = [`id <code>${e(host.id)}</code>`, `pool ${e(host.pool ?? '—')}`, ...(host.ip === undefined ? [] : [`IP ${e(host.ip)}`])];
  if (options.generatedAt !== undefined) facts.push(`generated ${time(options.generatedAt)}`);
  const body = `<header>
<h1>${e(title)}</h1>
<p class="meta">${facts.join(' · ')}</p>
</header>
${drillDown.templates.map(templateSection).join('\n')}
<footer class="note">
<p>Each rule shows the value the template expects and the value the collector reported: the evidence behind the score. A waived failure counts as passed in the score (not in the score without waivers) until the waiver ends.</p>
</footer>`;
  return page(title, body);
}

function templateSection(t: HostTemplateCompliance): string {
  const c = t.counts;
  const cards = [
    card('score', 'Score', `${t.percent} %`, t.compliant ? 'good' : 'bad', `${e(t.score)} of ${e(t.maxScore)} · ${e(scoringModel(t.scoringModel))} model`),
    `<div class="card" data-metric="status"><div class="label">Status</div><div class="value">${badge(t.status)}</div><div class="sub">${t.status === 'gated' ? '<strong class="gate">untrusted when assessed: trust-gated</strong>' : `trust when assessed: ${e(t.trustStatus)}`}</div></div>`,
    card('without-waivers', 'Without waivers', `${t.percentWithoutWaivers} %`),
    card('results', 'Results', `${c.pass} pass · ${c.fail + c.error} failing`, '', `${c.waived} waived · ${c.notchecked} not checked · ${c.notapplicable} not applicable`),
  ].join('\n');
  const drift = t.drift === undefined ? '' : driftText(t.drift);
  const rules = [...t.rules]
    .map((rule, index) => ({ rule, index }))
    .sort((a, b) => evidenceRank(a.rule) - evidenceRank(b.rule) || a.index - b.index)
    .map(({ rule }) => ruleRow(rule))
    .join('\n');
  return `<section class="template" data-template="${e(t.templateId)}" aria-label="${e(t.templateId)}">
<h2><code>${e(t.templateId)}</code> <span class="id">v${e(t.templateVersion)}</span></h2>
<p class="meta">Assessed ${time(t.assessedAt)} · assessment <span class="id">${e(t.eventId)}</span> · snapshot <span class="id">${e(t.snapshotEventId)}</span></p>
<div class="cards">
${cards}
</div>
${drift}
<h3>Score over time</h3>
${trend(t)}
<h3>Rules (${t.rules.length})</h3>
<table class="evidence-table"><colgroup><col style="width:9%"><col style="width:27%"><col style="width:7%"><col style="width:20%"><col style="width:14%"><col style="width:23%"></colgroup><thead><tr><th>Result</th><th>Rule</th><th>Severity</th><th>Expected</th><th>Actual</th><th>Notes</th></tr></thead>
<tbody>
${rules || '<tr><td colspan="6">The rules of this assessment are not kept.</td></tr>'}
</tbody></table>
</section>`;
}

function driftText(drift: NonNullable<HostTemplateCompliance['drift']>): string {
  const parts: string[] = [];
  if (drift.previousScore !== undefined) parts.push(`previous score ${e(drift.previousScore)}`);
  if (drift.newlyFailing.length > 0) parts.push(`newly failing: <span class="ids">${idList(drift.newlyFailing)}</span>`);
  if (drift.newlyPassing.length > 0) parts.push(`newly passing: <span class="ids">${idList(drift.newlyPassing)}</span>`);
  return parts.length === 0 ? '' : `<p class="drift">Since the previous assessment: ${parts.join('; ')}.</p>`;
}

function ruleRow(rule: RuleEvidence): string {
  const waived = rule.waiver !== undefined;
  const resultClass = waived ? 'muted' : (RESULT_CLASS[rule.result] ?? 'muted');
  const resultText = waived ? `${rule.result}, waived` : rule.result;
  const notes: string[] = [];
  if (rule.message !== undefined) notes.push(e(rule.message));
  if (rule.waiver !== undefined) {
    const w = rule.waiver;
    const ends = w.expiresAt === undefined ? '' : ` · until ${time(w.expiresAt)}`;
    const lapsed = rule.waiverLapsed === true ? ' <span class="lapsed">(ended: the failure stands)</span>' : '';
    notes.push(`<div class="waiver"><strong>Waiver:</strong> ${e(w.justification)}<br>approved by ${e(w.approvedBy ?? '—')}${ends}${lapsed}</div>`);
  }
  if (rule.remediation !== undefined && (rule.result === 'fail' || rule.result === 'error')) notes.push(`<div class="note">Remediation: ${e(rule.remediation)}</div>`);
  const refs = references(rule.references, false);
  return `<tr class="${rule.result === 'fail' || rule.result === 'error' ? (waived ? 'waived' : 'noncompliant') : rule.result}" data-rule-id="${e(rule.ruleId)}" data-result="${e(rule.result)}">
<td><span class="badge ${resultClass}">${e(resultText)}</span></td>
<td><code>${e(rule.ruleId)}</code><br>${e(rule.title)}${refs === '' ? '' : `<br><span class="id">${refs}</span>`}</td>
<td class="sev-${rule.severity}">${e(rule.severity)}</td>
<td class="evidence">${e(rule.expected ?? '—')}</td>
<td class="evidence">${e(rule.actual ?? '—')}</td>
<td>${notes.join('')}</td>
</tr>`;
}

/** A line of the percentage over time (inline SVG, numbers only) and the points as a table. */
function trend(t: HostTemplateCompliance): string {
  const points = t.history;
  const width = 640;
  const height = 120;
  const pad = 12;
  const first = points[0]?.time ?? 0;
  const span = Math.max(1, (points[points.length - 1]?.time ?? 0) - first);
  const x = (time: number) => (points.length === 1 ? width / 2 : pad + ((width - 2 * pad) * (time - first)) / span);
  const y = (pct: number) => pad + ((height - 2 * pad) * (100 - Math.min(100, Math.max(0, pct)))) / 100;
  const coords = points.map((p) => `${x(p.time).toFixed(1)},${y(p.percent).toFixed(1)}`);
  const dots = points
    .map((p, i) => `<circle cx="${coords[i]!.split(',')[0]}" cy="${coords[i]!.split(',')[1]}" r="4" fill="${p.compliant ? '#1a7f37' : '#b42318'}"/>`)
    .join('');
  const grid = [0, 50, 100].map((pct) => `<line x1="${pad}" x2="${width - pad}" y1="${y(pct)}" y2="${y(pct)}" stroke="#d6dae0" stroke-width="1"/>`).join('');
  const svg = `<svg class="trend" viewBox="0 0 ${width} ${height}" role="img" aria-label="Score over time, ${points.length} assessments">${grid}<polyline points="${coords.join(' ')}" fill="none" stroke="#4b6bfb" stroke-width="2"/>${dots}</svg>`;
  const rows = points
    .map((p) => `<tr><td>${time(p.time)}</td><td class="num">${percent(p.percent)}</td><td class="num">${e(p.score)} / ${e(p.maxScore)}</td><td>${badge(p.compliant ? 'compliant' : p.trustGated ? 'gated' : 'noncompliant')}</td></tr>`)
    .join('\n');
  return `${svg}
<table class="history"><thead><tr><th>Assessed</th><th class="num">Score</th><th class="num">Points</th><th>Status</th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}
