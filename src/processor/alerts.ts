import { clampText, defined } from '../model/text.js';
import { stableEventId } from '../model/stable-id.js';
import type { AssessmentPayload } from '../compliance/score.js';
import type { CanonicalEvent, EventOf } from '../model/events.js';
import { enrichmentOf, hostIdentityOf } from './enrichment.js';
import type { HostState, ProcessorRules } from './state.js';

/**
 * Severity (0-10) of each rule's alert, in the order alerts are emitted.
 * - 9: sensitive workloads run on a host whose measured launch no longer matches;
 * - 8: a workload was let onto an untrusted host: a policy gap, though it may not hold
 *   sensitive data (6 when the host's trust is merely unknown, e.g. not attested yet);
 * - 8: a sensitive workload left the trusted pools it must run in (it may still be on a trusted host);
 * - 7: a geofence or classification boundary crossed; an admin change made on an untrusted host;
 * - 6, 5: repeated denials and flapping are patterns to look into, not a breach by themselves;
 * - 7: a high-severity hardening rule that passed before now fails (a change made the host weaker);
 * - 6: a host's hardening score fell below its template's threshold.
 */
export const ALERT_SEVERITY = {
  'trust.sensitive-workload-on-untrusted-host': 9,
  'placement.onto-untrusted-host': 8,
  'placement.asset-tag-mismatch': 7,
  'placement.outside-trusted-pool': 8,
  'admin.success-on-untrusted-host': 7,
  'admin.repeated-denials': 6,
  'admin.denial-spraying': 7,
  'trust.flapping': 5,
  'compliance.high-severity-regression': 7,
  'compliance.below-threshold': 6,
} as const;
export type AlertRule = keyof typeof ALERT_SEVERITY;

const UNKNOWN_TRUST_PLACEMENT_SEVERITY = 6;

/** What a rule says about the event that triggered it; `alertEvent` makes the event of it. */
export interface AlertSpec {
  rule: AlertRule;
  title: string;
  severity: number;
  relatedEventIds: string[];
  /** Values left undefined are not known and are dropped. */
  details: Record<string, string | undefined>;
}

export const ALERT_SOURCE = { system: 'trustwire', vendor: 'trustwire', product: 'trustwire-processor' } as const;

/** The label the policy proxy gives workloads that must only run on trusted hosts. */
export const SENSITIVE_LABEL = 'sensitive';

// Limits of the contract: Text 4096 (title), a details value 1024, 1024 related ids.
const DETAIL_MAX = 1024;
const RELATED_MAX = 1024;

/**
 * The alert event. Its id is a hash of the rule, the related events and the host, at the
 * triggering event's time: reprocessing the same input yields the same id, so a replay after a
 * failover never raises an alert twice under two ids.
 */
export function alertEvent(trigger: CanonicalEvent, host: HostState, spec: AlertSpec): EventOf<'alert'> {
  return alertOf(trigger, spec, { host: hostIdentityOf(host), enrichment: enrichmentOf(host), subject: host.hostId, at: trigger.time });
}

/**
 * An alert about a user, raised fleet-wide by the by-user stage: it names the host of the event
 * that tipped it, enriched as that event was; its time `at` is its newest attempt's and its id
 * hashes the attempts and the user (not a host), so the same attempts raise it under the same
 * id in whatever order their partitions delivered them.
 */
export function userAlertEvent(trigger: CanonicalEvent, userId: string, spec: AlertSpec, at: number = trigger.time): EventOf<'alert'> {
  return alertOf(trigger, spec, { host: trigger.host, enrichment: trigger.enrichment, subject: `user:${userId}`, at });
}

/**
 * An alert about a workload, raised by the by-workload stage: it names the host of the event
 * that raised it, enriched as that event was; its id hashes the related events and the VM.
 */
export function workloadAlertEvent(trigger: CanonicalEvent, vmId: string, spec: AlertSpec): EventOf<'alert'> {
  return alertOf(trigger, spec, { host: trigger.host, enrichment: trigger.enrichment, subject: `vm:${vmId}`, at: trigger.time });
}

