/**
 * ePO-style event XML: the document McAfee/Trellix ePolicy Orchestrator forwards for each
 * threat event (as seen in ePO's own syslog forwarding, `EPOEvents - EventFwd`):
 *
 *   <?xml version="1.0" encoding="UTF-8"?>
 *   <EPOEvent>
 *     <MachineInfo>MachineName, IPAddress, OSName, UserName</MachineInfo>
 *     <SoftwareInfo ProductName="trustwire" ProductVersion=".." ProductFamily="Security">
 *       <CommonFields>Analyzer, AnalyzerName, AnalyzerVersion, AnalyzerDetectionMethod</CommonFields>
 *       <Event>
 *         <EventID/><Severity/><GMTTime>YYYY-MM-DDTHH:MM:SS</GMTTime>
 *         <CommonFields>ThreatCategory, ThreatEventID, ThreatSeverity, ThreatName, ...</CommonFields>
 *         <CustomFields target="TrustwireEventMT">trust status, PCR faults, user, operation, outcome, score ...</CustomFields>
 *       </Event>
 *     </SoftwareInfo>
 *   </EPOEvent>
 *
 * MachineInfo is the host the event concerns (ePO's "machine that raised the event"); there is
 * no ePO agent, so no AgentGUID. The analyzer is the system that reported the event. EventID
 * is trustwire's own number per signature (`EPO_EVENT_IDS`, not registered with Trellix).
 * Severity is ePO's 0-4 (informational, warning, minor, major, critical); ThreatSeverity uses
 * the syslog scale ePO's events carry (0 most severe), mapped like syslog.ts.
 *
 * Text and attribute values escape `& < > " '`; CR, LF, NEL (U+0085), U+2028 and U+2029 (and
 * in attributes tab) become character references, so a parser keeps them and a document never
 * holds a raw line break: a hostile value cannot split it for a carrier that sends one document
 * a line (ePO's syslog forwarding); characters XML 1.0 forbids (C0 controls other than tab, LF,
 * CR; lone surrogates; U+FFFE, U+FFFF) are removed. Values are capped (see `EPO_LENGTHS`) at a
 * character boundary before escaping.
 *
 * A batch is an array of documents, one per event: that is what ePO forwards (one event per
 * syslog message) and what parsers of ePO events expect, a single `EPOEvent` root.
 */
import type { CanonicalEvent, EventOf } from '../model/events.js';
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
  tagsText,
  targetText,
  TRUSTWIRE_DEVICE,
  type DeviceIdentity,
} from './describe.js';
import { assertUniqueKeys, type FieldMapping, type KindMappings } from './mapping.js';
import { syslogSeverity } from './syslog.js';
import { truncateChars } from './text.js';

// ---- XML text -----------------------------------------------------------------------------

