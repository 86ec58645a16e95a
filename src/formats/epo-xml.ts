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
import type { CanonicalEvent } from '../model/events.js';
import { eventSignature, severityLevel, TRUSTWIRE_DEVICE, type DeviceIdentity } from './describe.js';
import { compileKinds, mapKeys, mapKinds, type FieldMapping, type KeyTable, type KindMappings } from './mapping.js';
import { truncateChars } from './text.js';
import { isoTime } from './time.js';

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
  const s = severityLevel(severity);
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
  return isoTime(ms).slice(0, 19);
}

// ---- the key tables -----------------------------------------------------------------------

/** `<MachineInfo>`: the host the event concerns. */
export const EPO_MACHINE_INFO: readonly FieldMapping[] = mapKeys('ePO', [
  {
    MachineName: 'hostName',
    IPAddress: 'hostIp',
    OSName: 'snapshotPlatform',
    UserName: 'actingUser',
  },
]);

/** `<SoftwareInfo><CommonFields>`: the system that reported the event. */
export const EPO_ANALYZER: readonly FieldMapping[] = mapKeys('ePO', [
  {
    Analyzer: { from: '(constant)', note: '`trustwire`', value: () => 'trustwire' },
    AnalyzerName: 'sourceProduct',
    AnalyzerVersion: 'sourceVersion',
    AnalyzerDetectionMethod: 'sourceSystem',
  },
]);

/** `<Event><CommonFields>`: ePO's threat columns; the category and the EventID are ePO's own. */
export const EPO_COMMON_FIELDS: readonly FieldMapping[] = mapKeys('ePO', [
  {
    ThreatCategory: { from: '(category)', note: '`trust.<status>`, `policy.<decision>`, `admin.activity`, `config.snapshot`, `compliance.assessment`, `alert.<rule>`', value: epoThreatCategory },
    ThreatEventID: { from: '(signature)', note: 'the EventID', value: epoEventId },
    ThreatSeverity: 'syslogSeverity',
    ThreatName: 'name',
    ThreatType: 'type',
    DetectedUTC: 'timeRfc3339',
    ThreatActionTaken: 'actionTaken',
    SourceUserName: 'actingUser',
    SourceIPV4: 'sourceIpv4',
    SourceIPV6: 'sourceIpv6',
    SourceHostName: 'migrationSource',
    TargetHostName: 'hostName',
    TargetIPV4: 'hostIpv4',
    TargetIPV6: 'hostIpv6',
  },
]);

const ENVELOPE: KeyTable = {
  EventId: 'id',
  Signature: 'signature',
  Description: 'summary',
  HostId: 'hostId',
  Pool: 'hostPool',
  Tenant: 'tenant',
  Source: 'source',
};

const ENRICHMENT: KeyTable = {
  HostTrustStatus: 'hostTrustStatus',
  HostTrustStatusSince: 'hostTrustSinceRfc3339',
  HostAttestationFaultCount: 'hostFaultCount',
  HostComplianceScore: 'hostComplianceScore',
  HostComplianceMaxScore: 'hostComplianceMaxScore',
  HostCompliant: 'hostCompliant',
  HostComplianceTemplate: 'hostComplianceTemplate',
  HostAssetTags: 'hostAssetTags',
  HostGeolocation: 'hostGeolocation',
};

/** `<CustomFields target="TrustwireEventMT">`: one table per event kind. */
export const EPO_CUSTOM_FIELDS: KindMappings = mapKinds('ePO', [ENVELOPE, ENRICHMENT], {
  'trust.change': {
    TrustStatus: 'status',
    PreviousTrustStatus: 'previousStatus',
    AttestationService: 'attestationService',
    ReportId: 'reportId',
    FailedFlavors: 'failedFlavors',
    PCRFaults: 'faultDetails',
    FaultReasons: 'faultReasons',
  },
  'policy.decision': {
    DecisionId: 'decisionId',
    Policy: 'policy',
    Operation: 'action',
    Outcome: 'decision',
    UserId: 'subjectUser',
    Resource: 'resource',
    RequiredTags: 'requiredTags',
    TrustRequirement: 'trustRequirement',
    MatchedRules: 'matchedRules',
    Reasons: 'reasons',
  },
  'admin.action': {
    UserId: 'userId',
    UserRole: 'userRole',
    Operation: 'operation',
    Target: 'target',
    Outcome: 'outcome',
    Error: 'error',
    SessionId: 'sessionId',
    DecisionId: 'requestId',
  },
  'config.snapshot': {
    Platform: 'platform',
    RunningServices: 'runningServices',
    CollectedAt: 'collectedAtRfc3339',
    SettingCount: 'settingCount',
  },
  'compliance.assessment': {
    ComplianceTemplate: 'template',
    ScoringModel: 'scoringModel',
    Score: 'score',
    MaxScore: 'maxScore',
    ScoreWithoutWaivers: 'scoreWithoutWaivers',
    Compliant: 'compliant',
    FailedRules: 'failedRules',
    NewlyFailingRules: 'newlyFailingRules',
    FailedRuleCount: 'failedRuleCount',
    WaivedRuleCount: 'waivedRuleCount',
    TrustGate: 'trustGate',
    SnapshotEventId: 'snapshotEventId',
  },
  alert: {
    AlertRule: 'rule',
    RelatedEventIds: 'relatedEventIds',
    AlertDetails: 'details',
  },
});

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

interface CompiledRow {
  open: string;
  close: string;
  length: number;
  value: FieldMapping['value'];
}

function compile(row: FieldMapping): CompiledRow {
  return { open: `<${row.key}>`, close: `</${row.key}>`, length: EPO_LENGTHS[row.key] ?? EPO_DEFAULT_LENGTH, value: row.value };
}

const MACHINE_INFO = EPO_MACHINE_INFO.map(compile);
const ANALYZER = EPO_ANALYZER.map(compile);
const COMMON_FIELDS = EPO_COMMON_FIELDS.map(compile);
const CUSTOM_FIELDS = compileKinds(EPO_CUSTOM_FIELDS, compile);
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
