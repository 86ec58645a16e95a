// One host's drill-down: its trust now and over time (with the attestation faults: flavor, PCR,
// expected and actual), asset tags and geolocation, the workloads it runs, its compliance per
// template with every rule's evidence and waivers and the score over time, and the admin
// actions, policy decisions and alerts that concern it. Data: GET /v1/hosts/:id,
// /v1/hosts/:id/history and /v1/compliance/hosts/:id.

import { scoreChart, trustTimeline } from './charts.js';
import { complianceBadge, count, facts, fill, formatTime, h, labelBadges, table, time, trustBadge } from './dom.js';
import { activityTable, alertsTable } from './overview-view.js';
import { activityMatches } from './url-state.js';

/** A fault as either shape the API gives: the host state's `pcrIndex`/`pcrBank` or the history's `pcr: {index, bank}`. */
function faultFacts(fault) {
  const index = fault.pcr?.index ?? fault.pcrIndex;
  const bank = fault.pcr?.bank ?? fault.pcrBank;
  return { flavor: fault.flavor ?? '—', name: fault.name ?? '—', description: fault.description, pcr: index === undefined ? '—' : `PCR ${index}${bank ? ` (${bank})` : ''}`, expected: fault.expected, actual: fault.actual };
}

const value = (text) => (text === undefined || text === null || text === '' ? '—' : h('code', { class: 'hash' }, String(text)));

function faultsTable(faults, caption) {
  return table({
    caption,
    className: 'faults',
    columns: [{ label: 'Flavor' }, { label: 'Fault', header: true }, { label: 'PCR' }, { label: 'Expected' }, { label: 'Actual' }],
    rows: faults.map((fault) => {
      const f = faultFacts(fault);
      return { attributes: { 'data-fault': f.name }, cells: [f.flavor, [h('span', {}, f.name), f.description ? h('span', { class: 'sub' }, f.description) : false], f.pcr, value(f.expected), value(f.actual)] };
    }),
    empty: 'No fault: every measurement matched its flavor.',
  });
}

function section(title, id, ...children) {
  const headingId = `host-${id}-title`;
  return h('section', { class: 'panel', 'aria-labelledby': headingId, 'data-section': id }, h('h3', { id: headingId }, title), ...children);
}

function trustSection(host, history) {
  const trust = host?.trust ?? {};
  const changes = history?.trust ?? [];
  const faults = trust.faults ?? [];
  return section(
    'Trust',
    'trust',
    facts([
      ['Status', trustBadge(trust.status)],
      ['Since', time(trust.since)],
      ['Attestation service', trust.attestationService],
      ['Faults of the last attestation', count(faults.length)],
    ]),
    faults.length > 0 ? faultsTable(faults, 'Faults of the last attestation') : false,
    h('h4', {}, 'Trust history'),
    changes.length > 0 ? trustTimeline({ title: `Trust of ${host?.name ?? history.hostId} over time`, changes, now: Date.now() }) : false,
    table({
      caption: 'Trust changes, newest first',
      captionHidden: true,
      className: 'trust-history',
      columns: [{ label: 'Time' }, { label: 'Change', header: true }, { label: 'Service' }, { label: 'Faults' }],
      rows: [...changes].reverse().map((change) => ({
        attributes: { 'data-trust': change.current, class: change.current === 'untrusted' ? 'row-bad' : false },
        cells: [
          time(change.time),
          [change.previous ? [trustBadge(change.previous), h('span', { 'aria-hidden': 'true' }, ' → '), h('span', { class: 'visually-hidden' }, ' to ')] : false, trustBadge(change.current)],
          change.service ?? '—',
          change.faults?.length > 0
            ? h('ul', { class: 'fault-list' }, change.faults.map((fault) => {
                const f = faultFacts(fault);
                return h('li', {}, h('strong', {}, `${f.flavor} · ${f.name}`), ` · ${f.pcr}`, h('br'), 'expected ', value(f.expected), h('br'), 'actual ', value(f.actual));
              }))
            : 'none',
        ],
      })),
      empty: 'No trust change is known.',
    }),
  );
}

function placeSection(host) {
  const tags = Object.entries(host?.assetTags ?? {});
  const geo = host?.geolocation ?? {};
  return section(
    'Asset tags and geolocation',
    'place',
    h('div', { class: 'columns' },
      h('div', {}, h('h4', {}, 'Asset tags'), tags.length > 0 ? facts(tags.map(([k, v]) => [k, v]), 'facts tags') : h('p', { class: 'muted' }, 'No asset tag.')),
      h('div', {}, h('h4', {}, 'Geolocation'), geo.country || geo.region || geo.site ? facts([['Country', geo.country], ['Region', geo.region], ['Site', geo.site]]) : h('p', { class: 'muted' }, 'No geolocation.')),
    ),
  );
}