// With the `u` flag a surrogate pair is one code point, so [\uD800-\uDFFF] only meets lone ones.
const TEXT_SPECIALS = /[&<>"'\n\r\x00-\x08\x0b\x0c\x0e-\x1f\x85\u2028\u2029\ud800-\udfff\ufffe\uffff]/gu;
const ATTRIBUTE_SPECIALS = /[&<>"'\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\x85\u2028\u2029\ud800-\udfff\ufffe\uffff]/gu;

const REFERENCES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
  '\x85': '&#133;',
  '\u2028': '&#8232;',
  '\u2029': '&#8233;',
};

function reference(char: string): string {
  return REFERENCES[char] ?? ''; // a character XML 1.0 forbids: removed
}

/** Element content: `& < > " '` escaped, line breaks kept as references (`&#10;`, `&#13;`, ...), characters XML 1.0 forbids removed. */
export function escapeXmlText(value: string): string {
  return value.replace(TEXT_SPECIALS, reference);
}

/** An attribute value: as text, and tab and LF kept as references (a parser would make them spaces). */
export function escapeXmlAttribute(value: string): string {
  return value.replace(ATTRIBUTE_SPECIALS, reference);
}

// ---- numbers ePO uses ---------------------------------------------------------------------

/** trustwire's EventID per signature (or per kind, for open sets: platforms, alert rules). */
export const EPO_EVENT_IDS: Readonly<Record<string, number>> = {
  'trust.change:trusted': 47001,
  'trust.change:untrusted': 47002,
  'trust.change:unknown': 47003,
  'policy.decision:permit': 47011,
  'policy.decision:deny': 47012,
  'admin.action:success': 47021,
  'admin.action:denied': 47022,
  'admin.action:failed': 47023,
  'config.snapshot': 47031,
  'compliance.assessment:compliant': 47041,
  'compliance.assessment:noncompliant': 47042,
  alert: 47051,
};

export function epoEventId(event: CanonicalEvent): number {
  return EPO_EVENT_IDS[eventSignature(event)] ?? EPO_EVENT_IDS[event.type]!;
}

/** ePO's event Severity 0-4 for trustwire's 0-10: 0-2 informational, 3-4 warning, 5-6 minor, 7-8 major, 9-10 critical. */
export function epoSeverity(severity: number): number {
  const s = Math.min(10, Math.max(0, Math.round(severity)));
  return s <= 2 ? 0 : s <= 4 ? 1 : s <= 6 ? 2 : s <= 8 ? 3 : 4;
}

/** `trust.untrusted`, `policy.deny`, `admin.activity`, `compliance.assessment`, `alert.<rule>`. */
export function epoThreatCategory(event: CanonicalEvent): string {
  switch (event.type) {
    case 'trust.change':
      return `trust.${event.payload.status}`;
    case 'policy.decision':
      return `policy.${event.payload.decision}`;
    case 'admin.action':
      return 'admin.activity';
    case 'config.snapshot':
      return 'config.snapshot';
    case 'compliance.assessment':
      return 'compliance.assessment';
    case 'alert':
      return `alert.${event.payload.rule}`;
  }
}

/** `YYYY-MM-DDTHH:MM:SS`, UTC, as ePO's GMTTime. */
export function epoGmtTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

function isoTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

function sourceIp(event: CanonicalEvent): string | undefined {
  return event.type === 'admin.action' ? event.payload.sourceIp : undefined;
}

function actingUser(event: CanonicalEvent): string | undefined {
  if (event.type === 'admin.action') return event.payload.user.name ?? event.payload.user.id;
  if (event.type === 'policy.decision') return event.payload.subjectUser;
  return undefined;
}

// ---- the mapping tables -------------------------------------------------------------------

type Row<K extends CanonicalEvent['type'] = CanonicalEvent['type']> = FieldMapping<EventOf<K>>;

/** `<MachineInfo>`: the host the event concerns. */
export const EPO_MACHINE_INFO: readonly Row[] = [
  { key: 'MachineName', from: 'host.name', note: 'else host.id', value: hostLabel },
  { key: 'IPAddress', from: 'host.ip', value: (e) => e.host.ip },
  { key: 'OSName', from: 'payload.platform', note: 'config.snapshot only, with payload.platformVersion', value: (e) => (e.type === 'config.snapshot' ? platformText(e) : undefined) },
  { key: 'UserName', from: 'payload.user / payload.subjectUser', note: 'admin.action, policy.decision', value: actingUser },
];

/** `<SoftwareInfo><CommonFields>`: the system that reported the event. */
export const EPO_ANALYZER: readonly Row[] = [
  { key: 'Analyzer', from: '(constant)', note: '`trustwire`', value: () => 'trustwire' },
  { key: 'AnalyzerName', from: 'source.vendor', note: 'and source.product', value: (e) => `${e.source.vendor} ${e.source.product}` },
  { key: 'AnalyzerVersion', from: 'source.version', value: (e) => e.source.version },
  { key: 'AnalyzerDetectionMethod', from: 'source.system', note: '`attestation`, `policy-proxy`, ...', value: (e) => e.source.system },
];

/** `<Event><CommonFields>`: ePO's threat columns. */
export const EPO_COMMON_FIELDS: readonly Row[] = [
  { key: 'ThreatCategory', from: '(category)', note: '`trust.<status>`, `policy.<decision>`, `admin.activity`, `config.snapshot`, `compliance.assessment`, `alert.<rule>`', value: epoThreatCategory },
  { key: 'ThreatEventID', from: '(signature)', note: 'the EventID', value: epoEventId },
  { key: 'ThreatSeverity', from: 'severity', note: 'syslog scale, as syslog.ts maps it', value: (e) => syslogSeverity(e.severity) },
  { key: 'ThreatName', from: '(name)', note: 'the sentence of the signature, as CEF\'s Name', value: eventName },
  { key: 'ThreatType', from: 'type', value: (e) => e.type },
  { key: 'DetectedUTC', from: 'time', note: 'RFC 3339, UTC', value: (e) => isoTime(e.time) },
  { key: 'ThreatActionTaken', from: 'payload.decision / payload.outcome', note: 'policy.decision, admin.action', value: (e) => (e.type === 'policy.decision' || e.type === 'admin.action' ? eventResult(e) : undefined) },
  { key: 'SourceUserName', from: 'payload.user / payload.subjectUser', note: 'admin.action, policy.decision', value: actingUser },
  { key: 'SourceIPV4', from: 'payload.sourceIp', note: 'admin.action, when IPv4', value: (e) => ipv4(sourceIp(e)) },
  { key: 'SourceIPV6', from: 'payload.sourceIp', note: 'admin.action, when IPv6', value: (e) => ipv6(sourceIp(e)) },
  { key: 'SourceHostName', from: 'payload.sourceHost', note: 'policy.decision: where a migration starts', value: (e) => (e.type === 'policy.decision' ? (e.payload.sourceHost?.name ?? e.payload.sourceHost?.id) : undefined) },
  { key: 'TargetHostName', from: 'host.name', note: 'else host.id', value: hostLabel },
  { key: 'TargetIPV4', from: 'host.ip', note: 'when IPv4', value: (e) => ipv4(e.host.ip) },
  { key: 'TargetIPV6', from: 'host.ip', note: 'when IPv6', value: (e) => ipv6(e.host.ip) },
];

const ENVELOPE: readonly Row[] = [
  { key: 'EventId', from: 'id', note: 'stable through the pipeline: de-duplicate on it', value: (e) => e.id },
  { key: 'Signature', from: '(signature)', note: '`<type>:<result>`, as CEF\'s Device Event Class ID', value: eventSignature },
  { key: 'Description', from: '(summary)', note: 'a sentence with the particulars', value: eventSummary },
  { key: 'HostId', from: 'host.id', value: (e) => e.host.id },
  { key: 'Pool', from: 'host.pool', value: (e) => e.host.pool },
  { key: 'Tenant', from: 'tenant', value: (e) => e.tenant },
  { key: 'Source', from: 'source', note: '`vendor product version (system)`', value: sourceText },
];

const ENRICHMENT: readonly Row[] = [
  { key: 'HostTrustStatus', from: 'enrichment.trust.status', value: (e) => e.enrichment?.trust.status },
  { key: 'HostTrustStatusSince', from: 'enrichment.trust.since', note: 'RFC 3339, UTC', value: (e) => isoTime(e.enrichment?.trust.since) },
  { key: 'HostAttestationFaultCount', from: 'enrichment.trust.faultCount', value: (e) => e.enrichment?.trust.faultCount },
  { key: 'HostComplianceScore', from: 'enrichment.compliance.score', value: (e) => e.enrichment?.compliance?.score },
  { key: 'HostComplianceMaxScore', from: 'enrichment.compliance.maxScore', value: (e) => e.enrichment?.compliance?.maxScore },
  { key: 'HostCompliant', from: 'enrichment.compliance.compliant', note: '`true` / `false`', value: (e) => e.enrichment?.compliance?.compliant },
  { key: 'HostComplianceTemplate', from: 'enrichment.compliance.templateId', value: (e) => e.enrichment?.compliance?.templateId },
  { key: 'HostAssetTags', from: 'enrichment.assetTags', note: '`key=value, ...`', value: (e) => tagsText(e.enrichment?.assetTags) },
  { key: 'HostGeolocation', from: 'enrichment.geolocation', note: '`country=.., region=.., site=..`', value: geolocationText },
];

function kind<K extends CanonicalEvent['type']>(rows: readonly Row<K>[]): readonly Row<K>[] {
  return [...ENVELOPE, ...ENRICHMENT, ...rows];
}

/** `<CustomFields target="TrustwireEventMT">`: one table per event kind. */
export const EPO_CUSTOM_FIELDS: KindMappings = {
  'trust.change': kind<'trust.change'>([
    { key: 'TrustStatus', from: 'payload.status', value: (e) => e.payload.status },
    { key: 'PreviousTrustStatus', from: 'payload.previousStatus', value: (e) => e.payload.previousStatus },
    { key: 'AttestationService', from: 'payload.attestationService', value: (e) => e.payload.attestationService },
    { key: 'ReportId', from: 'payload.reportId', value: (e) => e.payload.reportId },
    { key: 'FailedFlavors', from: 'payload.flavors[].kind', note: 'the flavors that did not verify', value: failedFlavors },
    { key: 'PCRFaults', from: 'payload.flavors[].faults[]', note: '`FLAVOR: name (PCR n bank, expected .., actual ..); ...`', value: faultDetails },
    { key: 'FaultReasons', from: '(fault reasons)', note: 'each fault\'s description, else flavor and fault name', value: faultReasons },
  ]),
  'policy.decision': kind<'policy.decision'>([
    { key: 'DecisionId', from: 'payload.decisionId', value: (e) => e.payload.decisionId },
    { key: 'Policy', from: 'payload.policy', value: (e) => e.payload.policy },
    { key: 'Operation', from: 'payload.action', value: (e) => e.payload.action },
    { key: 'Outcome', from: 'payload.decision', note: '`permit` / `deny`', value: (e) => e.payload.decision },
    { key: 'UserId', from: 'payload.subjectUser', value: (e) => e.payload.subjectUser },
    { key: 'Resource', from: 'payload.resource', note: '`type id (name) [labels]`', value: resourceText },
    { key: 'RequiredTags', from: 'payload.resource.requiredTags', note: '`key=value, ...`', value: (e) => tagsText(e.payload.resource.requiredTags) },
    { key: 'TrustRequirement', from: 'payload.trustRequirement', value: (e) => e.payload.trustRequirement },
    { key: 'MatchedRules', from: 'payload.matchedRules', value: (e) => listText(e.payload.matchedRules) },
    { key: 'Reasons', from: 'payload.reasons', note: 'joined by `; `', value: (e) => (e.payload.reasons.length === 0 ? undefined : e.payload.reasons.join('; ')) },
  ]),
  'admin.action': kind<'admin.action'>([
    { key: 'UserId', from: 'payload.user.id', value: (e) => e.payload.user.id },
    { key: 'UserRole', from: 'payload.user.role', value: (e) => e.payload.user.role },
    { key: 'Operation', from: 'payload.operation', value: (e) => e.payload.operation },
    { key: 'Target', from: 'payload.target', note: '`type id (name)`', value: targetText },
    { key: 'Outcome', from: 'payload.outcome', note: '`success` / `denied` / `failed`', value: (e) => e.payload.outcome },
    { key: 'Error', from: 'payload.error', value: (e) => e.payload.error },
    { key: 'SessionId', from: 'payload.sessionId', value: (e) => e.payload.sessionId },
    { key: 'DecisionId', from: 'payload.requestId', note: 'the policy.decision\'s decisionId', value: (e) => e.payload.requestId },
  ]),
  'config.snapshot': kind<'config.snapshot'>([
    { key: 'Platform', from: 'payload.platform', note: 'and payload.platformVersion', value: platformText },
    { key: 'RunningServices', from: 'payload.services', note: 'names of the running ones', value: runningServices },
    { key: 'CollectedAt', from: 'payload.collectedAt', note: 'RFC 3339, UTC', value: (e) => isoTime(e.payload.collectedAt) },
    { key: 'SettingCount', from: 'payload.settings', note: 'how many (the values are not sent)', value: (e) => Object.keys(e.payload.settings).length },
  ]),
  'compliance.assessment': kind<'compliance.assessment'>([
    { key: 'ComplianceTemplate', from: 'payload.templateId', note: 'and payload.templateVersion', value: (e) => `${e.payload.templateId} ${e.payload.templateVersion}` },
    { key: 'ScoringModel', from: 'payload.scoringModel', value: (e) => e.payload.scoringModel },
    { key: 'Score', from: 'payload.score', value: (e) => e.payload.score },
    { key: 'MaxScore', from: 'payload.maxScore', value: (e) => e.payload.maxScore },
    { key: 'ScoreWithoutWaivers', from: 'payload.scoreWithoutWaivers', value: (e) => e.payload.scoreWithoutWaivers },
    { key: 'Compliant', from: 'payload.compliant', note: '`true` / `false`', value: (e) => e.payload.compliant },
    { key: 'FailedRules', from: 'payload.results', note: 'ids of failed and erred rules, `(waived)` marked', value: failedRules },
    { key: 'NewlyFailingRules', from: 'payload.drift.newlyFailing', value: (e) => listText(e.payload.drift?.newlyFailing) },
    { key: 'FailedRuleCount', from: 'payload.counts.fail', value: (e) => e.payload.counts.fail },
    { key: 'WaivedRuleCount', from: 'payload.counts.waived', value: (e) => e.payload.counts.waived },
    { key: 'TrustGate', from: 'payload.trustGate', note: 'when applied: the host\'s trust status', value: (e) => (e.payload.trustGate.applied ? `applied: host ${e.payload.trustGate.trustStatus}` : undefined) },
    { key: 'SnapshotEventId', from: 'payload.snapshotEventId', value: (e) => e.payload.snapshotEventId },
  ]),
  alert: kind<'alert'>([
    { key: 'AlertRule', from: 'payload.rule', value: (e) => e.payload.rule },
    { key: 'RelatedEventIds', from: 'payload.relatedEventIds', value: (e) => listText(e.payload.relatedEventIds) },
    { key: 'AlertDetails', from: 'payload.details', note: '`key=value, ...`', value: (e) => tagsText(e.payload.details) },
  ]),
};

assertUniqueKeys('ePO', EPO_CUSTOM_FIELDS);

/** Caps in characters: the short ePO columns; 4000 (SQL Server's widest non-MAX nvarchar) for the rest. */
export const EPO_LENGTHS: Readonly<Record<string, number>> = {
  MachineName: 255,
  UserName: 128,
  AnalyzerName: 64,
  AnalyzerVersion: 32,
  AnalyzerDetectionMethod: 64,
  ThreatCategory: 128,
  ThreatName: 128,
  ThreatType: 32,
  ThreatActionTaken: 32,
  SourceUserName: 128,
  SourceHostName: 255,
  TargetHostName: 255,
};
export const EPO_DEFAULT_LENGTH = 4000;
/** The CustomFields `target`: the ePO table an extension would store them in. */
export const EPO_CUSTOM_FIELDS_TARGET = 'TrustwireEventMT';
export const EPO_PRODUCT_FAMILY = 'Security';

// ---- the format ---------------------------------------------------------------------------

const ELEMENT_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

interface CompiledRow {
  open: string;
  close: string;
  length: number;
  value: (event: CanonicalEvent) => unknown;
}

function compile(rows: readonly FieldMapping[]): CompiledRow[] {
  return rows.map((row) => {
    if (!ELEMENT_NAME.test(row.key)) throw new Error(`invalid ePO element name ${JSON.stringify(row.key)}`);
    return { open: `<${row.key}>`, close: `</${row.key}>`, length: EPO_LENGTHS[row.key] ?? EPO_DEFAULT_LENGTH, value: row.value as CompiledRow['value'] };
  });
}

const MACHINE_INFO = compile(EPO_MACHINE_INFO as readonly FieldMapping[]);
const ANALYZER = compile(EPO_ANALYZER as readonly FieldMapping[]);
const COMMON_FIELDS = compile(EPO_COMMON_FIELDS as readonly FieldMapping[]);
const CUSTOM_FIELDS = new Map(
  (Object.keys(EPO_CUSTOM_FIELDS) as CanonicalEvent['type'][]).map((type) => [type, compile(EPO_CUSTOM_FIELDS[type] as readonly FieldMapping[])]),
);
const CUSTOM_FIELDS_OPEN = `<CustomFields target="${escapeXmlAttribute(EPO_CUSTOM_FIELDS_TARGET)}">`;

function elements(rows: readonly CompiledRow[], event: CanonicalEvent): string {
  let out = '';
  for (const row of rows) {
    const value = row.value(event);
    if (value === undefined || value === '') continue;
    const text = typeof value === 'string' ? escapeXmlText(truncateChars(value, row.length)) : String(value);
    out += row.open + text + row.close;
  }
  return out;
}

export interface EpoOptions {
  /** The product in SoftwareInfo; trustwire's own by default. */
  device?: DeviceIdentity;
}

/** One canonical event as one ePO event document (compact, no line breaks). */
export function formatEpoEvent(event: CanonicalEvent, options: EpoOptions = {}): string {
  const device = options.device ?? TRUSTWIRE_DEVICE;
  const id = epoEventId(event);
  return (
    '<?xml version="1.0" encoding="UTF-8"?><EPOEvent>' +
    `<MachineInfo>${elements(MACHINE_INFO, event)}</MachineInfo>` +
    `<SoftwareInfo ProductName="${escapeXmlAttribute(device.product)}" ProductVersion="${escapeXmlAttribute(device.version)}" ProductFamily="${EPO_PRODUCT_FAMILY}">` +
    `<CommonFields>${elements(ANALYZER, event)}</CommonFields>` +
    `<Event><EventID>${id}</EventID><Severity>${epoSeverity(event.severity)}</Severity><GMTTime>${epoGmtTime(event.time)}</GMTTime>` +
    `<CommonFields>${elements(COMMON_FIELDS, event)}</CommonFields>` +
    `${CUSTOM_FIELDS_OPEN}${elements(CUSTOM_FIELDS.get(event.type) ?? [], event)}</CustomFields>` +
    '</Event></SoftwareInfo></EPOEvent>'
  );
}

/** A batch: one document per event, in order. */
export function formatEpoEvents(events: readonly CanonicalEvent[], options: EpoOptions = {}): string[] {
  return events.map((event) => formatEpoEvent(event, options));
}
