import { applicableTemplates } from '../compliance/applicability.js';
import { assess, type ComplianceSettings } from '../compliance/score.js';
import { stableEventId } from '../model/stable-id.js';
import type { CanonicalEvent, EventOf } from '../model/events.js';
import {
  adminOnUntrustedAlert,
  alertEvent,
  belowThresholdAlert,
  highSeverityRegressionAlert,
  flappingAlert,
  placementAlerts,
  unalerted,
  type AlertSpec,
} from './alerts.js';
import { enrichmentOf, geolocationOf, newHostState, type HostRef } from './enrichment.js';
import { SEEN_IDS_PER_HOST, type HostState, type ProcessorRules } from './state.js';
import { PLACING_ACTIONS } from './workloads.js';

/** The state of one input partition, as the worker holds it in memory. */
export interface PartitionState {
  hosts: Map<string, HostState>;
  /** Per host, the ids of its last events (SEEN_IDS_PER_HOST), to drop a resent one. */
  seen: Map<string, string[]>;
  /** `seen` as sets, for the lookup; derived from `seen` on first use after a restore. */
  seenSets?: Map<string, { list: string[]; set: Set<string> }>;
}

/**
 * Notes an event id among its host's last SEEN_IDS_PER_HOST; false when it is there already (a
 * resend). A set beside each list answers the lookup: scanning 128 ids that share their first
 * 24 characters cost more than all the rest of an event's processing.
 */
function noteSeen(state: PartitionState, hostId: string, eventId: string): boolean {
  const seen = state.seen.get(hostId) ?? [];
  state.seenSets ??= new Map();
  let entry = state.seenSets.get(hostId);
  // Built again whenever the list is not the one it was built from (a restored state).
  if (entry === undefined || entry.list !== seen) {
    entry = { list: seen, set: new Set(seen) };
    state.seenSets.set(hostId, entry);
  }
  const { set } = entry;
  if (set.has(eventId)) return false;
  seen.push(eventId);
  set.add(eventId);
  while (seen.length > SEEN_IDS_PER_HOST) set.delete(seen.shift()!);
  state.seen.set(hostId, seen);
  return true;
}

/** An empty partition state. */
export function emptyPartitionState(): PartitionState {
  return { hosts: new Map(), seen: new Map() };
}

/** Where a VM runs, from the by-workload stage's state as the fleet-wide view follows it; may trail it slightly. */
export type LocateWorkload = (workloadId: string) => HostState | undefined;

export interface ProcessResult {
  /** The input event enriched, first; then derived alert events (type 'alert'), in a stable order. */
  outputs: CanonicalEvent[];
  /** Host ids whose state changed (the seen ids of `event.host.id` change with every event that is not a duplicate). */
  changed: string[];
  /**
   * What the by-workload stage must hear of (src/processor/workloads.ts): a permitted
   * placement of a VM, or the host turning untrusted (with its status before).
   */
  forward?: { kind: 'placement' } | { kind: 'untrusted'; previous: HostState['trust']['status'] };
  /** True when the event's id was among its host's last ones: a resend, dropped with no output. */
  duplicate?: boolean;
}


export type { ComplianceSettings };

export const COMPLIANCE_SOURCE = { system: 'trustwire', vendor: 'trustwire', product: 'trustwire-compliance' } as const;

/** The moves the placement rules judge; a power-on starts a VM where it was placed before. */
const PLACEMENT_ACTIONS: ReadonlySet<string> = new Set(['vm.place', 'vm.migrate']);
const VM_TYPES: ReadonlySet<string> = new Set(['vm', 'virtual-machine']);

interface Context {
  event: CanonicalEvent;
  state: PartitionState;
  rules: ProcessorRules;
  locate: LocateWorkload | undefined;
  compliance: ComplianceSettings | undefined;
  changed: Set<string>;
  /** Events derived from this one (compliance assessments), emitted between it and its alerts. */
  derived: CanonicalEvent[];
  /** In the order a–e of the rules; each handler only raises the rules of its kind. */
  alerts: AlertSpec[];
  forward?: ProcessResult['forward'];
}

/**
 * Applies one event to its partition's state (mutating it) and returns the event enriched with
 * the state of the host it concerns, then the alerts it raised. Pure apart from `state`: time is
 * the event's, and the same events from the same state give the same outputs, ids included.
 */
