/**
 * IBM QRadar Log Event Extended Format 2.0 (the LEEF format guide, "LEEF event components",
 * "Predefined LEEF event attributes", "Custom event date format"):
 *
 *   LEEF:2.0|Vendor|Product|Version|EventID|DelimiterCharacter|key=value<delimiter>key=value...
 *
 * LEEF defines no escape sequences: the guide only asks that keys and values avoid the
 * delimiter, tab and pipe. So nothing is escaped; what would break the structure is replaced:
 * - the delimiter, CR, LF, tab and the other control characters (C0, DEL, C1 with NEL, and
 *   U+2028 / U+2029, line breaks to Java's `\R`) → a space, so a value can never open a new
 *   attribute (`x<TAB>sev=1` stays one value) nor end the record; `=` needs nothing, QRadar
 *   splits an attribute at its first `=`;
 * - a pipe → `¦` (U+00A6), in the header (where it would end a field) and in values (which
 *   the guide asks to keep free of pipes).
 * The delimiter is a tab by default (written `x09` in the header, as the guide allows hex), or
 * any single character that is not a letter, digit, space, `=`, `|` or `\`.
 *
 * EventID is the event type and `cat` its result (`trust.change` + `untrusted`): the two
 * columns of QRadar's QID map. `devTime` is `MMM dd yyyy HH:mm:ss.SSS z` in GMT, one of the
 * guide's suggested `devTimeFormat` patterns. `sev` is the event's severity, 0 raised to
 * LEEF's minimum 1. Lengths: the guide's (EventID 255, usrName, accountName, identHostName
 * 255), otherwise trustwire's cap of 1023, in characters, cut at a character boundary.
 * The device is trustwire, as for CEF (see cef.ts).
 */
import { EVENT_TYPES, type CanonicalEvent, type EventOf } from '../model/events.js';
import {
  eventResult,
  eventSummary,
  failedFlavors,
  failedRules,
  faultDetails,
  faultReasons,
  geolocationText,
  hostLabel,
  listText,
  platformText,
  resourceText,
  runningServices,
  sourceText,
  successOrFailure,
  tagsText,
  targetText,
  TRUSTWIRE_DEVICE,
  type DeviceIdentity,
} from './describe.js';
import { assertUniqueKeys, type FieldMapping, type KindMappings } from './mapping.js';
import { truncateChars } from './text.js';
import { isoTime, millisOf, perSecond, timeValue } from './time.js';

/** Lengths the guide gives; every other attribute is capped at `LEEF_DEFAULT_LENGTH`. */
export const LEEF_LENGTHS: Readonly<Record<string, number>> = {
  usrName: 255,
  accountName: 255,
  identHostName: 255,
};
export const LEEF_DEFAULT_LENGTH = 1023;
export const LEEF_EVENT_ID_LENGTH = 255;
/** The `devTimeFormat` sent with every event (a Java SimpleDateFormat pattern). */
export const LEEF_DEV_TIME_FORMAT = 'MMM dd yyyy HH:mm:ss.SSS z';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

