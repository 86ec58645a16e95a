/**
 * Intel SecL-DC Host Verification Service trust reports → trustwire `trust.change` events.
 *
 * The format, as HVS serializes a report (`GET /hvs/v2/reports` answers `{reports: [...]}`,
 * `POST /hvs/v2/reports` one report):
 * - `pkg/model/hvs/report.go` (intel-secl/intel-secl v3+, continued in
 *   open-edge-platform/trusted-compute `attestation-verifier/src/pkg/model/hvs/report.go`):
 *   `{id, trust_information: {OVERALL, flavors_trust: {<flavor part>: {trust, rules}}}, host_id,
 *   host_info, created, expiration}`; flavor parts PLATFORM, OS, HOST_UNIQUE, SOFTWARE,
 *   ASSET_TAG and, since v4, IMA (`flavor_part.go`).
 * - `pkg/model/hvs/trust_report.go`: a rule result is `{rule: {rule_name, markers,
 *   expected_pcr, tags, ...}, flavor_id, faults, trusted}`; a fault `{fault_name, description,
 *   pcr_index, pcr_bank, expected_pcrvalue, actual_pcrvalue, expected_value, actual_value, ...}`.
 *   `pcr_index` is written `"pcr_N"` (`PcrIndex.MarshalJSON` in `pcr_manifest.go`).
 * - Two generations are in the field. v3 (`pkg/lib/verifier/trust_report.go`, e.g. the
 *   suhho1993/intel-secl mirror) names rules `com.intel.mtwilson.core.verifier.policy.rule.*`,
 *   writes `expected_pcr` as `{digest_type, index: "pcr_N", value, pcr_bank}` and PCR faults with
 *   `expected_value` / `actual_value`. v4+ (`pkg/lib/verifier/rules/fault_util.go`,
 *   `pcr_matches_constant.go`) names them `rule.*` / `fault.*`, writes `expected_pcr` as
 *   `{pcr: {index, bank}, measurement, pcr_matches}` and PCR faults with `pcr_bank`,
 *   `expected_pcrvalue` / `actual_pcrvalue`; `rule.AssetTagMatches` carries the provisioned
 *   asset tags in `rule.tags` (`asset_tag_matches.go`). Both are read.
 * - Go writes nil slices and maps as `null`: `flavors_trust`, `rules`, `faults` may be null.
 *
 * Host identity: the event's host id is the Kafka key, so it must stay the same for the life
 * of the machine. HVS's `host_id` is the id of HVS's own host record — it changes when the host
 * is registered again and means nothing outside HVS. The hardware UUID (`host_info.hardware_uuid`,
 * the SMBIOS system UUID) is what an operator finds in the BMC, in vCenter and in `dmidecode`,
 * survives re-registration, and is what Keylime agents configured with `uuid = dmidecode` use
 * as their agent id, so both attestation services key the same machine alike. It is the id
 * when the report carries it; `host_id` otherwise, or always with `hostId: 'host_id'`. The host
 * name is `host_info.host_name`, unless it names no machine (`localhost...`).
 */
import { z } from 'zod';
import type { IngestEventInput } from '../../model/events.js';
import type { AttestationFault, FlavorKind, FlavorResult } from '../../model/payloads.js';
import { Name, refuseControlCharacters, rfc3339Millis } from '../../model/primitives.js';
import { describeValue, quoted } from '../../model/validation.js';
import { AdapterOptions, ATTESTATION_SYSTEM, parseOrThrow } from './common.js';
import { clampText, defined } from '../../model/text.js';

const WHAT = 'invalid Intel SecL HVS report';

export const IntelSeclAdapterOptions = AdapterOptions.extend({
  /** Which identifier becomes the host id: the hardware UUID when present (default), or HVS's host id. */
  hostId: z.enum(['hardware_uuid', 'host_id']).default('hardware_uuid'),
});
export type IntelSeclAdapterOptions = z.input<typeof IntelSeclAdapterOptions>;

// ---- the format --------------------------------------------------------------------------

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const Uuid = z.string().regex(UUID_TEXT, { message: 'must be a UUID' });

// Go's time.Time in JSON: RFC 3339 with up to nanoseconds and a zone.
const GoTime = z.string().transform((text, ctx) => {
  const ms = rfc3339Millis(text);
  if (Number.isInteger(ms) && ms >= 0) return ms;
  ctx.addIssue({ code: 'custom', message: `must be an RFC 3339 date-time with a zone that exists, got ${quoted(text)}` });
  return z.NEVER;
});

const PcrIndexText = /^(?:pcr_)?(\d+)$/;
/** `"pcr_N"` as HVS writes it; `"N"` and N as HVS also reads them. */
const PcrIndex = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const digits = typeof value === 'number' ? String(value) : PcrIndexText.exec(value)?.[1];
  const index = digits === undefined ? Number.NaN : Number(digits);
  if (Number.isInteger(index) && index >= 0 && index <= 23) return index;
  ctx.addIssue({ code: 'custom', message: `must be a PCR index 0-23 ("pcr_N"), got ${describeValue(value)}` });
  return z.NEVER;
});