function alertOf(
  trigger: CanonicalEvent,
  spec: AlertSpec,
  about: { host: CanonicalEvent['host']; enrichment: CanonicalEvent['enrichment']; subject: string; at: number },
): EventOf<'alert'> {
  const related = [...new Set(spec.relatedEventIds)].slice(-RELATED_MAX);
  const details: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.details)) if (value !== undefined) details[key] = clampText(value, DETAIL_MAX);
  return defined({
    id: stableEventId(about.at, `${spec.rule}|${[...related].sort().join(',')}|${about.subject}`),
    type: 'alert' as const,
    time: about.at,
    ingestTime: trigger.ingestTime,
    source: { ...ALERT_SOURCE },
    host: about.host,
    severity: spec.severity,
    tenant: trigger.tenant,
    payload: { rule: spec.rule, title: clampText(spec.title), relatedEventIds: related, details },
    enrichment: about.enrichment,
  });
}

/**
 * The entries of a burst not alerted on yet: those after the last alert (all when none was
 * raised). A rule raises again only once `threshold` new entries gather inside its window, so a
 * burst that goes on raises one alert per `threshold` entries, not one per entry.
 */
export function unalerted<T>(entries: readonly T[], timeOf: (entry: T) => number, alertedAt: number | undefined): T[] {
  return alertedAt === undefined ? [...entries] : entries.filter((entry) => timeOf(entry) > alertedAt);
}

// ---- a. trust.sensitive-workload-on-untrusted-host ----------------------------------------

/** A workload as the by-workload stage judges it: its identity and its labels where it ran. */
export interface JudgedWorkload {
  id: string;
  name?: string | undefined;
  labels: readonly string[];
  /** The event id of the decision that put it on the host. */
  placedBy: string;
}

/**
 * A sensitive workload that ran on a host at the moment the host became untrusted: one alert per
 * workload (the by-workload stage holds each VM's placement in the partition of its id, so a host's
 * workloads are judged where they live, each exactly once).
 */
export function sensitiveWorkloadAlert(event: EventOf<'trust.change'>, workload: JudgedWorkload, previous: string | undefined): AlertSpec | undefined {
  if (event.payload.status !== 'untrusted' || previous === 'untrusted' || !workload.labels.includes(SENSITIVE_LABEL)) return undefined;
  const faults = event.payload.flavors.flatMap((flavor) => flavor.faults.map((fault) => ({ ...fault, flavor: flavor.kind })));
  const name = workload.name ?? workload.id;
  return {
    rule: 'trust.sensitive-workload-on-untrusted-host',
    title: `Sensitive workload ${name} runs on host ${event.host.id}, which became untrusted`,
    severity: ALERT_SEVERITY['trust.sensitive-workload-on-untrusted-host'],
    relatedEventIds: [event.id, workload.placedBy],
    details: {
      workloads: workload.id,
      workloadNames: name,
      labels: workload.labels.join(','),
      previousStatus: previous,
      trustStatus: event.payload.status,
      attestationService: event.payload.attestationService,
      faultCount: String(faults.length),
      failedFlavors: [...new Set(faults.map((fault) => fault.flavor))].join(','),
      faults: faults.map(describeFault).join(', '),
    },
  };
}

function describeFault(fault: HostState['trust']['faults'][number]): string {
  return `${fault.flavor} ${fault.name}${fault.pcrIndex === undefined ? '' : ` (PCR ${fault.pcrIndex})`}`;
}

/**
 * A sensitive workload that carries a trusted pool's requirement was placed or moved onto a host
 * outside the pools it may run in (`allowed`: the configured trusted pools, or the pool it ran in).
 */
export function outsideTrustedPoolAlert(event: EventOf<'policy.decision'>, workload: JudgedWorkload, from: { pool?: string | undefined; hostId?: string | undefined }, allowed: readonly string[]): AlertSpec {
  const { action, decisionId, policy } = event.payload;
  const vm = workload.name ?? workload.id;
  const pool = event.host.pool;
  return {
    rule: 'placement.outside-trusted-pool',
    title: `${action} of sensitive workload ${vm} onto host ${event.host.id} ${pool === undefined ? 'in no pool' : `in pool ${pool}`}, outside ${allowed.length > 1 ? 'its trusted pools' : `its trusted pool ${allowed[0]}`}`,
    severity: ALERT_SEVERITY['placement.outside-trusted-pool'],
    relatedEventIds: [event.id],
    details: {
      workload: workload.id,
      workloadName: vm,
      action,
      decisionId,
      policy,
      pool,
      allowedPools: allowed.join(','),
      previousPool: from.pool,
      previousHost: from.hostId,
      trustRequirement: event.payload.trustRequirement,
    },
  };
}

