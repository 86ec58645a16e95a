/**
 * What compliance teams pull: a fleet report over the latest assessment of every host against
 * every template, and one host's drill-down with the evidence of every rule and its score over
 * time. Pure functions over `compliance.assessment` events; the renderers (CSV, HTML) are in
 * report-csv.ts and report-html.ts and re-exported here.
 */
import type { z } from 'zod';
import type { EventOf } from '../model/events.js';
import type { RuleResult, RuleResultKind } from '../model/payloads.js';
import type { TrustStatus } from '../model/primitives.js';
import type { AssessmentPayload } from '../compliance/score.js';
import type { Reference, Template } from '../compliance/template.js';


type Assessment = EventOf<'compliance.assessment'>;
type RuleResultPayload = z.output<typeof RuleResult>;
type ResultKind = z.output<typeof RuleResultKind>;
type Severity = RuleResultPayload['severity'];

/** Narrows the report; every filter given must hold. */
export interface ReportFilters {
  /** A template id: only assessments against it. */
  template?: string;
  /** A pool: only hosts in it (as the assessment's host names it). */
  pool?: string;
  /** Epoch ms: only assessments made at or after it (hosts not assessed since are left out). */
  since?: number;
}

export interface ReportOptions {
  /**
   * The templates the assessments were scored with (the loaded ones): rule references (STIG, CIS,
   * ...) and template titles are looked up in them, as an assessment carries neither.
   */
  templates?: readonly Template[];
  /** How many of the most failed rules to list; default 10. */
  worstRules?: number;
  /** A waiver in force that ends within this many ms of `now` is expiring soon; default 30 days. */
  waiverHorizonMs?: number;
}

/**
 * Score bands, by the score with waivers as a percentage of the scoring model's maximum, lower
 * bound included: ≥ 90 %, 75 to < 90 %, 50 to < 75 %, < 50 %. A band says how far a host is
 * hardened, not whether it is compliant: compliance depends on the template's threshold and on
 * the trust gate (an untrusted host scoring 100 % is in the top band and not compliant).
 */
export const SCORE_BANDS = [
  { band: '90-100', label: '≥ 90 %', minPercent: 90 },
  { band: '75-90', label: '75–90 %', minPercent: 75 },
  { band: '50-75', label: '50–75 %', minPercent: 50 },
  { band: '0-50', label: '< 50 %', minPercent: 0 },
] as const;
export type ScoreBand = (typeof SCORE_BANDS)[number]['band'];

/** `gated`: not compliant because attestation said the host was untrusted, whatever the score. */
export type ComplianceStatus = 'compliant' | 'noncompliant' | 'gated';

export type ResultCounts = AssessmentPayload['counts'];

/** One host against one template: its latest assessment in a line. */
export interface ReportRow {
  hostId: string;
  hostName?: string;
  pool?: string;
  templateId: string;
  templateVersion: string;
  scoringModel: string;
  score: number;
  maxScore: number;
  /** score / maxScore × 100, 2 decimals; 0 when the maximum is 0 (nothing counted). */
  percent: number;
  scoreWithoutWaivers: number;
  percentWithoutWaivers: number;
  band: ScoreBand;
  compliant: boolean;
  status: ComplianceStatus;
  /** The host's trust when it was assessed. */
  trustStatus: TrustStatus;
  trustGated: boolean;
  assessedAt: number;
  counts: ResultCounts;
  /** Rules that fail or err and are not waived, in template order. */
  failingRuleIds: string[];
  /** Failing rules a waiver in force covered. */
  waivedRuleIds: string[];
  /** The assessment event, for tracing back (and de-duplicating in a SIEM). */
  eventId: string;
  snapshotEventId: string;
}

export interface TemplateSummary {
  templateId: string;
  /** From the templates given in the options. */
  title?: string;
  /** The template versions the hosts were assessed with, sorted. */
  versions: string[];
  hosts: number;
  compliant: number;
  notCompliant: number;
  trustGated: number;
  /** Mean of the hosts' percentages, 2 decimals. */
  averagePercent: number;
  /** The same, every waiver ignored: what the waivers are worth. */
  averagePercentWithoutWaivers: number;
}

