/**
 * The field catalogue: every part of a canonical event the SIEM formats send, each once, with
 * where it comes from, a note for the docs and its value. CEF, LEEF and ePO XML only say which
 * key carries which field (`mapping.ts`), so a field reads the same in every format and
 * docs/formats.md, rendered from the same rows, cannot drift from the code.
 *
 * `FIELDS` apply to every kind, `KIND_FIELDS` to one kind each; a field id names one or the
 * other. A time is a field twice, as epoch milliseconds (CEF's timestamps) and as RFC 3339.
 */
import type { CanonicalEvent, EventOf, EventType } from '../model/events.js';
import {
  eventName,
  eventResult,
  eventSignature,
  eventSummary,
  failedFlavors,
  failedRules,
  faultDetails,
  faultReasons,
  geolocationText,
  hostLabel,
  ipv4,
  ipv6,
  listText,
  platformText,
  resourceText,
  runningServices,
  sourceText,
  successOrFailure,
  tagsText,
  targetText,
} from './describe.js';
import { syslogSeverity } from './syslog.js';
import { isoTime } from './time.js';

export type FieldValue = string | number | boolean | undefined;

export interface Field<E extends CanonicalEvent = CanonicalEvent> {
  /** Where the value comes from: a field path of the contract, or a derived value in parentheses. */
  from: string;
  /** When the field applies or how the value is shaped, for the docs. */
  note?: string;
  /** The value; undefined (or an empty string) leaves the key out. */
  value(event: E): FieldValue;
}

type Fields<K extends EventType = EventType> = Readonly<Record<string, Field<EventOf<K>>>>;

function rfc3339(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : isoTime(ms);
}

function sourceIp(event: CanonicalEvent): string | undefined {
  return event.type === 'admin.action' ? event.payload.sourceIp : undefined;
}

function actingUser(event: CanonicalEvent): string | undefined {
  if (event.type === 'admin.action') return event.payload.user.name ?? event.payload.user.id;
  if (event.type === 'policy.decision') return event.payload.subjectUser;
  return undefined;
}

/** The fields of every kind: the envelope, the host's enrichment, and ePO's columns that only some kinds fill. */
export const FIELDS = {
  id: { from: 'id', note: 'stable through the pipeline: de-duplicate on it', value: (e) => e.id },
  time: { from: 'time', note: 'epoch milliseconds', value: (e) => e.time },
  timeRfc3339: { from: 'time', note: 'RFC 3339, UTC', value: (e) => isoTime(e.time) },
  type: { from: 'type', value: (e) => e.type },
  result: { from: '(result)', note: 'the second half of the signature: `untrusted`, `deny`, `denied`, the alert rule, ...', value: eventResult },
  signature: { from: '(signature)', note: '`<type>:<result>`, as CEF\'s Device Event Class ID', value: eventSignature },
  name: { from: '(name)', note: 'the sentence of the signature, as CEF\'s Name', value: eventName },
  summary: { from: '(summary)', note: 'a sentence with the particulars', value: eventSummary },
  syslogSeverity: { from: 'severity', note: 'syslog scale, as syslog.ts maps it', value: (e) => syslogSeverity(e.severity) },
  tenant: { from: 'tenant', value: (e) => e.tenant },

  source: { from: 'source', note: '`vendor product version (system)` of the reporting system', value: sourceText },
  sourceProduct: { from: 'source.vendor', note: 'and source.product', value: (e) => `${e.source.vendor} ${e.source.product}` },
  sourceVersion: { from: 'source.version', value: (e) => e.source.version },
  sourceSystem: { from: 'source.system', note: '`attestation`, `policy-proxy`, ...', value: (e) => e.source.system },

  hostName: { from: 'host.name', note: 'else host.id', value: hostLabel },
  hostId: { from: 'host.id', value: (e) => e.host.id },
  hostIp: { from: 'host.ip', value: (e) => e.host.ip },
  hostIpv4: { from: 'host.ip', note: 'when IPv4', value: (e) => ipv4(e.host.ip) },
  hostIpv6: { from: 'host.ip', note: 'when IPv6', value: (e) => ipv6(e.host.ip) },
  hostPool: { from: 'host.pool', value: (e) => e.host.pool },

  snapshotPlatform: { from: 'payload.platform', note: 'config.snapshot only, with payload.platformVersion', value: (e) => (e.type === 'config.snapshot' ? platformText(e) : undefined) },
  actingUser: { from: 'payload.user / payload.subjectUser', note: 'admin.action, policy.decision', value: actingUser },
  actionTaken: { from: 'payload.decision / payload.outcome', note: 'policy.decision, admin.action', value: (e) => (e.type === 'policy.decision' || e.type === 'admin.action' ? eventResult(e) : undefined) },
  sourceIpv4: { from: 'payload.sourceIp', note: 'admin.action, when IPv4', value: (e) => ipv4(sourceIp(e)) },
  sourceIpv6: { from: 'payload.sourceIp', note: 'admin.action, when IPv6', value: (e) => ipv6(sourceIp(e)) },
  migrationSource: { from: 'payload.sourceHost', note: 'policy.decision: where a migration starts', value: (e) => (e.type === 'policy.decision' ? (e.payload.sourceHost?.name ?? e.payload.sourceHost?.id) : undefined) },

  hostTrustStatus: { from: 'enrichment.trust.status', value: (e) => e.enrichment?.trust.status },
  hostTrustSince: { from: 'enrichment.trust.since', note: 'epoch milliseconds', value: (e) => e.enrichment?.trust.since },
  hostTrustSinceRfc3339: { from: 'enrichment.trust.since', note: 'RFC 3339, UTC', value: (e) => rfc3339(e.enrichment?.trust.since) },
  hostFaultCount: { from: 'enrichment.trust.faultCount', value: (e) => e.enrichment?.trust.faultCount },
  hostComplianceScore: { from: 'enrichment.compliance.score', value: (e) => e.enrichment?.compliance?.score },
  hostComplianceMaxScore: { from: 'enrichment.compliance.maxScore', value: (e) => e.enrichment?.compliance?.maxScore },
  hostCompliant: { from: 'enrichment.compliance.compliant', note: '`true` / `false`', value: (e) => e.enrichment?.compliance?.compliant },
  hostComplianceTemplate: { from: 'enrichment.compliance.templateId', value: (e) => e.enrichment?.compliance?.templateId },
  hostAssetTags: { from: 'enrichment.assetTags', note: '`key=value, ...`', value: (e) => tagsText(e.enrichment?.assetTags) },
  hostGeolocation: { from: 'enrichment.geolocation', note: '`country=.., region=.., site=..`', value: geolocationText },
} satisfies Fields;

