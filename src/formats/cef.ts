/**
 * ArcSight Common Event Format, as "Implementing ArcSight CEF" (document version 27) defines it:
 *
 *   CEF:0|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension
 *
 * - Header fields: `\` → `\\`, `|` → `\|`; CR and LF (not allowed in the header) → a space.
 * - Extension values: `\` → `\\`, `=` → `\=`, CR → `\r`, LF → `\n` (a backslash and a letter).
 *   A pipe needs no escaping there. Keys are constants, checked when this module loads.
 * - Other C0 control characters, DEL, the C1 controls (U+0080-U+009F, NEL among them) and
 *   U+2028 / U+2029 (the spec is silent; readers that split on Unicode line breaks, as Java's
 *   `\R` and Python's `splitlines` do, would end the record there) → a space; a tab is kept in
 *   values.
 * - Lengths: the dictionary's, counted in characters (UTF-16 code units, as the Java-based
 *   consumers count), cut at a character boundary before escaping (`text.ts`). Keys the
 *   dictionary types as addresses, numbers or timestamps are sent only when the value is one.
 * - The device is trustwire (vendor `trustwire`, product `trustwire`, the package version):
 *   the vendor/product pair names the schema of the signatures and custom labels below, and
 *   ArcSight keys its parsers and categorisation on that pair. The system that reported the
 *   event goes into `trustwireSource`; the host the event concerns is `dvchost` /
 *   `deviceExternalId` / `dvc`, as endpoint-management products report their endpoints.
 *
 * The per-kind mapping tables (`CEF_MAPPINGS`) are the documentation: docs/formats.md is
 * rendered from them.
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
  successOrFailure,
  tagsText,
  targetText,
  TRUSTWIRE_DEVICE,
  type DeviceIdentity,
} from './describe.js';
import { assertUniqueKeys, type FieldMapping, type KindMappings } from './mapping.js';
import { truncateChars } from './text.js';

// ---- the dictionary (the keys trustwire uses, with their types and lengths) -----------------

export type CefValueType = 'string' | 'ipv4' | 'ipv6' | 'timestamp' | 'long' | 'double';

export interface CefKeySpec {
  type: CefValueType;
  /** Maximum length in characters, for strings. */
  length?: number;
}

/** The dictionary entries trustwire uses, from the Extension Dictionary of CEF document version 27. */
export const CEF_DICTIONARY: Readonly<Record<string, CefKeySpec>> = {
  act: { type: 'string', length: 63 },
  cat: { type: 'string', length: 1023 },
  c6a1: { type: 'ipv6' },
  c6a2: { type: 'ipv6' },
  cfp1: { type: 'double' },
  cfp2: { type: 'double' },
  cfp3: { type: 'double' },
  cfp4: { type: 'double' },
  cn1: { type: 'long' },
  cn2: { type: 'long' },
  cn3: { type: 'long' },
  cs1: { type: 'string', length: 4000 },
  cs2: { type: 'string', length: 4000 },
  cs3: { type: 'string', length: 4000 },
  cs4: { type: 'string', length: 4000 },
  cs5: { type: 'string', length: 4000 },
  cs6: { type: 'string', length: 4000 },
  deviceCustomDate1: { type: 'timestamp' },
  deviceCustomDate2: { type: 'timestamp' },
  deviceExternalId: { type: 'string', length: 255 },
  dvc: { type: 'ipv4' },
  dvchost: { type: 'string', length: 100 },
  externalId: { type: 'string', length: 40 },
  msg: { type: 'string', length: 1023 },
  outcome: { type: 'string', length: 63 },
  reason: { type: 'string', length: 1023 },
  rt: { type: 'timestamp' },
  shost: { type: 'string', length: 1023 },
  spriv: { type: 'string', length: 1023 },
  src: { type: 'ipv4' },
  suid: { type: 'string', length: 1023 },
  suser: { type: 'string', length: 1023 },
};

/** Every `*Label` key of the dictionary is a string of at most 1023 characters. */
export const CEF_LABEL_LENGTH = 1023;
/** Custom (vendor-prefixed) keys have no length in the spec; trustwire caps them like `msg`. */
export const CEF_CUSTOM_KEY_LENGTH = 1023;
/** Custom keys are `trustwire` + an explanatory name ("VendornameProductnameExplanatoryKeyName"; vendor and product are both trustwire). */
export const CEF_CUSTOM_KEY_PREFIX = 'trustwire';