// ---- b. placement.onto-untrusted-host, placement.asset-tag-mismatch ------------------------

interface Workload {
  id: string;
  name?: string | undefined;
  labels: readonly string[];
  requiredTags: Readonly<Record<string, string>>;
}

/**
 * What is wrong with a permitted placement or migration of `workload` onto `host`. A placement
 * does not change the host's trust or tags, so the state after it is the state before.
 */
export function placementAlerts(event: EventOf<'policy.decision'>, host: HostState, workload: Workload): AlertSpec[] {
  const { action, decisionId, policy } = event.payload;
  const vm = workload.name ?? workload.id;
  const about = { workload: workload.id, workloadName: vm, action, decisionId, policy };
  const alerts: AlertSpec[] = [];

  const status = host.trust.status;
  if (status !== 'trusted') {
    alerts.push({
      rule: 'placement.onto-untrusted-host',
      title: `${action} of ${vm} permitted onto ${status} host ${host.hostId}`,
      severity: status === 'untrusted' ? ALERT_SEVERITY['placement.onto-untrusted-host'] : UNKNOWN_TRUST_PLACEMENT_SEVERITY,
      relatedEventIds: [event.id],
      details: { ...about, trustStatus: status, labels: workload.labels.join(','), trustRequirement: event.payload.trustRequirement },
    });
  }

  const differing = Object.keys(workload.requiredTags)
    .filter((tag) => host.assetTags[tag] !== workload.requiredTags[tag])
    .sort();
  if (differing.length > 0) {
    const details: AlertSpec['details'] = { ...about, tags: differing.join(',') };
    // A tag the host lacks has no `actual.` entry.
    for (const tag of differing) {
      details[`expected.${tag}`] = workload.requiredTags[tag]!;
      details[`actual.${tag}`] = host.assetTags[tag];
    }
    alerts.push({
      rule: 'placement.asset-tag-mismatch',
      title: `${vm} placed on host ${host.hostId}, whose asset tags do not match its required tags (${differing.join(', ')})`,
      severity: ALERT_SEVERITY['placement.asset-tag-mismatch'],
      relatedEventIds: [event.id],
      details,
    });
  }
  return alerts;
}

// ---- c. admin.success-on-untrusted-host ----------------------------------------------------

/** A successful admin action on an untrusted host (for a VM target, the host it runs on). */
export function adminOnUntrustedAlert(event: EventOf<'admin.action'>, host: HostState): AlertSpec | undefined {
  if (host.trust.status !== 'untrusted') return undefined;
  const { user, operation, target, requestId } = event.payload;
  return {
    rule: 'admin.success-on-untrusted-host',
    title: `${user.name ?? user.id} did ${operation} on ${target.type} ${target.name ?? target.id} on untrusted host ${host.hostId}`,
    severity: ALERT_SEVERITY['admin.success-on-untrusted-host'],
    relatedEventIds: [event.id],
    details: {
      user: user.id,
      userName: user.name,
      operation,
      targetType: target.type,
      target: target.id,
      trustStatus: host.trust.status,
      faultCount: String(host.trust.faults.length),
      requestId,
    },
  };
}

// ---- d. admin.repeated-denials -------------------------------------------------------------

/** One user's denied or failed attempts that reached the threshold inside the window. */
export function repeatedDenialsAlert(
  event: EventOf<'admin.action'>,
  attempts: readonly { time: number; eventId: string }[],
  rule: ProcessorRules['deniedAttempts'],
): AlertSpec {
  const { user } = event.payload;
  return {
    rule: 'admin.repeated-denials',
    title: `${user.name ?? user.id} had ${attempts.length} denied or failed admin attempts within ${duration(rule.windowMs)}`,
    severity: ALERT_SEVERITY['admin.repeated-denials'],
    relatedEventIds: attempts.map((attempt) => attempt.eventId),
    details: {
      user: user.id,
      userName: user.name,
      attempts: String(attempts.length),
      threshold: String(rule.threshold),
      windowMs: String(rule.windowMs),
      firstAttemptAt: new Date(Math.min(...attempts.map((attempt) => attempt.time))).toISOString(),
    },
  };
}