export interface WorstRule {
  templateId: string;
  ruleId: string;
  title: string;
  severity: Severity;
  /** From the template (STIG, vulnerability, CIS, CCI, NIST ids); empty without templates. */
  references: Reference[];
  /** Hosts where the rule fails or errs, not waived. */
  failingHosts: number;
  failingHostIds: string[];
  /** Hosts where it fails under a waiver in force. */
  waivedHosts: number;
  /** Hosts where it counted (pass, fail or error). */
  assessedHosts: number;
}

export interface ComplianceReport {
  generatedAt: number;
  filters: ReportFilters;
  summary: {
    /** Hosts with at least one assessment in the report. */
    hosts: number;
    /** Hosts compliant with every template they were assessed against. */
    compliant: number;
    notCompliant: number;
    /** Hosts with an assessment gated by trust (untrusted when assessed); each is also not compliant. */
    trustGated: number;
    /** Host × template assessments: the rows. */
    assessments: number;
    waivers: {
      /** Waived failures across the rows. */
      applied: number;
      /** The horizon of `expiringSoon`, in days. */
      horizonDays: number;
      /** Of those, waivers ending within the horizon after `generatedAt`. */
      expiringSoon: number;
      /** Of those, waivers that have ended since the assessment: the rule fails today. */
      lapsed: number;
    };
  };
  /** Assessments (rows) per band, every band listed, best first. */
  bands: Array<{ band: ScoreBand; label: string; assessments: number }>;
  templates: TemplateSummary[];
  /** The rules failing on the most hosts, most first; then the most severe; then by id. */
  worstRules: WorstRule[];
  /** Sorted by host id, then template id. */
  rows: ReportRow[];
}

/** One rule's result on one host, with what the template says about it. */
export interface RuleEvidence extends RuleResultPayload {
  references: Reference[];
  remediation?: string;
  /** The waiver had ended by `now` (given in the options): the failure stands today. */
  waiverLapsed?: boolean;
}

export interface ScorePoint {
  time: number;
  score: number;
  maxScore: number;
  percent: number;
  compliant: boolean;
  trustGated: boolean;
  eventId: string;
}

export interface HostTemplateCompliance extends Omit<ReportRow, 'hostId' | 'hostName' | 'pool'> {
  drift?: AssessmentPayload['drift'];
  /** Every rule of the latest assessment, in template order. */
  rules: RuleEvidence[];
  /** Every assessment against this template, oldest first, the latest included. */
  history: ScorePoint[];
}

export interface HostCompliance {
  host: { id: string; name?: string; ip?: string; pool?: string };
  /** One entry per template, by template id. */
  templates: HostTemplateCompliance[];
}

export interface DrillDownOptions {
  /** For references and remediation, as in ReportOptions. */
  templates?: readonly Template[];
  /** Epoch ms: marks waivers that have ended since the assessment. */
  now?: number;
}

const DAY_MS = 86_400_000;
const FAILING: ReadonlySet<ResultKind> = new Set(['fail', 'error']);
const COUNTED: ReadonlySet<ResultKind> = new Set(['pass', 'fail', 'error']);
const SEVERITY_RANK: Readonly<Record<Severity, number>> = { high: 3, medium: 2, low: 1 };

// ---- the fleet report ------------------------------------------------------------------

/**
 * The fleet report over the latest assessment of each host against each template. Given more
 * than one assessment of a host and template, the latest (by time, then id) is taken, so a
 * caller may pass a whole history. `now` is the report's time: it dates the report and decides
 * which waivers are expiring or have lapsed.
 */