/** Header field lengths (chapter "Header Field Definitions"). */
export const CEF_HEADER_LENGTHS = { deviceVendor: 63, deviceProduct: 63, deviceVersion: 31, deviceEventClassId: 1023, name: 512 } as const;

// ---- escaping -----------------------------------------------------------------------------

// One pass per value, no regex: a value with nothing to escape (most) is returned as it is,
// uncopied; otherwise the runs between specials are copied once. Asset tags and geolocation
// (`country=DE, ...`) always hold `=`, so the escaping path is common too.

/** DEL, the C1 controls and U+2028 / U+2029: made spaces like the C0 controls. Called for c ≥ 0x7f only, so ASCII pays one comparison. */
function isWideControl(c: number): boolean {
  return c <= 0x9f || c === 0x2028 || c === 0x2029;
}

/** `\`, `|` and control characters (line breaks of every kind among them). */
function isHeaderSpecial(c: number): boolean {
  return c < 0x20 || c === 0x5c || c === 0x7c || (c >= 0x7f && isWideControl(c));
}

function headerEscape(c: number): string {
  return c === 0x5c ? '\\\\' : c === 0x7c ? '\\|' : ' ';
}

/** `\`, `=` and control characters but tab. */
function isExtensionSpecial(c: number): boolean {
  return c < 0x20 ? c !== 0x09 : c === 0x5c || c === 0x3d || (c >= 0x7f && isWideControl(c));
}

function extensionEscape(c: number): string {
  return c === 0x5c ? '\\\\' : c === 0x3d ? '\\=' : c === 0x0d ? '\\r' : c === 0x0a ? '\\n' : ' ';
}

/** A header field: backslash and pipe escaped, line breaks and control characters made spaces. */
export function escapeCefHeader(value: string): string {
  let out = '';
  let copied = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isHeaderSpecial(c)) continue;
    out += value.slice(copied, i) + headerEscape(c);
    copied = i + 1;
  }
  return copied === 0 ? value : out + value.slice(copied);
}

/** An extension value: backslash, `=`, CR and LF escaped; other control characters made spaces. */
export function escapeCefValue(value: string): string {
  let out = '';
  let copied = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (!isExtensionSpecial(c)) continue;
    out += value.slice(copied, i) + extensionEscape(c);
    copied = i + 1;
  }
  return copied === 0 ? value : out + value.slice(copied);
}

// ---- the mapping tables -------------------------------------------------------------------

type Row<K extends CanonicalEvent['type'] = CanonicalEvent['type']> = FieldMapping<EventOf<K>>;

/** Every kind starts with these: when, which event, which host, who reported it. */
const ENVELOPE: readonly Row[] = [
  { key: 'rt', from: 'time', note: 'epoch milliseconds', value: (e) => e.time },
  { key: 'externalId', from: 'id', note: 'stable through the pipeline: de-duplicate on it', value: (e) => e.id },
  { key: 'cat', from: 'type', value: (e) => e.type },
  { key: 'dvchost', from: 'host.name', note: 'else host.id', value: hostLabel },
  { key: 'deviceExternalId', from: 'host.id', value: (e) => e.host.id },
  // Keys typed ipv4 / ipv6 take a value only when it is one (`render`): the same address goes to one or the other.
  { key: 'dvc', from: 'host.ip', note: 'when IPv4', value: (e) => e.host.ip },
  { key: 'c6a1', label: 'Device IPv6 Address', from: 'host.ip', note: 'when IPv6 (the spec\'s label)', value: (e) => e.host.ip },
  { key: 'trustwirePool', from: 'host.pool', value: (e) => e.host.pool },
  { key: 'trustwireTenant', from: 'tenant', value: (e) => e.tenant },
  { key: 'trustwireSource', from: 'source', note: '`vendor product version (system)` of the reporting system', value: sourceText },
];