/** One user denied or failed on `distinctHosts` hosts within the window: trying door after door. */
export function denialSprayingAlert(
  event: EventOf<'admin.action'>,
  attempts: readonly { time: number; eventId: string; hostId?: string | undefined }[],
  rule: ProcessorRules['spraying'],
): AlertSpec {
  const { user } = event.payload;
  const hosts = [...new Set(attempts.map((attempt) => attempt.hostId).filter((id): id is string => id !== undefined))].sort();
  return {
    rule: 'admin.denial-spraying',
    title: `${user.name ?? user.id} was denied on ${hosts.length} hosts within ${duration(rule.windowMs)}`,
    severity: ALERT_SEVERITY['admin.denial-spraying'],
    relatedEventIds: attempts.map((attempt) => attempt.eventId),
    details: {
      user: user.id,
      userName: user.name,
      hosts: hosts.join(', '),
      distinctHosts: String(hosts.length),
      threshold: String(rule.distinctHosts),
      windowMs: String(rule.windowMs),
    },
  };
}

// ---- e. trust.flapping ---------------------------------------------------------------------

/** A host that went back and forth between trusted and untrusted too often inside the window. */
export function flappingAlert(
  event: EventOf<'trust.change'>,
  host: HostState,
  changes: readonly number[],
  rule: ProcessorRules['flapping'],
): AlertSpec {
  return {
    rule: 'trust.flapping',
    title: `Host ${host.hostId} changed between trusted and untrusted ${changes.length} times within ${duration(rule.windowMs)}`,
    severity: ALERT_SEVERITY['trust.flapping'],
    relatedEventIds: [event.id],
    details: {
      changes: String(changes.length),
      threshold: String(rule.threshold),
      windowMs: String(rule.windowMs),
      changedAt: changes.map((time) => new Date(time).toISOString()).join(','),
      trustStatus: host.trust.status,
    },
  };
}

function duration(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}

// ---- f. compliance ------------------------------------------------------------------------

/** A host's score fell below the template's threshold: raised on the way down, not on every snapshot. */
export function belowThresholdAlert(snapshot: EventOf<'config.snapshot'>, host: HostState, assessment: AssessmentPayload, assessmentId: string, threshold: number): AlertSpec {
  const percent = assessment.maxScore > 0 ? (100 * assessment.score) / assessment.maxScore : 0;
  return {
    rule: 'compliance.below-threshold',
    title: `Host ${host.hostId} scores ${percent.toFixed(1)} % against ${assessment.templateId}, below its threshold of ${threshold} %`,
    severity: ALERT_SEVERITY['compliance.below-threshold'],
    relatedEventIds: [snapshot.id, assessmentId],
    details: {
      templateId: assessment.templateId,
      score: String(assessment.score),
      maxScore: String(assessment.maxScore),
      thresholdPercent: String(threshold),
      failing: assessment.results.filter((r) => r.result === 'fail' || r.result === 'error').map((r) => r.ruleId).join(','),
      trustGated: String(assessment.trustGate.applied),
    },
  };
}

/** High-severity rules that passed at the previous assessment fail now. */
export function highSeverityRegressionAlert(snapshot: EventOf<'config.snapshot'>, host: HostState, assessment: AssessmentPayload, assessmentId: string, rules: string[]): AlertSpec {
  return {
    rule: 'compliance.high-severity-regression',
    title: `High-severity hardening rule${rules.length > 1 ? 's' : ''} ${rules.join(', ')} newly failing on host ${host.hostId}`,
    severity: ALERT_SEVERITY['compliance.high-severity-regression'],
    relatedEventIds: [snapshot.id, assessmentId],
    details: {
      templateId: assessment.templateId,
      rules: rules.join(','),
      evidence: assessment.results
        .filter((r) => rules.includes(r.ruleId))
        .map((r) => `${r.ruleId}: expected ${r.expected ?? '?'}, actual ${r.actual ?? '?'}`)
        .join('; '),
      previousScore: assessment.drift?.previousScore === undefined ? undefined : String(assessment.drift.previousScore),
      score: String(assessment.score),
    },
  };
}