function devTimeText(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** `Mar 14 2025 09:59:59` of a second, kept for the events of the same second. */
const devTimeSecond = perSecond(devTimeText);

/** `Mar 14 2025 09:59:59.871 GMT`: epoch milliseconds in `LEEF_DEV_TIME_FORMAT`. */
export function leefDevTime(ms: number): string {
  const t = timeValue(ms);
  // Beyond Date's range (±8.64e15 ms, or NaN) the fields are NaN, as they always were.
  if (!(Math.abs(t) <= 8.64e15)) return `${devTimeText(ms)}.${pad(new Date(ms).getUTCMilliseconds(), 3)} GMT`;
  return `${devTimeSecond(t)}.${millisOf(t)} GMT`;
}

/** LEEF's sev is 1-10: the event's severity, 0 raised to 1. */
export function leefSeverity(severity: number): number {
  return Math.min(10, Math.max(1, Math.round(severity)));
}

function isoTimeOf(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : isoTime(ms);
}

// ---- the mapping tables -------------------------------------------------------------------

type Row<K extends CanonicalEvent['type'] = CanonicalEvent['type']> = FieldMapping<EventOf<K>>;

const ENVELOPE: readonly Row[] = [
  { key: 'devTime', from: 'time', note: '`MMM dd yyyy HH:mm:ss.SSS z`, GMT', value: (e) => leefDevTime(e.time) },
  { key: 'devTimeFormat', from: '(constant)', note: '`MMM dd yyyy HH:mm:ss.SSS z`', value: () => LEEF_DEV_TIME_FORMAT },
  { key: 'sev', from: 'severity', note: '1-10: 0 becomes 1', value: (e) => leefSeverity(e.severity) },
  { key: 'cat', from: '(result)', note: 'the second half of the signature: `untrusted`, `deny`, `denied`, the alert rule, ...', value: eventResult },
  { key: 'eventId', from: 'id', note: 'stable through the pipeline: de-duplicate on it', value: (e) => e.id },
  { key: 'dst', from: 'host.ip', value: (e) => e.host.ip },
  { key: 'identSrc', from: 'host.ip', note: 'with identHostName: QRadar ties the host name to the address', value: (e) => e.host.ip },
  { key: 'identHostName', from: 'host.name', note: 'else host.id', value: hostLabel },
  { key: 'hostId', from: 'host.id', value: (e) => e.host.id },
  { key: 'pool', from: 'host.pool', value: (e) => e.host.pool },
  { key: 'tenant', from: 'tenant', value: (e) => e.tenant },
  { key: 'source', from: 'source', note: '`vendor product version (system)` of the reporting system', value: sourceText },
];

const ENRICHMENT: readonly Row[] = [
  { key: 'hostTrustStatus', from: 'enrichment.trust.status', value: (e) => e.enrichment?.trust.status },
  { key: 'hostTrustStatusSince', from: 'enrichment.trust.since', note: 'RFC 3339, UTC', value: (e) => isoTimeOf(e.enrichment?.trust.since) },
  { key: 'hostAttestationFaultCount', from: 'enrichment.trust.faultCount', value: (e) => e.enrichment?.trust.faultCount },
  { key: 'hostComplianceScore', from: 'enrichment.compliance.score', value: (e) => e.enrichment?.compliance?.score },
  { key: 'hostComplianceMaxScore', from: 'enrichment.compliance.maxScore', value: (e) => e.enrichment?.compliance?.maxScore },
  { key: 'hostCompliant', from: 'enrichment.compliance.compliant', note: '`true` / `false`', value: (e) => e.enrichment?.compliance?.compliant },
  { key: 'hostComplianceTemplate', from: 'enrichment.compliance.templateId', value: (e) => e.enrichment?.compliance?.templateId },
  { key: 'hostAssetTags', from: 'enrichment.assetTags', note: '`key=value, ...`', value: (e) => tagsText(e.enrichment?.assetTags) },
  { key: 'hostGeolocation', from: 'enrichment.geolocation', note: '`country=.., region=.., site=..`', value: geolocationText },
];

const SUMMARY: Row = { key: 'msg', from: '(summary)', note: 'a sentence with the particulars', value: eventSummary };

function kind<K extends CanonicalEvent['type']>(rows: readonly Row<K>[]): readonly Row<K>[] {
  return [...ENVELOPE, ...ENRICHMENT, SUMMARY, ...rows];
}

/** One table per event kind: LEEF attribute ← part of the canonical event. */
export const LEEF_MAPPINGS: KindMappings = {
  'trust.change': kind<'trust.change'>([
    { key: 'reason', from: '(fault reasons)', note: 'each fault\'s description, else flavor and fault name', value: faultReasons },
    { key: 'previousTrustStatus', from: 'payload.previousStatus', value: (e) => e.payload.previousStatus },
    { key: 'attestationFaults', from: 'payload.flavors[].faults[]', note: '`FLAVOR: name (PCR n bank, expected .., actual ..); ...`', value: faultDetails },
    { key: 'failedFlavors', from: 'payload.flavors[].kind', note: 'the flavors that did not verify', value: failedFlavors },
    { key: 'attestationService', from: 'payload.attestationService', value: (e) => e.payload.attestationService },
    { key: 'reportId', from: 'payload.reportId', value: (e) => e.payload.reportId },
  ]),
  'policy.decision': kind<'policy.decision'>([
    { key: 'action', from: 'payload.action', value: (e) => e.payload.action },
    { key: 'outcome', from: 'payload.decision', note: 'permit → `success`, deny → `failure`', value: (e) => successOrFailure(e.payload.decision === 'permit') },
    { key: 'usrName', from: 'payload.subjectUser', value: (e) => e.payload.subjectUser },
    { key: 'reason', from: 'payload.reasons', note: 'joined by `; `', value: (e) => (e.payload.reasons.length === 0 ? undefined : e.payload.reasons.join('; ')) },
    { key: 'sourceHost', from: 'payload.sourceHost', note: 'name, else id: where a migration starts', value: (e) => e.payload.sourceHost?.name ?? e.payload.sourceHost?.id },
    { key: 'policy', from: 'payload.policy', value: (e) => e.payload.policy },
    { key: 'matchedRules', from: 'payload.matchedRules', value: (e) => listText(e.payload.matchedRules) },
    { key: 'resource', from: 'payload.resource', note: '`type id (name) [labels]`', value: resourceText },
    { key: 'decisionId', from: 'payload.decisionId', value: (e) => e.payload.decisionId },
    { key: 'trustRequirement', from: 'payload.trustRequirement', value: (e) => e.payload.trustRequirement },
    { key: 'requiredTags', from: 'payload.resource.requiredTags', note: '`key=value, ...`', value: (e) => tagsText(e.payload.resource.requiredTags) },
  ]),
  'admin.action': kind<'admin.action'>([
    { key: 'action', from: 'payload.operation', value: (e) => e.payload.operation },
    { key: 'outcome', from: 'payload.outcome', note: 'success → `success`, denied and failed → `failure`', value: (e) => successOrFailure(e.payload.outcome === 'success') },
    { key: 'usrName', from: 'payload.user.name', note: 'else payload.user.id', value: (e) => e.payload.user.name ?? e.payload.user.id },
    { key: 'accountName', from: 'payload.user.id', value: (e) => e.payload.user.id },
    { key: 'role', from: 'payload.user.role', value: (e) => e.payload.user.role },
    { key: 'src', from: 'payload.sourceIp', note: 'IPv4 or IPv6', value: (e) => e.payload.sourceIp },
    { key: 'reason', from: 'payload.error', value: (e) => e.payload.error },
    { key: 'target', from: 'payload.target', note: '`type id (name)`', value: targetText },
    { key: 'sessionId', from: 'payload.sessionId', value: (e) => e.payload.sessionId },
    { key: 'decisionId', from: 'payload.requestId', note: 'the policy.decision\'s decisionId', value: (e) => e.payload.requestId },
  ]),
  'config.snapshot': kind<'config.snapshot'>([
    { key: 'platform', from: 'payload.platform', note: 'and payload.platformVersion', value: platformText },
    { key: 'runningServices', from: 'payload.services', note: 'names of the running ones', value: runningServices },
    { key: 'collectedAt', from: 'payload.collectedAt', note: 'RFC 3339, UTC', value: (e) => isoTimeOf(e.payload.collectedAt) },
    { key: 'settingCount', from: 'payload.settings', note: 'how many (the values are not sent)', value: (e) => Object.keys(e.payload.settings).length },
  ]),
  'compliance.assessment': kind<'compliance.assessment'>([
    { key: 'outcome', from: 'payload.compliant', note: 'true → `success`, false → `failure`', value: (e) => successOrFailure(e.payload.compliant) },
    { key: 'reason', from: 'payload.trustGate', note: 'when applied', value: (e) => (e.payload.trustGate.applied ? `trust gate applied: host ${e.payload.trustGate.trustStatus}` : undefined) },
    { key: 'complianceTemplate', from: 'payload.templateId', note: 'and payload.templateVersion', value: (e) => `${e.payload.templateId} ${e.payload.templateVersion}` },
    { key: 'failedRules', from: 'payload.results', note: 'ids of failed and erred rules, `(waived)` marked', value: failedRules },
    { key: 'newlyFailingRules', from: 'payload.drift.newlyFailing', value: (e) => listText(e.payload.drift?.newlyFailing) },
    { key: 'complianceScore', from: 'payload.score', value: (e) => e.payload.score },
    { key: 'complianceScoreWithoutWaivers', from: 'payload.scoreWithoutWaivers', value: (e) => e.payload.scoreWithoutWaivers },
    { key: 'failedRuleCount', from: 'payload.counts.fail', value: (e) => e.payload.counts.fail },
    { key: 'waivedRuleCount', from: 'payload.counts.waived', value: (e) => e.payload.counts.waived },
    { key: 'scoringModel', from: 'payload.scoringModel', value: (e) => e.payload.scoringModel },
    { key: 'snapshotEventId', from: 'payload.snapshotEventId', value: (e) => e.payload.snapshotEventId },
  ]),
  alert: kind<'alert'>([
    { key: 'alertRule', from: 'payload.rule', value: (e) => e.payload.rule },
    { key: 'relatedEventIds', from: 'payload.relatedEventIds', value: (e) => listText(e.payload.relatedEventIds) },
    { key: 'alertDetails', from: 'payload.details', note: '`key=value, ...`', value: (e) => tagsText(e.payload.details) },
  ]),
};

assertUniqueKeys('LEEF', LEEF_MAPPINGS);

// ---- the format ---------------------------------------------------------------------------

export interface LeefOptions {
  /** The device in the header; trustwire's own by default. */
  device?: DeviceIdentity;
  /** The attribute delimiter: a tab by default. */
  delimiter?: string;
}

const DELIMITER_REFUSED = /^[A-Za-z0-9=|\\ \r\n]$/;
const SPECIALS = /[|\x00-\x1f\x7f-\x9f\u2028\u2029]/g;
const KEY_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

function replacement(char: string): string {
  return char === '|' ? '\u00a6' : ' ';
}

/** Whether `value` holds a pipe, a control character or `delimiter` (a code unit; -1 for none). */
function hasSpecial(value: string, delimiter: number): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7c || c === delimiter || (c >= 0x7f && (c <= 0x9f || c === 0x2028 || c === 0x2029))) return true;
  }
  return false;
}

