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
 * The per-kind key tables (`CEF_MAPPINGS`) name fields of the catalogue (`fields.ts`), and are
 * the documentation: docs/formats.md is rendered from them.
 */
import type { CanonicalEvent } from '../model/events.js';
import { eventName, eventResult, eventSignature, ipv4, ipv6, severityLevel, TRUSTWIRE_DEVICE, type DeviceIdentity } from './describe.js';
import { compileKinds, mapKinds, type FieldMapping, type KeyTable, type KindMappings } from './mapping.js';
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

// ---- the key tables -----------------------------------------------------------------------

/** Every kind starts with these: when, which event, which host, who reported it. */
const ENVELOPE: KeyTable = {
  rt: 'time',
  externalId: 'id',
  cat: 'type',
  dvchost: 'hostName',
  deviceExternalId: 'hostId',
  dvc: 'hostIpv4',
  c6a1: { field: 'hostIpv6', label: 'Device IPv6 Address' },
  trustwirePool: 'hostPool',
  trustwireTenant: 'tenant',
  trustwireSource: 'source',
};

/** Every kind ends with the processor's enrichment: the state of the host the event concerns. */
const ENRICHMENT: KeyTable = {
  cs1: { field: 'hostTrustStatus', label: 'Host Trust Status' },
  deviceCustomDate1: { field: 'hostTrustSince', label: 'Host Trust Status Since' },
  cn1: { field: 'hostFaultCount', label: 'Host Attestation Fault Count' },
  cfp1: { field: 'hostComplianceScore', label: 'Host Compliance Score' },
  cfp2: { field: 'hostComplianceMaxScore', label: 'Host Compliance Max Score' },
  trustwireHostCompliant: 'hostCompliant',
  trustwireHostComplianceTemplate: 'hostComplianceTemplate',
  cs2: { field: 'hostAssetTags', label: 'Host Asset Tags' },
  cs3: { field: 'hostGeolocation', label: 'Host Geolocation' },
};

/**
 * One table per event kind: CEF extension key (and label) ← field. The host's trust comes
 * right after the envelope: a receiver that cuts long messages (UDP, QRadar's and ArcSight's
 * payload limits) cuts the long fault and reason texts at the end first.
 */
export const CEF_MAPPINGS: KindMappings = mapKinds('CEF', [ENVELOPE, ENRICHMENT, { msg: 'summary' }], {
  'trust.change': {
    reason: 'faultReasons',
    cs4: { field: 'previousStatus', label: 'Previous Trust Status' },
    cs5: { field: 'faultDetails', label: 'Attestation Faults' },
    cs6: { field: 'failedFlavors', label: 'Failed Flavors' },
    trustwireAttestationService: 'attestationService',
    trustwireReportId: 'reportId',
  },
  'policy.decision': {
    act: 'action',
    outcome: 'successOrFailure',
    suser: 'subjectUser',
    reason: 'reasons',
    shost: 'sourceHost',
    cs4: { field: 'policy', label: 'Policy' },
    cs5: { field: 'matchedRules', label: 'Matched Rules' },
    cs6: { field: 'resource', label: 'Resource' },
    trustwireDecisionId: 'decisionId',
    trustwireTrustRequirement: 'trustRequirement',
    trustwireRequiredTags: 'requiredTags',
  },
  'admin.action': {
    act: 'operation',
    outcome: 'successOrFailure',
    suser: 'userName',
    suid: 'userId',
    spriv: 'userRole',
    src: 'sourceIpv4',
    c6a2: { field: 'sourceIpv6', label: 'Source IPv6 Address' },
    reason: 'error',
    cs4: { field: 'target', label: 'Target' },
    trustwireSessionId: 'sessionId',
    trustwireDecisionId: 'requestId',
  },
  'config.snapshot': {
    cs4: { field: 'platform', label: 'Platform' },
    cs5: { field: 'runningServices', label: 'Running Services' },
    deviceCustomDate2: { field: 'collectedAt', label: 'Collected At' },
    cn2: { field: 'settingCount', label: 'Setting Count' },
  },
  'compliance.assessment': {
    outcome: 'successOrFailure',
    reason: 'trustGateReason',
    cs4: { field: 'template', label: 'Compliance Template' },
    cs5: { field: 'failedRules', label: 'Failed Rules' },
    cs6: { field: 'newlyFailingRules', label: 'Newly Failing Rules' },
    cfp3: { field: 'score', label: 'Compliance Score' },
    cfp4: { field: 'scoreWithoutWaivers', label: 'Compliance Score Without Waivers' },
    cn2: { field: 'failedRuleCount', label: 'Failed Rule Count' },
    cn3: { field: 'waivedRuleCount', label: 'Waived Rule Count' },
    trustwireScoringModel: 'scoringModel',
    trustwireSnapshotEventId: 'snapshotEventId',
  },
  alert: {
    cs4: { field: 'rule', label: 'Alert Rule' },
    cs5: { field: 'relatedEventIds', label: 'Related Event IDs' },
    cs6: { field: 'details', label: 'Alert Details' },
  },
});

// ---- compiled once: key specs, prefixes and escaped labels --------------------------------

interface CompiledRow {
  /** ` label-pair key=`, with the space that separates it from the pair before. */
  prefix: string;
  /** The same without the leading space, for the first pair after the header. */
  firstPrefix: string;
  spec: CefKeySpec;
  value: FieldMapping['value'];
}

function keySpec(key: string): CefKeySpec {
  const spec = CEF_DICTIONARY[key];
  if (spec !== undefined) return spec;
  if (!key.startsWith(CEF_CUSTOM_KEY_PREFIX)) throw new Error(`CEF key ${key} is neither in the dictionary nor a ${CEF_CUSTOM_KEY_PREFIX}-prefixed custom key`);
  return { type: 'string', length: CEF_CUSTOM_KEY_LENGTH };
}

const COMPILED = compileKinds(CEF_MAPPINGS, (row): CompiledRow => {
  const label = row.label === undefined ? '' : ` ${row.key}Label=${escapeCefValue(truncateChars(row.label, CEF_LABEL_LENGTH))}`;
  const prefix = `${label} ${row.key}=`;
  return { prefix, firstPrefix: prefix.slice(1), spec: keySpec(row.key), value: row.value };
});

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
  let out = `${device}${signatureHeader(event)}|${severityLevel(event.severity)}|`;
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