function workloadsSection(host) {
  const workloads = host?.workloads ?? [];
  const untrusted = host?.trust?.status !== 'trusted';
  return section(
    'Workloads',
    'workloads',
    table({
      caption: 'Workloads on the host',
      captionHidden: true,
      className: 'workloads',
      columns: [{ label: 'Workload', header: true }, { label: 'Labels' }, { label: 'Required asset tags' }, { label: 'Since' }, { label: 'Decision' }],
      rows: workloads.map((w) => {
        const sensitive = (w.labels ?? []).includes('sensitive');
        return {
          attributes: { 'data-vm-id': w.id, 'data-sensitive': sensitive ? 'true' : 'false', class: sensitive && untrusted ? 'row-bad' : false },
          cells: [
            [h('strong', {}, w.name || w.id), w.name && w.name !== w.id ? h('span', { class: 'sub id' }, w.id) : false, sensitive && untrusted ? h('span', { class: 'sub warn-text' }, 'sensitive, on a host that is not trusted') : false],
            labelBadges(w.labels),
            Object.keys(w.requiredTags ?? {}).length > 0 ? Object.entries(w.requiredTags).map(([k, v]) => h('span', { class: 'tag' }, `${k}=${v}`)) : '—',
            time(w.since),
            h('code', { class: 'id' }, w.decisionId ?? '—'),
          ],
        };
      }),
      empty: 'No workload is placed on this host.',
    }),
  );
}

/** Failing first, then waived, not checked, passing, not applicable (as the HTML report orders them). */
function evidenceRank(rule) {
  if (rule.waiver) return 1;
  return { error: 0, fail: 0, notchecked: 2, pass: 3, notapplicable: 4 }[rule.result] ?? 2;
}

function ruleNotes(rule) {
  const notes = [];
  if (rule.message) notes.push(h('p', { class: 'note' }, rule.message));
  if (rule.waiver) {
    const w = rule.waiver;
    notes.push(
      h('div', { class: 'waiver' },
        h('strong', {}, 'Waiver: '), w.justification ?? '', h('br'),
        `approved by ${w.approvedBy ?? '—'}`, w.expiresAt ? ` · until ${formatTime(w.expiresAt)}` : '',
        rule.waiverLapsed ? h('strong', { class: 'lapsed' }, ' (ended: the failure stands)') : false),
    );
  }
  if (rule.remediation && (rule.result === 'fail' || rule.result === 'error')) notes.push(h('p', { class: 'note' }, `Remediation: ${rule.remediation}`));
  const refs = (rule.references ?? []).map((ref) => (ref.type === 'cis' ? `CIS ${ref.id} (${ref.benchmark})` : ref.type === 'nist' ? `NIST SP 800-53 ${ref.id}` : ref.id));
  if (refs.length > 0) notes.push(h('p', { class: 'sub id' }, refs.join(' · ')));
  return notes.length > 0 ? notes : '—';
}

function resultBadge(rule) {
  const failing = rule.result === 'fail' || rule.result === 'error';
  const tone = rule.waiver ? 'muted' : failing ? 'trust-untrusted' : rule.result === 'pass' ? 'trust-trusted' : 'muted';
  const symbol = rule.waiver ? '~ ' : failing ? '✗ ' : rule.result === 'pass' ? '✓ ' : '– ';
  return h('span', { class: `badge ${tone}` }, h('span', { 'aria-hidden': 'true' }, symbol), rule.waiver ? `${rule.result}, waived` : rule.result);
}