/** Every kind ends with the processor's enrichment: the state of the host the event concerns. */
const ENRICHMENT: readonly Row[] = [
  { key: 'cs1', label: 'Host Trust Status', from: 'enrichment.trust.status', value: (e) => e.enrichment?.trust.status },
  { key: 'deviceCustomDate1', label: 'Host Trust Status Since', from: 'enrichment.trust.since', note: 'epoch milliseconds', value: (e) => e.enrichment?.trust.since },
  { key: 'cn1', label: 'Host Attestation Fault Count', from: 'enrichment.trust.faultCount', value: (e) => e.enrichment?.trust.faultCount },
  { key: 'cfp1', label: 'Host Compliance Score', from: 'enrichment.compliance.score', value: (e) => e.enrichment?.compliance?.score },
  { key: 'cfp2', label: 'Host Compliance Max Score', from: 'enrichment.compliance.maxScore', value: (e) => e.enrichment?.compliance?.maxScore },
  { key: 'trustwireHostCompliant', from: 'enrichment.compliance.compliant', note: '`true` / `false`', value: (e) => e.enrichment?.compliance?.compliant },
  { key: 'trustwireHostComplianceTemplate', from: 'enrichment.compliance.templateId', value: (e) => e.enrichment?.compliance?.templateId },
  { key: 'cs2', label: 'Host Asset Tags', from: 'enrichment.assetTags', note: '`key=value, ...`', value: (e) => tagsText(e.enrichment?.assetTags) },
  { key: 'cs3', label: 'Host Geolocation', from: 'enrichment.geolocation', note: '`country=.., region=.., site=..`', value: geolocationText },
];

const SUMMARY: Row = { key: 'msg', from: '(summary)', note: 'a sentence with the particulars', value: eventSummary };

// The host's trust comes right after the envelope: a receiver that cuts long messages (UDP,
// QRadar's and ArcSight's payload limits) cuts the long fault and reason texts at the end first.
function kind<K extends CanonicalEvent['type']>(rows: readonly Row<K>[]): readonly Row<K>[] {
  return [...ENVELOPE, ...ENRICHMENT, SUMMARY, ...rows];
}