const PcrBank = z.string().min(1).max(32);

/** `expected_pcr` of a PCR rule, in either generation's shape. */
const ExpectedPcr = z.looseObject({
  // v3
  index: PcrIndex.optional(),
  value: z.string().optional(),
  pcr_bank: PcrBank.optional(),
  // v4+
  pcr: z.looseObject({ index: PcrIndex, bank: PcrBank.optional() }).optional(),
  measurement: z.string().optional(),
});

const Fault = z.looseObject({
  // The fault's name in the event.
  fault_name: Name,
  description: z.string().optional(),
  pcr_index: PcrIndex.optional(),
  pcr_bank: PcrBank.optional(),
  expected_pcrvalue: z.string().optional(),
  actual_pcrvalue: z.string().optional(),
  expected_value: z.string().optional(),
  actual_value: z.string().optional(),
  calculated_value: z.string().optional(),
});
type Fault = z.output<typeof Fault>;

const RuleResult = z.looseObject({
  rule: z.looseObject({
    rule_name: z.string().min(1).max(256),
    expected_pcr: ExpectedPcr.nullable().optional(),
    // The host's asset tags in the event.
    tags: z.record(Name, z.string().max(1024)).nullable().optional(),
  }),
  flavor_id: Uuid.nullable().optional(),
  faults: z.array(Fault).nullable().optional(),
  trusted: z.boolean(),
});
type RuleResult = z.output<typeof RuleResult>;

const FLAVOR_PARTS = ['PLATFORM', 'OS', 'HOST_UNIQUE', 'SOFTWARE', 'ASSET_TAG', 'IMA'] as const;
type FlavorPart = (typeof FLAVOR_PARTS)[number];

const FlavorTrust = z.looseObject({
  trust: z.boolean(),
  rules: z.array(RuleResult).nullable().optional(),
});

const Report = z.looseObject({
  id: Uuid,
  host_id: Uuid,
  trust_information: z.looseObject({
    OVERALL: z.boolean(),
    flavors_trust: z
      .record(z.string(), FlavorTrust)
      .superRefine(
        (parts, ctx) => {
          if (typeof parts !== 'object' || parts === null) return;
          for (const part of Object.keys(parts)) {
            if (!(FLAVOR_PARTS as readonly string[]).includes(part)) {
              ctx.addIssue({ code: 'custom', path: [part], message: `unknown flavor part: expected one of ${FLAVOR_PARTS.join(', ')}` });
            }
          }
        },
        // Report an unknown part along with the other problems, not only once they are fixed.
        { when: () => true },
      )
      .nullable()
      .optional(),
  }),
  host_info: z
    .looseObject({
      host_name: z.string().max(256).check(refuseControlCharacters).optional(),
      hardware_uuid: z.union([z.literal(''), Uuid]).optional(),
    })
    .nullable()
    .optional(),
  created: GoTime,
});
type Report = z.output<typeof Report>;

const ReportCollection = z.looseObject({ reports: z.array(z.unknown()).nullable() });

// ---- the mapping -------------------------------------------------------------------------

/** IMA has no flavor kind of its own in trustwire: it measures the software a host runs. */
const KIND: Record<FlavorPart, z.input<typeof FlavorKind>> = {
  PLATFORM: 'PLATFORM',
  OS: 'OS',
  HOST_UNIQUE: 'HOST_UNIQUE',
  SOFTWARE: 'SOFTWARE',
  ASSET_TAG: 'ASSET_TAG',
  IMA: 'SOFTWARE',
};

/** How bad an untrusted flavor part is: firmware worst, an asset tag mismatch (placement, not integrity) least. */
const UNTRUSTED_SEVERITY: Record<FlavorPart, number> = { PLATFORM: 9, OS: 8, HOST_UNIQUE: 8, SOFTWARE: 7, IMA: 7, ASSET_TAG: 6 };
const UNTRUSTED_DEFAULT_SEVERITY = 8;
const TRUSTED_SEVERITY = 1;

const MAX_FAULTS = 256;
const NOT_A_HOST_NAME = /^(localhost(\.localdomain)?|)$/i;

/** Converts one HVS report object into a `trust.change` event. */
export function fromIntelSeclReport(body: unknown, opts: IntelSeclAdapterOptions = {}): IngestEventInput {
  return eventOf(body, optionsOf(opts), '');
}

/** Converts a `GET /hvs/v2/reports` answer, `{reports: [...]}`, into one event per report. */
export function fromIntelSeclReportCollection(body: unknown, opts: IntelSeclAdapterOptions = {}): IngestEventInput[] {
  const options = optionsOf(opts);
  const { reports } = parseOrThrow(ReportCollection, body, WHAT);
  return (reports ?? []).map((report, index) => eventOf(report, options, `reports[${index}]`));
}

type Options = z.output<typeof IntelSeclAdapterOptions>;