export function buildReport(latest: readonly Assessment[], filters: ReportFilters, now: number, options: ReportOptions = {}): ComplianceReport {
  const wanted = latestPerHostAndTemplate(latest).filter(
    (event) =>
      (filters.template === undefined || event.payload.templateId === filters.template) &&
      (filters.pool === undefined || event.host.pool === filters.pool) &&
      (filters.since === undefined || event.time >= filters.since),
  );
  wanted.sort((a, b) => compareText(a.host.id, b.host.id) || compareText(a.payload.templateId, b.payload.templateId));
  const rows = wanted.map(rowOf);

  const hostStatus = new Map<string, { compliant: boolean; gated: boolean }>();
  for (const row of rows) {
    const host = hostStatus.get(row.hostId) ?? { compliant: true, gated: false };
    host.compliant &&= row.compliant;
    host.gated ||= row.trustGated;
    hostStatus.set(row.hostId, host);
  }
  const hosts = [...hostStatus.values()];
  const compliantHosts = hosts.filter((h) => h.compliant).length;

  const horizonMs = options.waiverHorizonMs ?? 30 * DAY_MS;
  const horizon = now + horizonMs;
  const waivers = { applied: 0, horizonDays: horizonMs / DAY_MS, expiringSoon: 0, lapsed: 0 };
  for (const event of wanted) {
    for (const result of event.payload.results) {
      if (result.waiver === undefined) continue;
      waivers.applied += 1;
      const ends = result.waiver.expiresAt;
      if (ends === undefined) continue;
      if (ends <= now) waivers.lapsed += 1;
      else if (ends <= horizon) waivers.expiringSoon += 1;
    }
  }

  return {
    generatedAt: now,
    filters: { ...filters },
    summary: {
      hosts: hosts.length,
      compliant: compliantHosts,
      notCompliant: hosts.length - compliantHosts,
      trustGated: hosts.filter((h) => h.gated).length,
      assessments: rows.length,
      waivers,
    },
    bands: SCORE_BANDS.map(({ band, label }) => ({ band, label, assessments: rows.filter((row) => row.band === band).length })),
    templates: templateSummaries(rows, options.templates),
    worstRules: worstRules(wanted, options.templates, options.worstRules ?? 10),
    rows,
  };
}

/** The latest of each host × template, by time, then by id (UUIDv7 and ULID sort by time). */
function latestPerHostAndTemplate(events: readonly Assessment[]): Assessment[] {
  const latest = new Map<string, Assessment>();
  for (const event of events) {
    const key = `${event.host.id}\u0000${event.payload.templateId}`;
    const seen = latest.get(key);
    if (seen === undefined || isLater(event, seen)) latest.set(key, event);
  }
  return [...latest.values()];
}

function isLater(a: Assessment, b: Assessment): boolean {
  if (a.time !== b.time) return a.time > b.time;
  if (a.id !== b.id) return a.id > b.id;
  // The same event twice (the view keeps older ones without their rules): the fuller one.
  return a.payload.results.length > b.payload.results.length;
}

function rowOf(event: Assessment): ReportRow {
  const { host } = event;
  return {
    hostId: host.id,
    ...(host.name !== undefined && { hostName: host.name }),
    ...(host.pool !== undefined && { pool: host.pool }),
    ...assessmentFacts(event),
  };
}

/** What a row says of an assessment, the host apart. */
function assessmentFacts(event: Assessment): Omit<ReportRow, 'hostId' | 'hostName' | 'pool'> {
  const a = event.payload;
  const percent = percentOf(a.score, a.maxScore);
  const gated = a.trustGate.applied;
  return {
    templateId: a.templateId,
    templateVersion: a.templateVersion,
    scoringModel: a.scoringModel,
    score: a.score,
    maxScore: a.maxScore,
    percent,
    scoreWithoutWaivers: a.scoreWithoutWaivers,
    percentWithoutWaivers: percentOf(a.scoreWithoutWaivers, a.maxScore),
    band: bandOf(percent),
    compliant: a.compliant,
    status: a.compliant ? 'compliant' : gated ? 'gated' : 'noncompliant',
    trustStatus: a.trustGate.trustStatus,
    trustGated: gated,
    assessedAt: event.time,
    counts: { ...a.counts },
    failingRuleIds: a.results.filter((r) => FAILING.has(r.result) && r.waiver === undefined).map((r) => r.ruleId),
    waivedRuleIds: a.results.filter((r) => r.waiver !== undefined).map((r) => r.ruleId),
    eventId: event.id,
    snapshotEventId: a.snapshotEventId,
  };
}