/** One table per event kind: CEF extension key (and label) ← part of the canonical event. */
export const CEF_MAPPINGS: KindMappings = {
  'trust.change': kind<'trust.change'>([
    { key: 'reason', from: '(fault reasons)', note: 'each fault\'s description, else flavor and fault name', value: faultReasons },
    { key: 'cs4', label: 'Previous Trust Status', from: 'payload.previousStatus', value: (e) => e.payload.previousStatus },
    { key: 'cs5', label: 'Attestation Faults', from: 'payload.flavors[].faults[]', note: '`FLAVOR: name (PCR n bank, expected .., actual ..); ...`', value: faultDetails },
    { key: 'cs6', label: 'Failed Flavors', from: 'payload.flavors[].kind', note: 'the flavors that did not verify', value: failedFlavors },
    { key: 'trustwireAttestationService', from: 'payload.attestationService', value: (e) => e.payload.attestationService },
    { key: 'trustwireReportId', from: 'payload.reportId', value: (e) => e.payload.reportId },
  ]),
  'policy.decision': kind<'policy.decision'>([
    { key: 'act', from: 'payload.action', value: (e) => e.payload.action },
    { key: 'outcome', from: 'payload.decision', note: 'permit → `success`, deny → `failure`', value: (e) => successOrFailure(e.payload.decision === 'permit') },
    { key: 'suser', from: 'payload.subjectUser', value: (e) => e.payload.subjectUser },
    { key: 'reason', from: 'payload.reasons', note: 'joined by `; `', value: (e) => (e.payload.reasons.length === 0 ? undefined : e.payload.reasons.join('; ')) },
    { key: 'shost', from: 'payload.sourceHost', note: 'name, else id: where a migration starts', value: (e) => e.payload.sourceHost?.name ?? e.payload.sourceHost?.id },
    { key: 'cs4', label: 'Policy', from: 'payload.policy', value: (e) => e.payload.policy },
    { key: 'cs5', label: 'Matched Rules', from: 'payload.matchedRules', value: (e) => listText(e.payload.matchedRules) },
    { key: 'cs6', label: 'Resource', from: 'payload.resource', note: '`type id (name) [labels]`', value: resourceText },
    { key: 'trustwireDecisionId', from: 'payload.decisionId', value: (e) => e.payload.decisionId },
    { key: 'trustwireTrustRequirement', from: 'payload.trustRequirement', value: (e) => e.payload.trustRequirement },
    { key: 'trustwireRequiredTags', from: 'payload.resource.requiredTags', note: '`key=value, ...`', value: (e) => tagsText(e.payload.resource.requiredTags) },
  ]),
  'admin.action': kind<'admin.action'>([
    { key: 'act', from: 'payload.operation', value: (e) => e.payload.operation },
    { key: 'outcome', from: 'payload.outcome', note: 'success → `success`, denied and failed → `failure`', value: (e) => successOrFailure(e.payload.outcome === 'success') },
    { key: 'suser', from: 'payload.user.name', note: 'else payload.user.id', value: (e) => e.payload.user.name ?? e.payload.user.id },
    { key: 'suid', from: 'payload.user.id', value: (e) => e.payload.user.id },
    { key: 'spriv', from: 'payload.user.role', value: (e) => e.payload.user.role },
    { key: 'src', from: 'payload.sourceIp', note: 'when IPv4', value: (e) => e.payload.sourceIp },
    { key: 'c6a2', label: 'Source IPv6 Address', from: 'payload.sourceIp', note: 'when IPv6 (the spec\'s label)', value: (e) => e.payload.sourceIp },
    { key: 'reason', from: 'payload.error', value: (e) => e.payload.error },
    { key: 'cs4', label: 'Target', from: 'payload.target', note: '`type id (name)`', value: targetText },
    { key: 'trustwireSessionId', from: 'payload.sessionId', value: (e) => e.payload.sessionId },
    { key: 'trustwireDecisionId', from: 'payload.requestId', note: 'the policy.decision\'s decisionId', value: (e) => e.payload.requestId },
  ]),
  'config.snapshot': kind<'config.snapshot'>([
    { key: 'cs4', label: 'Platform', from: 'payload.platform', note: 'and payload.platformVersion', value: platformText },
    { key: 'cs5', label: 'Running Services', from: 'payload.services', note: 'names of the running ones', value: runningServices },
    { key: 'deviceCustomDate2', label: 'Collected At', from: 'payload.collectedAt', note: 'epoch milliseconds', value: (e) => e.payload.collectedAt },
    { key: 'cn2', label: 'Setting Count', from: 'payload.settings', note: 'how many (the values are not sent; the compliance.assessment scored from them is)', value: (e) => Object.keys(e.payload.settings).length },
  ]),
  'compliance.assessment': kind<'compliance.assessment'>([
    { key: 'outcome', from: 'payload.compliant', note: 'true → `success`, false → `failure`', value: (e) => successOrFailure(e.payload.compliant) },
    { key: 'reason', from: 'payload.trustGate', note: 'when applied', value: (e) => (e.payload.trustGate.applied ? `trust gate applied: host ${e.payload.trustGate.trustStatus}` : undefined) },
    { key: 'cs4', label: 'Compliance Template', from: 'payload.templateId', note: 'and payload.templateVersion', value: (e) => `${e.payload.templateId} ${e.payload.templateVersion}` },
    { key: 'cs5', label: 'Failed Rules', from: 'payload.results', note: 'ids of failed and erred rules, `(waived)` marked', value: failedRules },
    { key: 'cs6', label: 'Newly Failing Rules', from: 'payload.drift.newlyFailing', value: (e) => listText(e.payload.drift?.newlyFailing) },
    { key: 'cfp3', label: 'Compliance Score', from: 'payload.score', value: (e) => e.payload.score },
    { key: 'cfp4', label: 'Compliance Score Without Waivers', from: 'payload.scoreWithoutWaivers', value: (e) => e.payload.scoreWithoutWaivers },
    { key: 'cn2', label: 'Failed Rule Count', from: 'payload.counts.fail', value: (e) => e.payload.counts.fail },
    { key: 'cn3', label: 'Waived Rule Count', from: 'payload.counts.waived', value: (e) => e.payload.counts.waived },
    { key: 'trustwireScoringModel', from: 'payload.scoringModel', value: (e) => e.payload.scoringModel },
    { key: 'trustwireSnapshotEventId', from: 'payload.snapshotEventId', value: (e) => e.payload.snapshotEventId },
  ]),
  alert: kind<'alert'>([
    { key: 'cs4', label: 'Alert Rule', from: 'payload.rule', value: (e) => e.payload.rule },
    { key: 'cs5', label: 'Related Event IDs', from: 'payload.relatedEventIds', value: (e) => listText(e.payload.relatedEventIds) },
    { key: 'cs6', label: 'Alert Details', from: 'payload.details', note: '`key=value, ...`', value: (e) => tagsText(e.payload.details) },
  ]),
};

// ---- compiled once: key specs, prefixes and escaped labels --------------------------------

const KEY_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

interface CompiledRow {
  /** ` label-pair key=`, with the space that separates it from the pair before. */
  prefix: string;
  /** The same without the leading space, for the first pair after the header. */
  firstPrefix: string;
  spec: CefKeySpec;
  value: (event: CanonicalEvent) => unknown;
}