export function processEvent(
  event: CanonicalEvent,
  state: PartitionState,
  rules: ProcessorRules,
  locate?: LocateWorkload,
  compliance?: ComplianceSettings,
): ProcessResult {
  if (!noteSeen(state, event.host.id, event.id)) return { outputs: [], changed: [], duplicate: true };
  const context: Context = { event, state, rules, locate, compliance, changed: new Set(), alerts: [], derived: [] };
  const host = applyEvent(event, context);
  const enrichment = enrichmentOf(host);
  return {
    outputs: [
      { ...event, enrichment },
      ...context.derived.map((derived) => ({ ...derived, enrichment })),
      ...context.alerts.map((spec) => alertEvent(event, host, spec)),
    ],
    changed: [...context.changed],
    ...(context.forward !== undefined && { forward: context.forward }),
  };
}

/** Updates state and raises alerts; returns the state of the host the event concerns. */
function applyEvent(event: CanonicalEvent, context: Context): HostState {
  switch (event.type) {
    case 'trust.change':
      return applyTrustChange(event, context);
    case 'policy.decision':
      return applyDecision(event, context);
    case 'admin.action':
      return applyAdminAction(event, context);
    case 'config.snapshot': {
      const host = touchHost(event.host, context);
      if (context.compliance !== undefined) scoreSnapshot(event, host, context.compliance, context);
      return host;
    }
    case 'compliance.assessment': {
      const host = touchHost(event.host, context);
      const { templateId, score, maxScore, compliant } = event.payload;
      host.compliance = { templateId, score, maxScore, compliant, assessedAt: event.time };
      return host;
    }
    case 'alert':
      // Enriched only: alerts are never derived from alerts.
      return viewHost(event.host, context);
  }
}

function applyTrustChange(event: EventOf<'trust.change'>, context: Context): HostState {
  const report = event.payload;
  const host = touchHost(event.host, context);
  const trust = host.trust;
  // The state, not the report's previousStatus, says what the status was: it is what
  // trustwire has told the SIEM so far.
  const previous = trust.status;
  if (report.status !== previous) {
    trust.status = report.status;
    trust.since = event.time;
  }
  trust.attestationService = report.attestationService;
  trust.faults = report.flavors.flatMap((flavor) => flavor.faults.map((fault) => ({ ...fault, flavor: flavor.kind })));
  if (Object.keys(report.assetTags).length > 0) {
    host.assetTags = report.assetTags;
    const geolocation = geolocationOf(report.assetTags);
    if (geolocation === undefined) delete host.geolocation;
    else host.geolocation = geolocation;
  }

  const { flapping } = context.rules;
  trust.recentChanges = trust.recentChanges.filter((time) => inWindow(time, event.time, flapping.windowMs));
  const flipped = (previous === 'trusted' && report.status === 'untrusted') || (previous === 'untrusted' && report.status === 'trusted');
  if (flipped) trust.recentChanges.push(event.time);

  // Which workloads ran on the host is the by-workload stage's to say, exactly (src/processor/workloads.ts).
  if (report.status === 'untrusted' && previous !== 'untrusted') context.forward = { kind: 'untrusted', previous };
  if (flipped) {
    const changes = unalerted(trust.recentChanges, (time) => time, trust.flappingAlertedAt);
    if (changes.length >= flapping.threshold) {
      trust.flappingAlertedAt = event.time;
      raise(context, flappingAlert(event, host, changes, flapping));
    }
  }
  return host;
}

function applyDecision(event: EventOf<'policy.decision'>, context: Context): HostState {
  const decision = event.payload;
  const { resource } = decision;
  if (!PLACING_ACTIONS.has(decision.action)) {
    return isVm(resource.type) ? vmHost(resource.id, context) : viewHost(event.host, context);
  }
  // The contract holds a decision to its target host (host.id = targetHost.id), so that host's
  // state lives in this partition and nowhere else.
  const target: HostRef = event.host;
  if (decision.decision === 'deny') return viewHost(target, context);
  const host = touchHost(target, context);
  // Where the VM runs now, and that it left its source, is kept by VM id in the by-workload stage.
  context.forward = { kind: 'placement' };
  if (PLACEMENT_ACTIONS.has(decision.action)) raise(context, ...placementAlerts(event, host, resource));
  return host;
}

