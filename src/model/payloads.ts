import { z } from 'zod';
import { EpochMillis, IpAddress, Labels, Name, Tags, Text, Timestamp, TrustStatus } from './primitives.js';

// ---- trust.change ------------------------------------------------------------------------

export const FlavorKind = z.enum(['PLATFORM', 'OS', 'HOST_UNIQUE', 'SOFTWARE', 'ASSET_TAG']);

/** One measurement that did not match what the flavor expects. */
export const AttestationFault = z.strictObject({
  name: Name,
  description: Text.optional(),
  pcrIndex: z.number().int().min(0).max(23).optional(),
  pcrBank: z.string().max(32).optional(),
  expected: Text.optional(),
  actual: Text.optional(),
});

export const FlavorResult = z.strictObject({
  kind: FlavorKind,
  trusted: z.boolean(),
  flavorId: Name.optional(),
  faults: z.array(AttestationFault).max(256).default([]),
});

export const TrustChange = z.strictObject({
  /** Absent when the attestation service does not say; the processor knows it from state. */
  previousStatus: TrustStatus.optional(),
  status: TrustStatus,
  /** Which attestation service reported it, e.g. `intel-secl-hvs`, `keylime`. */
  attestationService: Name,
  reportId: Name.optional(),
  flavors: z.array(FlavorResult).max(16).default([]),
  assetTags: Tags.default({}),
});

// ---- policy.decision ---------------------------------------------------------------------

export const HostRef = z.strictObject({ id: Name, name: Name.optional() });

export const PolicyResource = z.strictObject({
  type: Name,
  id: Name,
  name: Name.optional(),
  /** Workload labels, e.g. `sensitive`. */
  labels: Labels.default([]),
  /** Asset tags a host must carry to run this resource, e.g. `{country: "DE"}`. */
  requiredTags: Tags.default({}),
});

export const PolicyDecision = z.strictObject({
  decisionId: Name,
  policy: Name,
  /** `vm.place`, `vm.migrate`, `vm.power_on`, `admin.request`, ... (an open set). */
  action: Name,
  decision: z.enum(['permit', 'deny']),
  subjectUser: Name.optional(),
  resource: PolicyResource,
  sourceHost: HostRef.optional(),
  targetHost: HostRef.optional(),
  reasons: z.array(Text).max(64).default([]),
  matchedRules: z.array(Name).max(64).default([]),
  /** The trust the policy demanded of the target host. */
  trustRequirement: z.enum(['trusted', 'any']).default('any'),
});

// ---- admin.action ------------------------------------------------------------------------

export const AdminAction = z.strictObject({
  user: z.strictObject({ id: Name, name: Name.optional(), role: Name.optional() }),
  sourceIp: IpAddress.optional(),
  sessionId: Name.optional(),
  operation: Name,
  target: z.strictObject({ type: Name, id: Name, name: Name.optional() }),
  outcome: z.enum(['success', 'denied', 'failed']),
  error: Text.optional(),
  /** Links to the policy.decision that permitted or denied the request. */
  requestId: Name.optional(),
});

// ---- config.snapshot ---------------------------------------------------------------------

/** A setting's value as the collector read it. */
export const SettingValue = z.union([z.boolean(), z.number(), z.string().max(4096), z.array(z.string().max(1024)).max(256)]);

export const ServiceState = z.strictObject({
  name: Name,
  running: z.boolean(),
  startupPolicy: z.enum(['on', 'off', 'automatic']).optional(),
});

export const ConfigSnapshot = z.strictObject({
  /** `esxi-8`, `linux-kvm`, ... chooses which hardening templates apply. */
  platform: Name,
  platformVersion: Name.optional(),
  collectedAt: Timestamp,
  settings: z.record(Name, SettingValue),
  services: z.array(ServiceState).max(1024).default([]),
});

// ---- compliance.assessment (derived) -----------------------------------------------------

export const RuleResultKind = z.enum(['pass', 'fail', 'error', 'notapplicable', 'notchecked']);

export const RuleResult = z.strictObject({
  ruleId: Name,
  title: Text,
  severity: z.enum(['high', 'medium', 'low']),
  result: RuleResultKind,
  /** Expected and actual values rendered as text, as the evidence a reviewer reads. */
  expected: Text.optional(),
  actual: Text.optional(),
  message: Text.optional(),
  waiver: z.strictObject({ justification: Text, expiresAt: EpochMillis.optional(), approvedBy: Name.optional() }).optional(),
});

export const ComplianceAssessment = z.strictObject({
  templateId: Name,
  templateVersion: Name,
  scoringModel: Name,
  score: z.number(),
  maxScore: z.number(),
  /** The same score with every waiver ignored. */
  scoreWithoutWaivers: z.number(),
  compliant: z.boolean(),
  counts: z.strictObject({
    pass: z.number().int().nonnegative(),
    fail: z.number().int().nonnegative(),
    error: z.number().int().nonnegative(),
    notapplicable: z.number().int().nonnegative(),
    notchecked: z.number().int().nonnegative(),
    waived: z.number().int().nonnegative(),
  }),
  results: z.array(RuleResult).max(2048),
  snapshotEventId: Name,
  drift: z
    .strictObject({
      previousScore: z.number().optional(),
      newlyFailing: z.array(Name).default([]),
      newlyPassing: z.array(Name).default([]),
    })
    .optional(),
  /** HyTrust-style gate: an untrusted host is never reported compliant. */
  trustGate: z.strictObject({ applied: z.boolean(), trustStatus: TrustStatus }),
});

// ---- alert (derived) ---------------------------------------------------------------------

export const Alert = z.strictObject({
  rule: Name,
  title: Text,
  relatedEventIds: z.array(Name).min(1).max(1024),
  details: Tags.default({}),
});