/**
 * Percent of the model's maximum, 2 decimals. A maximum of 0 (flat models with nothing counted)
 * is 0 %: no evidence is not compliance. The maximum under flat models is the counted weight,
 * which moves with the rules that applied; the percentage is what compares across hosts.
 */
function percentOf(score: number, maxScore: number): number {
  return maxScore > 0 ? round2((100 * score) / maxScore) : 0;
}

export function bandOf(percent: number): ScoreBand {
  return (SCORE_BANDS.find((b) => percent >= b.minPercent) ?? SCORE_BANDS[SCORE_BANDS.length - 1]!).band;
}

function templateSummaries(rows: readonly ReportRow[], templates: readonly Template[] | undefined): TemplateSummary[] {
  const byTemplate = new Map<string, ReportRow[]>();
  for (const row of rows) byTemplate.set(row.templateId, [...(byTemplate.get(row.templateId) ?? []), row]);
  return [...byTemplate.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .map(([templateId, group]) => {
      const title = templates?.find((t) => t.id === templateId)?.title;
      const compliant = group.filter((r) => r.compliant).length;
      return {
        templateId,
        ...(title !== undefined && { title }),
        versions: [...new Set(group.map((r) => r.templateVersion))].sort(compareText),
        hosts: group.length,
        compliant,
        notCompliant: group.length - compliant,
        trustGated: group.filter((r) => r.trustGated).length,
        averagePercent: mean(group.map((r) => r.percent)),
        averagePercentWithoutWaivers: mean(group.map((r) => r.percentWithoutWaivers)),
      };
    });
}

function worstRules(events: readonly Assessment[], templates: readonly Template[] | undefined, limit: number): WorstRule[] {
  const rules = new Map<string, WorstRule & { latest: number }>();
  for (const event of events) {
    const { templateId } = event.payload;
    for (const result of event.payload.results) {
      const key = `${templateId}\u0000${result.ruleId}`;
      let rule = rules.get(key);
      if (rule === undefined) {
        rule = {
          templateId,
          ruleId: result.ruleId,
          title: result.title,
          severity: result.severity,
          references: referencesOf(templates, templateId, result.ruleId),
          failingHosts: 0,
          failingHostIds: [],
          waivedHosts: 0,
          assessedHosts: 0,
          latest: event.time,
        };
        rules.set(key, rule);
      } else if (event.time > rule.latest) {
        // Titles and severities follow the newest template version seen.
        Object.assign(rule, { title: result.title, severity: result.severity, latest: event.time });
      }
      if (COUNTED.has(result.result)) rule.assessedHosts += 1;
      if (result.waiver !== undefined) rule.waivedHosts += 1;
      else if (FAILING.has(result.result)) {
        rule.failingHosts += 1;
        rule.failingHostIds.push(event.host.id);
      }
    }
  }
  return [...rules.values()]
    .filter((rule) => rule.failingHosts > 0)
    .sort(
      (a, b) =>
        b.failingHosts - a.failingHosts ||
        SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
        compareText(a.templateId, b.templateId) ||
        compareText(a.ruleId, b.ruleId),
    )
    .slice(0, Math.max(0, limit))
    .map(({ latest: _latest, ...rule }) => ({ ...rule, failingHostIds: rule.failingHostIds.sort(compareText) }));
}

function referencesOf(templates: readonly Template[] | undefined, templateId: string, ruleId: string): Reference[] {
  const rule = templates?.find((t) => t.id === templateId)?.rules.find((r) => r.id === ruleId);
  return rule === undefined ? [] : rule.references.map((ref) => ({ ...ref }));
}

// ---- one host --------------------------------------------------------------------------

/**
 * One host's compliance: per template, the latest assessment with every rule's result and
 * evidence (expected, actual, message, waiver), and its score over time. `history` is every
 * assessment of the host that is known, in any order; the same event given twice (the view
 * keeps older assessments without their rules) counts once, the copy with rules winning.
 * Throws a RangeError when `history` is empty or mixes hosts: there is no host to describe.
 */
export function hostDrillDown(history: readonly Assessment[], options: DrillDownOptions = {}): HostCompliance {
  if (history.length === 0) throw new RangeError('no assessments: a drill-down needs at least one');
  const hostIds = new Set(history.map((event) => event.host.id));
  if (hostIds.size > 1) throw new RangeError(`assessments of several hosts (${[...hostIds].sort().join(', ')}): a drill-down is one host's`);

  const byId = new Map<string, Assessment>();
  for (const event of history) {
    const seen = byId.get(event.id);
    if (seen === undefined || event.payload.results.length > seen.payload.results.length) byId.set(event.id, event);
  }
  const events = [...byId.values()].sort((a, b) => a.time - b.time || compareText(a.id, b.id));
  const newest = events[events.length - 1]!;

  const byTemplate = new Map<string, Assessment[]>();
  for (const event of events) byTemplate.set(event.payload.templateId, [...(byTemplate.get(event.payload.templateId) ?? []), event]);

  const templates = [...byTemplate.entries()]
    .sort(([a], [b]) => compareText(a, b))
    .map(([templateId, assessments]): HostTemplateCompliance => {
      const latest = assessments[assessments.length - 1]!;
      const template = options.templates?.find((t) => t.id === templateId);
      return {
        ...assessmentFacts(latest),
        ...(latest.payload.drift !== undefined && { drift: latest.payload.drift }),
        rules: latest.payload.results.map((result) => evidenceOf(result, template, options.now)),
        history: assessments.map((event) => ({
          time: event.time,
          score: event.payload.score,
          maxScore: event.payload.maxScore,
          percent: percentOf(event.payload.score, event.payload.maxScore),
          compliant: event.payload.compliant,
          trustGated: event.payload.trustGate.applied,
          eventId: event.id,
        })),
      };
    });

  const { id, name, ip, pool } = newest.host;
  return {
    host: { id, ...(name !== undefined && { name }), ...(ip !== undefined && { ip }), ...(pool !== undefined && { pool }) },
    templates,
  };
}

function evidenceOf(result: RuleResultPayload, template: Template | undefined, now: number | undefined): RuleEvidence {
  const rule = template?.rules.find((r) => r.id === result.ruleId);
  const evidence: RuleEvidence = { ...result, references: rule?.references.map((ref) => ({ ...ref })) ?? [] };
  if (result.waiver !== undefined) evidence.waiver = { ...result.waiver };
  if (rule !== undefined) evidence.remediation = rule.remediation;
  if (now !== undefined && result.waiver?.expiresAt !== undefined) evidence.waiverLapsed = result.waiver.expiresAt <= now;
  return evidence;
}

// ---- shared ----------------------------------------------------------------------------

/** The report or a drill-down as JSON (times in epoch ms, as everywhere in the API). */
export function reportJson(report: ComplianceReport | HostCompliance): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** The references a compliance officer cites, as text: STIG and vulnerability ids, CIS numbers. */
export function citedReferences(references: readonly Reference[]): string[] {
  return references.flatMap((ref) => {
    switch (ref.type) {
      case 'stig':
      case 'vuln':
        return [ref.id];
      case 'cis':
        return [`CIS ${ref.id} (${ref.benchmark})`];
      default:
        return [];
    }
  });
}

/** Every reference as text, for the drill-down's evidence. */
export function referenceText(ref: Reference): string {
  switch (ref.type) {
    case 'stig':
    case 'vuln':
    case 'cci':
    case 'url':
      return ref.id;
    case 'cis':
      return `CIS ${ref.id} (${ref.benchmark})`;
    case 'nist':
      return `NIST SP 800-53 ${ref.id}`;
  }
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : round2(values.reduce((sum, v) => sum + v, 0) / values.length);
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Code-point order: the same in every locale, as a report that is diffed must be. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