function keySpec(key: string): CefKeySpec {
  const spec = CEF_DICTIONARY[key];
  if (spec !== undefined) return spec;
  if (!key.startsWith(CEF_CUSTOM_KEY_PREFIX)) throw new Error(`CEF key ${key} is neither in the dictionary nor a ${CEF_CUSTOM_KEY_PREFIX}-prefixed custom key`);
  return { type: 'string', length: CEF_CUSTOM_KEY_LENGTH };
}

function compile(rows: readonly FieldMapping[]): CompiledRow[] {
  return rows.map((row) => {
    if (!KEY_NAME.test(row.key)) throw new Error(`invalid CEF key ${JSON.stringify(row.key)}`);
    const label = row.label === undefined ? '' : ` ${row.key}Label=${escapeCefValue(truncateChars(row.label, CEF_LABEL_LENGTH))}`;
    const prefix = `${label} ${row.key}=`;
    return { prefix, firstPrefix: prefix.slice(1), spec: keySpec(row.key), value: row.value as CompiledRow['value'] };
  });
}

assertUniqueKeys('CEF', CEF_MAPPINGS);
const COMPILED = new Map(
  (Object.keys(CEF_MAPPINGS) as CanonicalEvent['type'][]).map((type) => [type, compile(CEF_MAPPINGS[type] as readonly FieldMapping[])]),
);

/** The text of a value for its key's type; undefined when the value does not fit the type. */
function render(value: unknown, spec: CefKeySpec): string | undefined {
  switch (spec.type) {
    case 'string': {
      const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
      return text === undefined || text === '' ? undefined : escapeCefValue(truncateChars(text, spec.length ?? CEF_CUSTOM_KEY_LENGTH));
    }
    case 'timestamp':
    case 'long':
      return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
    case 'double':
      return typeof value === 'number' && Number.isFinite(value) ? String(value) : undefined;
    case 'ipv4':
      return typeof value === 'string' ? ipv4(value) : undefined;
    case 'ipv6':
      return typeof value === 'string' ? ipv6(value) : undefined;
  }
}

// ---- the format ---------------------------------------------------------------------------

export interface CefOptions {
  /** The device in the header; trustwire's own by default. */
  device?: DeviceIdentity;
}

/** CEF severity: the event's 0-10, an integer. */
export function cefSeverity(severity: number): number {
  return Math.min(10, Math.max(0, Math.round(severity)));
}

function header(value: string, length: number): string {
  return escapeCefHeader(truncateChars(value, length));
}

/** `CEF:0|vendor|product|version|`. */
function deviceHeader(device: DeviceIdentity): string {
  return (
    `CEF:0|${header(device.vendor, CEF_HEADER_LENGTHS.deviceVendor)}|${header(device.product, CEF_HEADER_LENGTHS.deviceProduct)}` +
    `|${header(device.version, CEF_HEADER_LENGTHS.deviceVersion)}|`
  );
}

const TRUSTWIRE_DEVICE_HEADER = deviceHeader(TRUSTWIRE_DEVICE);

// Signature and name depend on the kind and its result only, a small set per kind (the alert
// rules and platforms are open, but few): each pair is escaped once and kept, up to a bound.
const SIGNATURE_HEADERS = new Map<CanonicalEvent['type'], Map<string, string>>();
const SIGNATURE_HEADERS_PER_KIND = 1024;

/** `signature|name`. */
function signatureHeader(event: CanonicalEvent): string {
  const result = eventResult(event);
  let byResult = SIGNATURE_HEADERS.get(event.type);
  if (byResult === undefined) SIGNATURE_HEADERS.set(event.type, (byResult = new Map()));
  let text = byResult.get(result);
  if (text === undefined) {
    text = `${header(eventSignature(event), CEF_HEADER_LENGTHS.deviceEventClassId)}|${header(eventName(event), CEF_HEADER_LENGTHS.name)}`;
    if (byResult.size < SIGNATURE_HEADERS_PER_KIND) byResult.set(result, text);
  }
  return text;
}

/** One canonical event as one CEF line (no syslog prefix, no line break). */
export function formatCef(event: CanonicalEvent, options?: CefOptions): string {
  const device = options?.device === undefined || options.device === TRUSTWIRE_DEVICE ? TRUSTWIRE_DEVICE_HEADER : deviceHeader(options.device);
  let out = `${device}${signatureHeader(event)}|${cefSeverity(event.severity)}|`;
  let first = true;
  for (const row of COMPILED.get(event.type) ?? []) {
    const text = render(row.value(event), row.spec);
    if (text === undefined) continue;
    out += first ? row.firstPrefix : row.prefix;
    out += text;
    first = false;
  }
  return out;
}