/** A header field: a pipe becomes `¦`, control characters spaces (LEEF has no escaping). */
export function sanitizeLeefHeader(value: string): string {
  // A scan first: nearly every value is clean and is returned as it is.
  return hasSpecial(value, -1) ? value.replace(SPECIALS, replacement) : value;
}

/** `x09` for a tab (or another control character), the character itself otherwise. */
function delimiterField(delimiter: string): string {
  const code = delimiter.codePointAt(0)!;
  return code < 0x20 || code === 0x7f ? `x${code.toString(16).padStart(2, '0').toUpperCase()}` : delimiter;
}

function escapeForClass(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

interface CompiledRow {
  key: string;
  length: number;
  value: (event: CanonicalEvent) => unknown;
}

export type LeefFormatter = (event: CanonicalEvent) => string;

/** A LEEF formatter for these options; the delimiter is checked and its patterns built once. */
export function createLeefFormatter(options: LeefOptions = {}): LeefFormatter {
  const device = options.device ?? TRUSTWIRE_DEVICE;
  const delimiter = options.delimiter ?? '\t';
  if (delimiter.length !== 1 || DELIMITER_REFUSED.test(delimiter)) {
    throw new Error(`LEEF delimiter must be one character other than a letter, digit, space, =, | or \\; got ${JSON.stringify(delimiter)}`);
  }
  const valueSpecials = new RegExp(`[|\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029${escapeForClass(delimiter)}]`, 'g');
  const head =
    `LEEF:2.0|${sanitizeLeefHeader(device.vendor)}|${sanitizeLeefHeader(device.product)}|${sanitizeLeefHeader(device.version)}|`;
  const tail = `|${delimiterField(delimiter)}|`;
  const compiled = new Map(
    (Object.keys(LEEF_MAPPINGS) as CanonicalEvent['type'][]).map((type) => [
      type,
      (LEEF_MAPPINGS[type] as readonly FieldMapping[]).map((row): CompiledRow => {
        if (!KEY_NAME.test(row.key)) throw new Error(`invalid LEEF key ${JSON.stringify(row.key)}`);
        return { key: `${row.key}=`, length: LEEF_LENGTHS[row.key] ?? LEEF_DEFAULT_LENGTH, value: row.value as CompiledRow['value'] };
      }),
    ]),
  );

  const delimiterCode = delimiter.charCodeAt(0);
  const sanitizeValue = (value: string) => (hasSpecial(value, delimiterCode) ? value.replace(valueSpecials, replacement) : value);
  // The header up to the attributes, per kind: the event type is the EventID.
  const heads = new Map(EVENT_TYPES.map((type) => [type, head + sanitizeLeefHeader(truncateChars(type, LEEF_EVENT_ID_LENGTH)) + tail]));

  return (event) => {
    let out = heads.get(event.type) ?? head + sanitizeLeefHeader(truncateChars(event.type, LEEF_EVENT_ID_LENGTH)) + tail;
    let first = true;
    for (const row of compiled.get(event.type) ?? []) {
      const value = row.value(event);
      if (value === undefined || value === '') continue;
      const text = typeof value === 'string' ? sanitizeValue(truncateChars(value, row.length)) : String(value);
      out += first ? row.key : delimiter + row.key;
      out += text;
      first = false;
    }
    return out;
  };
}

/** One canonical event as one LEEF 2.0 line, tab-delimited, trustwire as the device (no syslog prefix, no line break). */
export const formatLeef: LeefFormatter = createLeefFormatter();