function optionsOf(opts: IntelSeclAdapterOptions): Options {
  return parseOrThrow(IntelSeclAdapterOptions, opts, 'invalid Intel SecL adapter options', 'opts');
}

/** `pathPrefix` places the report in the document received, so that errors name its fields there. */
function eventOf(body: unknown, options: Options, pathPrefix: string): IngestEventInput {
  const report = parseOrThrow(Report, body, WHAT, pathPrefix);
  const trustInformation = report.trust_information;

  const flavors: z.input<typeof FlavorResult>[] = [];
  let assetTags: Record<string, string> = {};
  let severity = trustInformation.OVERALL ? TRUSTED_SEVERITY : 0;
  for (const part of FLAVOR_PARTS) {
    const trust = trustInformation.flavors_trust?.[part];
    if (trust === undefined) continue;
    const rules = trust.rules ?? [];
    flavors.push(defined({ kind: KIND[part], trusted: trust.trust, flavorId: flavorIdOf(rules), faults: faultsOf(rules) }));
    if (!trust.trust) severity = Math.max(severity, UNTRUSTED_SEVERITY[part]);
    // The tags in the rule are those provisioned for the host; only a trusted ASSET_TAG part proves it carries them.
    if (part === 'ASSET_TAG' && trust.trust) assetTags = assetTagsOf(rules);
  }
  if (severity === 0) severity = UNTRUSTED_DEFAULT_SEVERITY;

  const event: IngestEventInput = {
    type: 'trust.change',
    time: report.created,
    source: { system: ATTESTATION_SYSTEM, vendor: 'Intel', product: 'SecL-DC HVS' },
    host: hostOf(report, options),
    severity,
    tenant: options.tenant,
    payload: {
      status: trustInformation.OVERALL ? 'trusted' : 'untrusted',
      attestationService: 'intel-secl-hvs',
      reportId: report.id,
      flavors,
      assetTags,
    },
  };
  return defined(event);
}

function hostOf(report: Report, options: Options) {
  const hardwareUuid = report.host_info?.hardware_uuid || undefined;
  const id = options.hostId === 'hardware_uuid' && hardwareUuid !== undefined ? hardwareUuid.toLowerCase() : report.host_id.toLowerCase();
  const reportedName = report.host_info?.host_name?.trim();
  const name = options.hostName ?? (reportedName === undefined || NOT_A_HOST_NAME.test(reportedName) ? undefined : reportedName);
  return defined({ id, name, pool: options.pool });
}

/** A part's flavor, when its rules name exactly one; a part matched by several flavors names none. */
function flavorIdOf(rules: readonly RuleResult[]): string | undefined {
  const ids = new Set(rules.map((rule) => rule.flavor_id?.toLowerCase()).filter((id) => id !== undefined));
  return ids.size === 1 ? [...ids][0] : undefined;
}

function faultsOf(rules: readonly RuleResult[]): z.input<typeof AttestationFault>[] {
  const faults = rules.flatMap((rule) => (rule.faults ?? []).map((fault) => faultOf(fault, rule)));
  if (faults.length <= MAX_FAULTS) return faults;
  const kept = faults.slice(0, MAX_FAULTS - 1);
  kept.push({ name: 'trustwire.FaultsOmitted', description: `${faults.length - kept.length} more faults in HVS report` });
  return kept;
}

const BANK_IN_FAULT_NAME = /PcrValueMismatch(SHA\d+)$/;

/** A fault, its PCR filled in from the rule that raised it where the fault itself leaves it out. */
function faultOf(fault: Fault, result: RuleResult): z.input<typeof AttestationFault> {
  const expectedPcr = result.rule.expected_pcr ?? undefined;
  const rulePcrIndex = expectedPcr?.pcr?.index ?? expectedPcr?.index;
  const ruleBank = expectedPcr?.pcr?.bank ?? expectedPcr?.pcr_bank;
  const ruleExpected = result.rule.rule_name.endsWith('PcrMatchesConstant') ? (expectedPcr?.measurement ?? expectedPcr?.value) : undefined;
  const pcrIndex = fault.pcr_index ?? rulePcrIndex;
  return defined({
    name: fault.fault_name,
    description: fault.description === undefined || fault.description === '' ? undefined : clampText(fault.description),
    pcrIndex,
    pcrBank: fault.pcr_bank ?? BANK_IN_FAULT_NAME.exec(fault.fault_name)?.[1] ?? (pcrIndex === undefined ? undefined : ruleBank),
    expected: optionalText(fault.expected_pcrvalue ?? fault.expected_value ?? ruleExpected),
    actual: optionalText(fault.actual_pcrvalue ?? fault.actual_value ?? fault.calculated_value),
  });
}

function assetTagsOf(rules: readonly RuleResult[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const rule of rules) Object.assign(tags, rule.rule.tags ?? {});
  return tags;
}

function optionalText(value: string | undefined): string | undefined {
  return value === undefined ? undefined : clampText(value);
}