function templateBlock(t) {
  const c = t.counts ?? {};
  const rules = (t.rules ?? []).map((rule, index) => ({ rule, index })).sort((a, b) => evidenceRank(a.rule) - evidenceRank(b.rule) || a.index - b.index);
  const headingId = `template-${t.templateId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  return h(
    'section',
    { class: 'template', 'aria-labelledby': headingId, 'data-template': t.templateId },
    h('h4', { id: headingId }, h('code', {}, t.templateId), ' ', h('span', { class: 'sub' }, `version ${t.templateVersion}`)),
    facts([
      ['Score', `${t.percent} % (${t.score} of ${t.maxScore})`],
      ['Without waivers', `${t.percentWithoutWaivers} %`],
      ['Status', [complianceBadge(t.compliant, t.trustGated), t.trustGated ? h('span', { class: 'sub warn-text' }, ' untrusted when assessed') : false]],
      ['Results', `${c.pass ?? 0} pass · ${(c.fail ?? 0) + (c.error ?? 0)} failing · ${c.waived ?? 0} waived · ${c.notchecked ?? 0} not checked · ${c.notapplicable ?? 0} not applicable`],
      ['Assessed', time(t.assessedAt)],
    ]),
    t.drift && (t.drift.newlyFailing?.length > 0 || t.drift.newlyPassing?.length > 0)
      ? h('p', { class: 'drift' }, `Since the previous assessment: ${[t.drift.newlyFailing?.length ? `newly failing ${t.drift.newlyFailing.join(', ')}` : '', t.drift.newlyPassing?.length ? `newly passing ${t.drift.newlyPassing.join(', ')}` : ''].filter(Boolean).join('; ')}.`)
      : false,
    scoreChart({ title: `Score of ${t.templateId} over time`, points: t.history ?? [] }),
    rulesOf(t, rules),
  );
}

/** Templates whose rules the user folded away; they stay folded when live updates redraw the host. */
const folded = new Set();

/** Every rule with its evidence, in a disclosure (open) so that a long template can be folded away. */
function rulesOf(t, rules) {
  const failing = rules.filter(({ rule }) => (rule.result === 'fail' || rule.result === 'error') && !rule.waiver).length;
  const waived = rules.filter(({ rule }) => rule.waiver).length;
  return h(
    'details',
    {
      class: 'rules',
      open: !folded.has(t.templateId),
      ontoggle: (event) => (event.currentTarget.open ? folded.delete(t.templateId) : folded.add(t.templateId)),
    },
    h('summary', {}, `Rules and evidence: ${rules.length} rules, ${failing} failing, ${waived} waived`),
    table({
      caption: `Rules of ${t.templateId} (${rules.length}), failing first`,
      captionHidden: true,
      className: 'evidence',
      columns: [{ label: 'Result' }, { label: 'Rule', header: true }, { label: 'Severity' }, { label: 'Expected' }, { label: 'Actual' }, { label: 'Notes and waiver' }],
      rows: rules.map(({ rule }) => ({
        attributes: { 'data-rule-id': rule.ruleId, 'data-result': rule.result, class: (rule.result === 'fail' || rule.result === 'error') && !rule.waiver ? 'row-bad' : false },
        cells: [resultBadge(rule), [h('code', {}, rule.ruleId), h('span', { class: 'sub' }, rule.title)], h('span', { class: `sev-${rule.severity}` }, rule.severity), value(rule.expected), value(rule.actual), ruleNotes(rule)],
      })),
      empty: 'The rules of this assessment are not kept.',
    }),
  );
}

function complianceSection(compliance) {
  const templates = compliance?.templates ?? [];
  return section('Compliance', 'compliance', templates.length > 0 ? templates.map(templateBlock) : h('p', { class: 'muted' }, 'No hardening assessment of this host is known.'));
}

/** The page for one host; `data` holds what the three routes answered (undefined for a 404). */
export function renderHost(element, data, filters, ctx) {
  const { host, history, compliance } = data;
  // The host filters say which host is open; the others narrow its activity.
  const narrow = { ...filters, host: '', pool: '' };
  const activity = (history?.activity ?? []).filter((item) => activityMatches(item, narrow));
  const all = history?.activity?.length ?? 0;
  const pool = host?.pool ?? compliance?.host?.pool;
  fill(
    element,
    facts([
      ['Host id', h('code', {}, host?.hostId ?? history?.hostId ?? compliance?.host?.id ?? '')],
      ['Name', host?.name],
      ['IP address', host?.ip],
      ['Pool', pool],
      ['Trust', host ? trustBadge(host.trust?.status) : undefined],
      ['State updated', host ? time(host.updatedAt) : undefined],
    ], 'facts summary'),
    host ? false : h('p', { class: 'muted' }, 'The host state is not known (yet); what the history holds is shown.'),
    trustSection(host, history),
    placeSection(host),
    workloadsSection(host),
    complianceSection(compliance),
    section(
      'Administrator actions and policy decisions',
      'activity',
      h('p', { class: 'muted' }, activity.length < all ? `${activity.length} of ${all} entries match the filters.` : `${all} ${all === 1 ? 'entry' : 'entries'}.`),
      activityTable(activity, ctx, all === 0 ? 'No admin action or policy decision concerns this host.' : 'No entry matches the filters.'),
    ),
    section('Alerts', 'alerts', alertsTable(history?.alerts ?? [], ctx, 'No alert names this host.')),
  );
}
