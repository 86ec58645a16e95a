import { z } from 'zod';
import { AttestationFault, FlavorKind, RuleResultKind } from '../model/payloads.js';
import { EpochMillis, Labels, Name, Tags, TrustStatus } from '../model/primitives.js';

/**
 * What the processor knows of one host. Kept per input partition, written to the compacted
 * changelog `trustwire.host-state` (key = host id, JSON) in the same transaction as the events
 * it produced, and restored from there when a worker takes the partition over.
 */
export const HostState = z.strictObject({
  hostId: Name,
  name: Name.optional(),
  ip: Name.optional(),
  pool: Name.optional(),
  trust: z.strictObject({
    status: TrustStatus,
    /** When the host entered its current status (the event time of that trust.change). */
    since: EpochMillis.optional(),
    attestationService: Name.optional(),
    /** The faults of the last attestation, each with the flavor part it concerns. */
    faults: z.array(AttestationFault.extend({ flavor: FlavorKind })).default([]),
    /** Event times of the last trusted⇄untrusted changes, newest last, pruned to the flapping window. */
    recentChanges: z.array(EpochMillis).default([]),
    /** Time of the last flapping alert, so one burst of changes raises one alert (like UserState.alertedAt). */
    flappingAlertedAt: EpochMillis.optional(),
  }),
  assetTags: Tags.default({}),
  geolocation: z.strictObject({ country: Name.optional(), region: Name.optional(), site: Name.optional() }).optional(),
  compliance: z
    .strictObject({ templateId: Name, score: z.number(), maxScore: z.number(), compliant: z.boolean(), assessedAt: EpochMillis })
    .optional(),
  /** The last assessment against each template, as much as drift needs (rule results, score). */
  assessments: z
    .record(
      Name,
      z.strictObject({
        templateId: Name,
        scoringModel: Name,
        score: z.number(),
        compliant: z.boolean(),
        assessedAt: EpochMillis,
        results: z.array(z.strictObject({ ruleId: Name, result: RuleResultKind })),
      }),
    )
    .default({}),
  /** Id and time of the last event that changed this state. */
  lastEventId: Name,
  updatedAt: EpochMillis,
});
export type HostState = z.infer<typeof HostState>;

/**
 * Where a workload ran, as one permitted placement, migration or power-on put it there: the
 * by-workload stage keeps a VM's last few (src/processor/workloads.ts), in the order they were
 * made, each with where the processor read its decision (upstream partition and offset).
 */
export const Placement = z.strictObject({
  hostId: Name,
  hostName: Name.optional(),
  pool: Name.optional(),
  action: Name,
  decisionId: Name,
  /** The decision event's id. */
  eventId: Name,
  sourceHostId: Name.optional(),
  time: EpochMillis,
  ingestTime: EpochMillis,
  upstream: z.number().int().nonnegative(),
  offset: z.string().regex(/^\d+$/),
  name: Name.optional(),
  labels: Labels.default([]),
  requiredTags: Tags.default({}),
  /** The decision demanded a trusted host, or an earlier placement of the VM did: the VM carries that requirement. */
  carriesTrust: z.boolean(),
});
export type Placement = z.infer<typeof Placement>;

/** One VM's placements, oldest first; the last is where it runs (changelog `trustwire.workload-state`, key `vm:<id>`). */
export const WorkloadState = z.strictObject({
  vmId: Name,
  placements: z.array(Placement).min(1).max(16),
});
export type WorkloadState = z.infer<typeof WorkloadState>;

/** A workload as the hosts API shows it: where its last placement put it. */
export interface PlacedWorkload {
  id: string;
  name?: string;
  labels: string[];
  requiredTags: Record<string, string>;
  since: number;
  decisionId: string;
}

/** Denied or failed admin attempts of one user, fleet-wide (the by-user stage's changelog, key = user id). */
export const UserState = z.strictObject({
  userId: Name,
  /** Event times, ids and hosts of recent denied/failed attempts, fleet-wide, newest last, pruned to the window. */
  attempts: z.array(z.strictObject({ time: EpochMillis, eventId: Name, hostId: Name.optional() })).default([]),
  /** Time of the last repeated-denials alert raised for this user, so one burst raises one alert. */
  alertedAt: EpochMillis.optional(),
  /** Time of the last spraying alert, likewise. */
  sprayAlertedAt: EpochMillis.optional(),
});
export type UserState = z.infer<typeof UserState>;

/**
 * Ids of a host's last events, newest last (changelog key `seen:<host id>`). A collector that
 * retries after a lost answer (a 503 while Kafka was away, whose write landed after all) sends
 * the same ids again; the processor drops an id it has seen among these.
 */
export const SeenIds = z.array(Name).max(1000);
/** How many of a host's last event ids are remembered. */
export const SEEN_IDS_PER_HOST = 128;

/** Alert thresholds; the processor's section of the configuration. */
export const ProcessorRules = z.strictObject({
  sessionTimeoutMs: z
    .number()
    .int()
    .min(6000)
    .default(30_000)
    .describe('how long the group waits for a silent processor (a crashed one) before moving its partitions to the others'),
  deniedAttempts: z
    .strictObject({
      threshold: z.number().int().min(1).default(5).describe('denied or failed admin attempts by one user, fleet-wide, that raise an alert'),
      windowMs: z.number().int().min(1000).default(10 * 60_000),
    })
    .prefault({}),
  spraying: z
    .strictObject({
      distinctHosts: z.number().int().min(2).default(5).describe('distinct hosts on which one user was denied or failed that raise an alert'),
      windowMs: z.number().int().min(1000).default(10 * 60_000),
    })
    .prefault({})
    .describe('one user denied on many hosts within the window (spraying), counted fleet-wide'),
  trustedPools: z
    .array(Name)
    .default([])
    .describe('pools a sensitive workload that demands a trusted host must run in; empty: it must stay in the pool it was placed in'),
  flapping: z
    .strictObject({
      threshold: z.number().int().min(2).default(4).describe('trusted⇄untrusted changes of one host that raise an alert'),
      windowMs: z.number().int().min(1000).default(60 * 60_000),
    })
    .prefault({}),
});
export type ProcessorRules = z.infer<typeof ProcessorRules>;