function applyAdminAction(event: EventOf<'admin.action'>, context: Context): HostState {
  const { target, outcome } = event.payload;
  const host = isVm(target.type) ? vmHost(target.id, context) : viewHost(event.host, context);
  // Denied and failed attempts are counted per user, fleet-wide, by the by-user stage (src/processor/users.ts).
  if (outcome === 'success') raise(context, adminOnUntrustedAlert(event, host));
  return host;
}

// ---- hosts ---------------------------------------------------------------------------------

/** The host's state for an event that changes it, created when new; identity from `ref`. */
function touchHost(ref: HostRef, context: Context): HostState {
  let host = context.state.hosts.get(ref.id);
  if (host === undefined) {
    host = newHostState(ref, context.event);
    context.state.hosts.set(ref.id, host);
  } else {
    if (ref.name !== undefined) host.name = ref.name;
    if (ref.ip !== undefined) host.ip = ref.ip;
    if (ref.pool !== undefined) host.pool = ref.pool;
  }
  markChanged(host, context);
  return host;
}

function markChanged(host: HostState, context: Context): void {
  host.lastEventId = context.event.id;
  host.updatedAt = context.event.time;
  context.changed.add(host.hostId);
}

/** The host's state for an event that does not change it; a host never seen is `unknown`, and stays unstored. */
function viewHost(ref: HostRef, context: Context): HostState {
  return context.state.hosts.get(ref.id) ?? newHostState(ref, context.event);
}

/** The host a VM runs on: this partition's state of it when it is here, else the fleet's; else the event's host. */
function vmHost(vmId: string, context: Context): HostState {
  const located = context.locate?.(vmId);
  if (located === undefined) return viewHost(context.event.host, context);
  return context.state.hosts.get(located.hostId) ?? located;
}

function isVm(type: string): boolean {
  return VM_TYPES.has(type.toLowerCase());
}

/** Whether `time` lies in the window of `windowMs` that ends at `now`. */
function inWindow(time: number, now: number, windowMs: number): boolean {
  return now - time < windowMs;
}

/**
 * Scores a snapshot against every template that applies to its platform: one assessment event
 * each (id derived from the snapshot and template, so a replay yields the same one), the host's
 * compliance and last results updated, and alerts when the score falls below the template's
 * threshold or a high-severity rule newly fails.
 */
function scoreSnapshot(event: EventOf<'config.snapshot'>, host: HostState, settings: ComplianceSettings, context: Context): void {
  for (const template of applicableTemplates(event, settings.templates)) {
    const previous = host.assessments[template.id];
    const payload = assess(event, template, {
      ...(settings.model !== undefined && { model: settings.model }),
      waivers: settings.waivers,
      trustStatus: host.trust.status,
      ...(previous !== undefined && { previous }),
      now: event.time,
    });
    const id = stableEventId(event.time, `compliance.assessment|${event.id}|${template.id}`);
    context.derived.push({
      id,
      type: 'compliance.assessment',
      time: event.time,
      ingestTime: event.ingestTime,
      source: { ...COMPLIANCE_SOURCE },
      host: event.host,
      severity: payload.compliant ? 1 : payload.trustGate.applied ? 7 : 5,
      ...(event.tenant !== undefined && { tenant: event.tenant }),
      payload,
    });
    host.assessments = {
      ...host.assessments,
      [template.id]: {
        templateId: template.id,
        scoringModel: payload.scoringModel,
        score: payload.score,
        compliant: payload.compliant,
        assessedAt: event.time,
        results: payload.results.map(({ ruleId, result }) => ({ ruleId, result })),
      },
    };
    host.compliance = { templateId: template.id, score: payload.score, maxScore: payload.maxScore, compliant: payload.compliant, assessedAt: event.time };

    if (!payload.compliant && (previous === undefined || previous.compliant)) {
      raise(context, belowThresholdAlert(event, host, payload, id, template.threshold));
    }
    const regressed = previous === undefined ? [] : (payload.drift?.newlyFailing ?? []).filter((ruleId) => payload.results.find((r) => r.ruleId === ruleId)?.severity === 'high');
    if (regressed.length > 0) raise(context, highSeverityRegressionAlert(event, host, payload, id, regressed));
  }
}

function raise(context: Context, ...alerts: (AlertSpec | undefined)[]): void {
  for (const alert of alerts) if (alert !== undefined) context.alerts.push(alert);
}
