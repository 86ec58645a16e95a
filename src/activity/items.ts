/** What the dashboard's feeds are made of: enriched events, each cut to what a person reads. */
import type { EventOf } from '../model/events.js';
import type { TrustStatus } from '../model/primitives.js';

export type ActivityEvent = EventOf<'admin.action'> | EventOf<'policy.decision'>;
export type ActivityOutcome = EventOf<'admin.action'>['payload']['outcome'] | EventOf<'policy.decision'>['payload']['decision'];

/** One line of the administrator-activity feed: an admin action or a policy decision. */
export interface ActivityItem {
  id: string;
  time: number;
  type: ActivityEvent['type'];
  hostId: string;
  hostName?: string;
  pool?: string;
  /** The admin, or a decision's subject user (absent when the policy proxy names none). */
  user?: { id: string; name?: string };
  /** An admin action's operation, a decision's action. */
  operation: string;
  /** What it acted on: the target's name (or id), or the decision's resource. */
  target: string;
  outcome: ActivityOutcome;
  /** Denied, failed or deny: what an operator looks at first. */
  highlight: boolean;
  /** The action's error, or the decision's reasons. */
  detail?: string;
}

/** An alert as raised; whether it is still open depends on what happened since (`alertIsOpen`). */
export interface RaisedAlert {
  id: string;
  time: number;
  rule: string;
  title: string;
  severity: number;
  hostId: string;
  hostName?: string;
  pool?: string;
  details: Record<string, string>;
  relatedEventIds: string[];
}

export type AlertItem = RaisedAlert & { open: boolean };

export interface TrustFault {
  flavor: string;
  name: string;
  description?: string;
  pcr?: { index: number; bank?: string };
  expected?: string;
  actual?: string;
}

/** One attestation result of a host: its status before and after, and what did not match. */
export interface TrustItem {
  id: string;
  time: number;
  hostId: string;
  hostName?: string;
  pool?: string;
  previous: TrustStatus;
  current: TrustStatus;
  service: string;
  /** At most MAX_FAULTS_KEPT of them; `faultCount` says how many there were. */
  faults: TrustFault[];
  faultCount: number;
}

/** One assessment's score, without its rules (the compliance API has those). */
export interface ComplianceItem {
  id: string;
  time: number;
  hostId: string;
  hostName?: string;
  pool?: string;
  templateId: string;
  score: number;
  maxScore: number;
  compliant: boolean;
}

/**
 * Faults kept per trust item, and the length of a measurement kept: an attestation may list
 * 16 flavors × 256 faults of 4 KiB each, and a host keeps hundreds of items. A digest is at
 * most 128 hex digits, so evidence is never cut in practice.
 */
export const MAX_FAULTS_KEPT = 64;
const MAX_MEASUREMENT_LENGTH = 512;
/** A decision may give 64 reasons of 4 KiB; the feed shows a line. */
const MAX_DETAIL_LENGTH = 1024;

const clamp = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

function hostOf(event: { host: { id: string; name?: string | undefined; pool?: string | undefined } }) {
  const { id, name, pool } = event.host;
  return { hostId: id, ...(name !== undefined && { hostName: name }), ...(pool !== undefined && { pool }) };
}

export function activityItemOf(event: ActivityEvent): ActivityItem {
  const base = { id: event.id, time: event.time, type: event.type, ...hostOf(event) };
  if (event.type === 'admin.action') {
    const { user, operation, target, outcome, error } = event.payload;
    return {
      ...base,
      user: { id: user.id, ...(user.name !== undefined && { name: user.name }) },
      operation,
      target: target.name ?? target.id,
      outcome,
      highlight: outcome !== 'success',
      ...(error !== undefined && { detail: clamp(error, MAX_DETAIL_LENGTH) }),
    };
  }
  const { subjectUser, action, resource, decision, reasons } = event.payload;
  return {
    ...base,
    ...(subjectUser !== undefined && { user: { id: subjectUser } }),
    operation: action,
    target: resource.name ?? resource.id,
    outcome: decision,
    highlight: decision === 'deny',
    ...(reasons.length > 0 && { detail: clamp(reasons.join('; '), MAX_DETAIL_LENGTH) }),
  };
}

export function raisedAlertOf(event: EventOf<'alert'>): RaisedAlert {
  const { rule, title, details, relatedEventIds } = event.payload;
  return { id: event.id, time: event.time, rule, title, severity: event.severity, ...hostOf(event), details, relatedEventIds };
}

/**
 * `previous` is the caller's: the status the host had before, as trustwire saw it. A reporter's
 * `previousStatus` may be absent or disagree, and the processor goes by its own state too.
 */
export function trustItemOf(event: EventOf<'trust.change'>, previous: TrustStatus): TrustItem {
  const faults = event.payload.flavors.flatMap((flavor) => flavor.faults.map((fault) => ({ flavor: flavor.kind, fault })));
  return {
    id: event.id,
    time: event.time,
    ...hostOf(event),
    previous,
    current: event.payload.status,
    service: event.payload.attestationService,
    faults: faults.slice(0, MAX_FAULTS_KEPT).map(({ flavor, fault }) => ({
      flavor,
      name: fault.name,
      ...(fault.description !== undefined && { description: clamp(fault.description, MAX_DETAIL_LENGTH) }),
      ...(fault.pcrIndex !== undefined && { pcr: { index: fault.pcrIndex, ...(fault.pcrBank !== undefined && { bank: fault.pcrBank }) } }),
      ...(fault.expected !== undefined && { expected: clamp(fault.expected, MAX_MEASUREMENT_LENGTH) }),
      ...(fault.actual !== undefined && { actual: clamp(fault.actual, MAX_MEASUREMENT_LENGTH) }),
    })),
    faultCount: faults.length,
  };
}

export function complianceItemOf(event: EventOf<'compliance.assessment'>): ComplianceItem {
  const { templateId, score, maxScore, compliant } = event.payload;
  return { id: event.id, time: event.time, ...hostOf(event), templateId, score, maxScore, compliant };
}

/**
 * Rules raised because of a host's trust: they hold while the host is untrusted (or unknown),
 * and close when it attests trusted again. `trust.flapping` is not one: it is about a pattern
 * of changes, and it may be raised by the very change back to trusted.
 */
export const TRUST_BOUND_RULES: ReadonlySet<string> = new Set(['trust.sensitive-workload-on-untrusted-host', 'placement.onto-untrusted-host', 'admin.success-on-untrusted-host']);
/** How long any other alert stays open: nothing later says that what it saw is over. */
export const ALERT_OPEN_MS = 60 * 60_000;

/**
 * Whether an alert is still open. `trustedAgainAt` is the time of the host's latest trusted
 * attestation (undefined if none is known); `now` ends the hour of the other alerts.
 */
export function alertIsOpen(alert: RaisedAlert, trustedAgainAt: number | undefined, now: number): boolean {
  if (TRUST_BOUND_RULES.has(alert.rule)) return trustedAgainAt === undefined || trustedAgainAt <= alert.time;
  return now - alert.time < ALERT_OPEN_MS;
}