/** The fields of each kind's payload. */
export const KIND_FIELDS = {
  'trust.change': {
    status: { from: 'payload.status', value: (e) => e.payload.status },
    previousStatus: { from: 'payload.previousStatus', value: (e) => e.payload.previousStatus },
    faultReasons: { from: '(fault reasons)', note: 'each fault\'s description, else flavor and fault name', value: faultReasons },
    faultDetails: { from: 'payload.flavors[].faults[]', note: '`FLAVOR: name (PCR n bank, expected .., actual ..); ...`', value: faultDetails },
    failedFlavors: { from: 'payload.flavors[].kind', note: 'the flavors that did not verify', value: failedFlavors },
    attestationService: { from: 'payload.attestationService', value: (e) => e.payload.attestationService },
    reportId: { from: 'payload.reportId', value: (e) => e.payload.reportId },
  } satisfies Fields<'trust.change'>,
  'policy.decision': {
    action: { from: 'payload.action', value: (e) => e.payload.action },
    decision: { from: 'payload.decision', note: '`permit` / `deny`', value: (e) => e.payload.decision },
    successOrFailure: { from: 'payload.decision', note: 'permit → `success`, deny → `failure`', value: (e) => successOrFailure(e.payload.decision === 'permit') },
    subjectUser: { from: 'payload.subjectUser', value: (e) => e.payload.subjectUser },
    reasons: { from: 'payload.reasons', note: 'joined by `; `', value: (e) => (e.payload.reasons.length === 0 ? undefined : e.payload.reasons.join('; ')) },
    sourceHost: { from: 'payload.sourceHost', note: 'name, else id: where a migration starts', value: (e) => e.payload.sourceHost?.name ?? e.payload.sourceHost?.id },
    policy: { from: 'payload.policy', value: (e) => e.payload.policy },
    matchedRules: { from: 'payload.matchedRules', value: (e) => listText(e.payload.matchedRules) },
    resource: { from: 'payload.resource', note: '`type id (name) [labels]`', value: resourceText },
    decisionId: { from: 'payload.decisionId', value: (e) => e.payload.decisionId },
    trustRequirement: { from: 'payload.trustRequirement', value: (e) => e.payload.trustRequirement },
    requiredTags: { from: 'payload.resource.requiredTags', note: '`key=value, ...`', value: (e) => tagsText(e.payload.resource.requiredTags) },
  } satisfies Fields<'policy.decision'>,
  'admin.action': {
    operation: { from: 'payload.operation', value: (e) => e.payload.operation },
    outcome: { from: 'payload.outcome', note: '`success` / `denied` / `failed`', value: (e) => e.payload.outcome },
    successOrFailure: { from: 'payload.outcome', note: 'success → `success`, denied and failed → `failure`', value: (e) => successOrFailure(e.payload.outcome === 'success') },
    userName: { from: 'payload.user.name', note: 'else payload.user.id', value: (e) => e.payload.user.name ?? e.payload.user.id },
    userId: { from: 'payload.user.id', value: (e) => e.payload.user.id },
    userRole: { from: 'payload.user.role', value: (e) => e.payload.user.role },
    sourceIp: { from: 'payload.sourceIp', note: 'IPv4 or IPv6', value: (e) => e.payload.sourceIp },
    error: { from: 'payload.error', value: (e) => e.payload.error },
    target: { from: 'payload.target', note: '`type id (name)`', value: targetText },
    sessionId: { from: 'payload.sessionId', value: (e) => e.payload.sessionId },
    requestId: { from: 'payload.requestId', note: 'the policy.decision\'s decisionId', value: (e) => e.payload.requestId },
  } satisfies Fields<'admin.action'>,
  'config.snapshot': {
    platform: { from: 'payload.platform', note: 'and payload.platformVersion', value: platformText },
    runningServices: { from: 'payload.services', note: 'names of the running ones', value: runningServices },
    collectedAt: { from: 'payload.collectedAt', note: 'epoch milliseconds', value: (e) => e.payload.collectedAt },
    collectedAtRfc3339: { from: 'payload.collectedAt', note: 'RFC 3339, UTC', value: (e) => rfc3339(e.payload.collectedAt) },
    settingCount: { from: 'payload.settings', note: 'how many (the values are not sent; the compliance.assessment scored from them is)', value: (e) => Object.keys(e.payload.settings).length },
  } satisfies Fields<'config.snapshot'>,
  'compliance.assessment': {
    compliant: { from: 'payload.compliant', note: '`true` / `false`', value: (e) => e.payload.compliant },
    successOrFailure: { from: 'payload.compliant', note: 'true → `success`, false → `failure`', value: (e) => successOrFailure(e.payload.compliant) },
    trustGate: { from: 'payload.trustGate', note: 'when applied: the host\'s trust status', value: (e) => (e.payload.trustGate.applied ? `applied: host ${e.payload.trustGate.trustStatus}` : undefined) },
    trustGateReason: { from: 'payload.trustGate', note: 'when applied', value: (e) => (e.payload.trustGate.applied ? `trust gate applied: host ${e.payload.trustGate.trustStatus}` : undefined) },
    template: { from: 'payload.templateId', note: 'and payload.templateVersion', value: (e) => `${e.payload.templateId} ${e.payload.templateVersion}` },
    scoringModel: { from: 'payload.scoringModel', value: (e) => e.payload.scoringModel },
    score: { from: 'payload.score', value: (e) => e.payload.score },
    maxScore: { from: 'payload.maxScore', value: (e) => e.payload.maxScore },
    scoreWithoutWaivers: { from: 'payload.scoreWithoutWaivers', value: (e) => e.payload.scoreWithoutWaivers },
    failedRules: { from: 'payload.results', note: 'ids of failed and erred rules, `(waived)` marked', value: failedRules },
    newlyFailingRules: { from: 'payload.drift.newlyFailing', value: (e) => listText(e.payload.drift?.newlyFailing) },
    failedRuleCount: { from: 'payload.counts.fail', value: (e) => e.payload.counts.fail },
    waivedRuleCount: { from: 'payload.counts.waived', value: (e) => e.payload.counts.waived },
    snapshotEventId: { from: 'payload.snapshotEventId', value: (e) => e.payload.snapshotEventId },
  } satisfies Fields<'compliance.assessment'>,
  alert: {
    rule: { from: 'payload.rule', value: (e) => e.payload.rule },
    relatedEventIds: { from: 'payload.relatedEventIds', value: (e) => listText(e.payload.relatedEventIds) },
    details: { from: 'payload.details', note: '`key=value, ...`', value: (e) => tagsText(e.payload.details) },
  } satisfies Fields<'alert'>,
} satisfies { readonly [K in EventType]: Fields<K> };

/** The id of a field an event of kind `K` has: one of every kind's, or one of its own. */
export type FieldId<K extends EventType = EventType> = (keyof typeof FIELDS | keyof (typeof KIND_FIELDS)[K]) & string;

/** The field `id` of kind `type`; throws for an id the catalogue lacks (only a mistyped table can ask). */
export function fieldOf(type: EventType | undefined, id: string): Field {
  const own = type === undefined ? undefined : (KIND_FIELDS[type] as Fields)[id];
  const field = own ?? (FIELDS as Fields)[id];
  if (field === undefined) throw new Error(`the field catalogue has no field ${id}${type === undefined ? '' : ` for ${type}`}`);
  return field as Field;
}
