import { z } from 'zod';
import { EVENT_TYPES } from '../model/events.js';

/**
 * The blocks every connector's configuration shares, under the same keys, so an operator
 * learns them once: which events (route), how many at a time (batch), how hard to try (retry).
 */
export const RouteSettings = z
  .strictObject({
    types: z.array(z.enum(EVENT_TYPES as [string, ...string[]])).optional().describe('event types this sink takes; absent: all'),
    minSeverity: z.number().int().min(0).max(10).default(0).describe('events below this severity are skipped'),
    match: z
      .record(z.string(), z.string())
      .default({})
      .describe('field path → value every taken event must have, e.g. {"host.pool": "tcp-gold-fra1"}'),
  })
  .prefault({});

export const BatchSettings = z
  .strictObject({
    maxEvents: z.number().int().min(1).max(100_000).default(500).describe('events in one send at most'),
    maxBytes: z.number().int().min(1024).default(1024 * 1024).describe('encoded bytes in one send at most (an estimate from the Avro size)'),
    lingerMs: z.number().int().min(0).max(60_000).default(200).describe('how long a fetch waits for more events before a small batch goes'),
  })
  .prefault({});

export const InFlightSettings = z
  .strictObject({
    maxBatches: z.number().int().min(1).max(256).default(8).describe('sends awaiting their acknowledgment at once; the next batch is built and sent meanwhile'),
    maxEvents: z.number().int().min(1).default(20_000).describe('events in those sends at most'),
    maxBytes: z.number().int().min(1024).default(16 * 1024 * 1024).describe("bytes in those sends at most (the records' size); when full, fetching pauses and the backlog waits in Kafka"),
  })
  .prefault({});

export const RetrySettings = z
  .strictObject({
    initialMs: z.number().int().min(1).default(200).describe('backoff before the second attempt'),
    maxMs: z.number().int().min(1).default(30_000).describe('the longest backoff'),
    multiplier: z.number().min(1).default(2).describe('each backoff is the previous one times this'),
    jitter: z.number().min(0).max(1).default(0.2).describe('± this fraction of each backoff, so restarted workers do not retry in step'),
    maxAttempts: z.number().int().min(0).default(0).describe('attempts before a transiently failing batch is dead-lettered; 0: retry forever'),
  })
  .prefault({});

export const ConnectorInstanceSettings = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lower-case letters, digits and dashes')
    .describe('instance name: consumer group <kafka.groupPrefix>-sink-<name>, metrics, DLQ headers'),
  type: z.string().min(1).optional().describe('a built-in connector (connectors/<type>)'),
  module: z.string().min(1).optional().describe('or a module path / installed package whose default export is a connector'),
  enabled: z.boolean().default(true).describe('false keeps the connector configured but not running'),
  route: RouteSettings.describe('which events this sink takes'),
  batch: BatchSettings.describe('how many events go in one send'),
  inFlight: InFlightSettings.describe('how much may be sent and not yet acknowledged (offsets are committed in order as sends complete)'),
  retry: RetrySettings.describe('how transient failures are retried'),
  timeoutMs: z.number().int().min(100).default(10_000).describe('one send attempt at most'),
  /** The connector's own options, validated by its configSchema when it is loaded. */
  options: z.record(z.string(), z.unknown()).default({}),
});
export type ConnectorInstanceSettings = z.infer<typeof ConnectorInstanceSettings>;

export const RuntimeSettings = z
  .strictObject({
    /** How long SIGTERM waits for in-flight batches before abandoning them (they are redelivered). */
    shutdownGraceMs: z.number().int().min(0).default(10_000),
    sessionTimeoutMs: z.number().int().min(6000).default(30_000),
    /**
     * How long a component may fail to reach Kafka before the process exits non-zero, for its
     * process manager to restart it. Meanwhile it retries with backoff and /readyz says why.
     */
    failureExitMs: z.number().int().min(1000).default(5 * 60_000),
  })
  .prefault({});
