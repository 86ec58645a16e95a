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
import { EVENT_TYPES, type CanonicalEvent } from '../model/events.js';
import { severityLevel, TRUSTWIRE_DEVICE, type DeviceIdentity } from './describe.js';
import { compileKinds, mapKinds, type FieldMapping, type KeyTable, type KindMappings } from './mapping.js';
import { truncateChars } from './text.js';
import { millisOf, MONTHS, perSecond, timeValue } from './time.js';

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
  return Math.max(1, severityLevel(severity));
}

// ---- the key tables -----------------------------------------------------------------------

/** `devTime` and `sev` follow LEEF's own rules; every other attribute is a field of the catalogue. */
const ENVELOPE: KeyTable = {
  devTime: { from: 'time', note: '`MMM dd yyyy HH:mm:ss.SSS z`, GMT', value: (e) => leefDevTime(e.time) },
  devTimeFormat: { from: '(constant)', note: '`MMM dd yyyy HH:mm:ss.SSS z`', value: () => LEEF_DEV_TIME_FORMAT },
  sev: { from: 'severity', note: '1-10: 0 becomes 1', value: (e) => leefSeverity(e.severity) },
  cat: 'result',
  eventId: 'id',
  dst: 'hostIp',
  identSrc: 'hostIp',
  identHostName: 'hostName',
  hostId: 'hostId',
  pool: 'hostPool',
  tenant: 'tenant',
  source: 'source',
};

const ENRICHMENT: KeyTable = {
  hostTrustStatus: 'hostTrustStatus',
  hostTrustStatusSince: 'hostTrustSinceRfc3339',
  hostAttestationFaultCount: 'hostFaultCount',
  hostComplianceScore: 'hostComplianceScore',
  hostComplianceMaxScore: 'hostComplianceMaxScore',
  hostCompliant: 'hostCompliant',
  hostComplianceTemplate: 'hostComplianceTemplate',
  hostAssetTags: 'hostAssetTags',
  hostGeolocation: 'hostGeolocation',
};

/** One table per event kind: LEEF attribute ← field, in CEF's order. */
export const LEEF_MAPPINGS: KindMappings = mapKinds('LEEF', [ENVELOPE, ENRICHMENT, { msg: 'summary' }], {
  'trust.change': {
    reason: 'faultReasons',
    previousTrustStatus: 'previousStatus',
    attestationFaults: 'faultDetails',
    failedFlavors: 'failedFlavors',
    attestationService: 'attestationService',
    reportId: 'reportId',
  },
  'policy.decision': {
    action: 'action',
    outcome: 'successOrFailure',
    usrName: 'subjectUser',
    reason: 'reasons',
    sourceHost: 'sourceHost',
    policy: 'policy',
    matchedRules: 'matchedRules',
    resource: 'resource',
    decisionId: 'decisionId',
    trustRequirement: 'trustRequirement',
    requiredTags: 'requiredTags',
  },
  'admin.action': {
    action: 'operation',
    outcome: 'successOrFailure',
    usrName: 'userName',
    accountName: 'userId',
    role: 'userRole',
    src: 'sourceIp',
    reason: 'error',
    target: 'target',
    sessionId: 'sessionId',
    decisionId: 'requestId',
  },
  'config.snapshot': {
    platform: 'platform',
    runningServices: 'runningServices',
    collectedAt: 'collectedAtRfc3339',
    settingCount: 'settingCount',
  },
  'compliance.assessment': {
    outcome: 'successOrFailure',
    reason: 'trustGateReason',
    complianceTemplate: 'template',
    failedRules: 'failedRules',
    newlyFailingRules: 'newlyFailingRules',
    complianceScore: 'score',
    complianceScoreWithoutWaivers: 'scoreWithoutWaivers',
    failedRuleCount: 'failedRuleCount',
    waivedRuleCount: 'waivedRuleCount',
    scoringModel: 'scoringModel',
    snapshotEventId: 'snapshotEventId',
  },
  alert: {
    alertRule: 'rule',
    relatedEventIds: 'relatedEventIds',
    alertDetails: 'details',
  },
});

// ---- the format ---------------------------------------------------------------------------

export interface LeefOptions {
  /** The device in the header; trustwire's own by default. */
  device?: DeviceIdentity;
  /** The attribute delimiter: a tab by default. */
  delimiter?: string;
}

const DELIMITER_REFUSED = /^[A-Za-z0-9=|\\ \r\n]$/;
const SPECIALS = /[|\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

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
  value: FieldMapping['value'];
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
  const compiled = compileKinds(LEEF_MAPPINGS, (row): CompiledRow => ({ key: `${row.key}=`, length: LEEF_LENGTHS[row.key] ?? LEEF_DEFAULT_LENGTH, value: row.value }));

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
