import { z } from 'zod';
import { AdminAction, Alert, ComplianceAssessment, ConfigSnapshot, PolicyDecision, TrustChange } from './payloads.js';
import { EpochMillis, EventId, IpAddress, Name, Severity, Tags, Timestamp, TrustStatus } from './primitives.js';
import { describeValue } from './validation.js';

/** The system that reported the event (CEF's device vendor / product / version). */
export const EventSource = z.strictObject({
  /** Role of the reporter: `attestation`, `policy-proxy`, `admin-gateway`, `config-collector`, ... */
  system: Name,
  vendor: Name,
  product: Name,
  version: Name.optional(),
});

/** The host the event concerns; its id is the Kafka key, so one host's events stay in order. */
export const HostIdentity = z.strictObject({
  id: Name,
  name: Name.optional(),
  ip: IpAddress.optional(),
  pool: Name.optional(),
});

/** Filled by the processor from the state of the event's host. */
export const Enrichment = z.strictObject({
  hostId: Name,
  trust: z.strictObject({
    status: TrustStatus,
    since: EpochMillis.optional(),
    attestationService: Name.optional(),
    faultCount: z.number().int().nonnegative().default(0),
  }),
  compliance: z
    .strictObject({
      templateId: Name,
      score: z.number(),
      maxScore: z.number(),
      compliant: z.boolean(),
      assessedAt: EpochMillis,
    })
    .optional(),
  assetTags: Tags.default({}),
  geolocation: z.strictObject({ country: Name.optional(), region: Name.optional(), site: Name.optional() }).optional(),
});

/** Every kind, with the payload it carries. The order is the Avro union's order. */
export const PAYLOADS = {
  'trust.change': TrustChange,
  'policy.decision': PolicyDecision,
  'admin.action': AdminAction,
  'config.snapshot': ConfigSnapshot,
  'compliance.assessment': ComplianceAssessment,
  alert: Alert,
} as const;
export type EventType = keyof typeof PAYLOADS;
export const EVENT_TYPES = Object.keys(PAYLOADS) as EventType[];

/** Kinds trustwire derives itself; they are never taken from outside. */
export const DERIVED_TYPES: readonly EventType[] = ['compliance.assessment', 'alert'];
export const INGESTIBLE_TYPES = EVENT_TYPES.filter((type) => !DERIVED_TYPES.includes(type));

const envelope = {
  id: EventId,
  time: Timestamp,
  ingestTime: Timestamp,
  source: EventSource,
  host: HostIdentity,
  severity: Severity,
  tenant: Name.optional(),
};

function variant<T extends EventType>(type: T) {
  return z.strictObject({ ...envelope, type: z.literal(type), payload: PAYLOADS[type], enrichment: Enrichment.optional() });
}

/**
 * A decision is about the host it places the workload on, and keyed by it: that host's state
 * lives in the partition of its id. A targetHost naming another host would split it in two.
 */
function keyedByTarget<S extends z.ZodType<{ host: { id: string }; payload: { targetHost?: { id: string } | undefined } }>>(schema: S): S {
  return schema.refine((event) => event.payload.targetHost === undefined || event.payload.targetHost.id === event.host.id, {
    path: ['payload', 'targetHost', 'id'],
    message: "must be the event's host.id: a decision is reported by (and keyed by) the host it places the workload on",
  }) as unknown as S;
}

/** A canonical event: what flows through Kafka after ingest, every field settled. */
export const CanonicalEvent = z.discriminatedUnion('type', [
  variant('trust.change'),
  keyedByTarget(variant('policy.decision')),
  variant('admin.action'),
  variant('config.snapshot'),
  variant('compliance.assessment'),
  variant('alert'),
]);
export type CanonicalEvent = z.infer<typeof CanonicalEvent>;
export type EventOf<T extends EventType> = Extract<CanonicalEvent, { type: T }>;

function ingestVariant<T extends EventType>(type: T) {
  // id and ingestTime are assigned at ingest when absent; enrichment is the processor's alone.
  return variant(type).omit({ enrichment: true }).extend({ id: EventId.optional(), ingestTime: Timestamp.optional() });
}

/** What a reporter may send: the source kinds only, id and ingestTime optional. */
export const IngestEvent = z.discriminatedUnion(
  'type',
  [ingestVariant('trust.change'), keyedByTarget(ingestVariant('policy.decision')), ingestVariant('admin.action'), ingestVariant('config.snapshot')],
  {
    error: (issue) => {
      if (typeof issue.input !== 'object' || issue.input === null || Array.isArray(issue.input)) return `an event must be a JSON object, got ${describeValue(issue.input)}`;
      const type = (issue.input as { type?: unknown }).type;
      if (typeof type === 'string' && (DERIVED_TYPES as readonly string[]).includes(type)) {
        return `${type} is derived by trustwire and cannot be ingested`;
      }
      if (type === undefined) return `required: one of ${INGESTIBLE_TYPES.join(', ')}`;
      return `unknown event type ${describeValue(type)}: expected one of ${INGESTIBLE_TYPES.join(', ')}`;
    },
  },
);
/** What a caller writes (timestamps as ms or RFC 3339). */
export type IngestEventInput = z.input<typeof IngestEvent>;
export type IngestEvent = z.infer<typeof IngestEvent>;
