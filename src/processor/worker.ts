/**
 * The processor worker: consumes `trustwire.events` in the group `trustwire-processor`, keeps
 * each host's state, and writes enriched events, derived alerts, state changes and dead letters
 * in one Kafka transaction per fetched batch, together with the batch's input offset (the
 * exactly-once machinery is the stage's, src/processor/stage.ts; this file is what an event does).
 */
import { deadLetterRecord } from '../kafka/dead-letters.js';
import type { KafkaClient } from '../kafka/client.js';
import type { ComponentHealth } from '../kafka/health.js';
import type { IncomingRecord } from '../kafka/reader.js';
import type { TransactionalRecord } from '../kafka/transactional.js';
import { TYPE_HEADER, VALIDATED_HEADER } from '../kafka/event-headers.js';
import type { Logger } from '../log.js';
import { decodeEvent, encodeEvent } from '../model/avro.js';
import { CanonicalEvent } from '../model/events.js';
import { fieldErrors, ValidationError } from '../model/validation.js';
import { decodeChangelog, encodeState, HOST_KEY_PREFIX, hostKey, SEEN_KEY_PREFIX, seenKey } from './changelog.js';
import { OffsetReader } from '../kafka/offsets.js';
import { byUserKey } from './users.js';
import { placementRecord, progressRecords, untrustedRecords } from './workloads.js';
import { emptyPartitionState, processEvent, type ComplianceSettings, type LocateWorkload, type PartitionState } from './logic.js';
import { startStage, type StageLogic } from './stage.js';
import type { ProcessorRules } from './state.js';

/** The processor's consumer group for a group prefix (`kafka.groupPrefix`, default `trustwire`). */
export function processorGroup(prefix = 'trustwire'): string {
  return `${prefix}-processor`;
}

/** The topics the processor reads and writes (the configuration's `kafka.topics`). */
export interface ProcessorTopics {
  events: string;
  enriched: string;
  hostState: string;
  dlq: string;
  byUser: string;
  byWorkload: string;
}

export interface ProcessorOptions {
  client: KafkaClient;
  topics: ProcessorTopics;
  rules: ProcessorRules;
  logger: Logger;
  groupId?: string;
  /** Where a VM runs when its host is in another partition (the fleet-wide view). */
  locate?: LocateWorkload;
  /** Hardening templates and waivers config snapshots are scored with; absent: no scoring. */
  compliance?: ComplianceSettings;
  /** How long Kafka may fail the processor before `onFatal`. */
  failureExitMs?: number;
  onFatal?(error: Error): void;
}

export interface ProcessorStats {
  consumed: number;
  produced: number;
  deadLettered: number;
  /** Events dropped as resends of an id the host's state had seen. */
  duplicates: number;
  transactions: number;
  assigned: number[];
}

export interface RunningProcessor {
  stats: ProcessorStats;
  health: ComponentHealth;
  stop(): Promise<void>;
}

export async function startProcessor(options: ProcessorOptions): Promise<RunningProcessor> {
  const { client, topics, rules, logger } = options;
  const groupId = options.groupId ?? processorGroup();
  const log = logger.child({ component: 'processor', groupId });
  const counts = { deadLettered: 0, duplicates: 0 };
  // The by-workload stage hears of placements and untrusted hosts, and of every partition's progress.
  const offsets = new OffsetReader(client);
  let byWorkloadPartitions: number;
  try {
    byWorkloadPartitions = await offsets.partitionCount(topics.byWorkload);
  } catch (error) {
    await offsets.close();
    throw error;
  }
  /** Per partition, the events topic's end offsets read before its batch: the cut of the trust changes in it. */
  const cuts = new Map<number, bigint[]>();

  /** The processor's own part: what one event does to its partition's state, and what it produces. */
  const logic: StageLogic<PartitionState> = {
    empty: emptyPartitionState,
    restore(state, key, value) {
      const entry = decodeChangelog(key, value);
      // `user:` entries are from before users were counted fleet-wide (src/processor/users.ts): passed over.
      if (entry === null) {
        if (key.startsWith(SEEN_KEY_PREFIX)) state.seen.delete(key.slice(SEEN_KEY_PREFIX.length));
        else if (key.startsWith(HOST_KEY_PREFIX)) state.hosts.delete(key.slice(HOST_KEY_PREFIX.length));
      } else if (entry.kind === 'host') state.hosts.set(entry.state.hostId, entry.state);
      else if (entry.kind === 'seen') state.seen.set(entry.hostId, entry.ids);
    },
    process: processRecord,
    stateRecord,
    size: (state) => state.hosts.size,
    async prepare(records) {
      const partition = records[0]!.partition;
      // Only a trust change may need a cut (read after its records were fetched, so after they were written).
      if (records.some((record) => (record.headers[TYPE_HEADER] ?? 'trust.change') === 'trust.change')) cuts.set(partition, await offsets.endOffsets(topics.events));
      else cuts.delete(partition);
    },
    progress: (partition, next) => progressRecords(topics.byWorkload, byWorkloadPartitions, partition, next),
  };

  function processRecord(record: IncomingRecord, state: PartitionState, out: TransactionalRecord[], changed: Set<string>): void {
    const event = decodeRecord(record, out);
    if (event === undefined) return;
    let result;
    try {
      result = processEvent(event, state, rules, options.locate, options.compliance);
    } catch (error) {
      deadLetter(record, 'process', error as Error, out);
      return;
    }
    if (result.duplicate) {
      counts.duplicates++;
      log.debug({ partition: record.partition, offset: record.offset, eventId: event.id }, 'resent event dropped');
      return;
    }
    // All of an event's outputs, or none: an alert without the event it is about would mislead.
    let encoded: TransactionalRecord[];
    try {
      encoded = result.outputs.map((output) => ({
        topic: topics.enriched,
        key: output.host.id,
        value: encodeEvent(output),
        headers: { [TYPE_HEADER]: output.type },
      }));
    } catch (error) {
      deadLetter(record, 'encode', error as Error, out);
      encoded = [];
    }
    out.push(...encoded);
    // Detections about a user see the whole fleet: the enriched event goes to the by-user stage, keyed by the user.
    const userId = byUserKey(event);
    if (userId !== undefined && encoded.length > 0) out.push({ ...encoded[0]!, topic: topics.byUser, key: userId });
    // Where each VM runs is kept by VM id (src/processor/workloads.ts).
    if (result.forward !== undefined && encoded.length > 0) {
      const from = { partition: record.partition, offset: record.offset };
      const enriched = encoded[0]!.value!;
      if (result.forward.kind === 'placement' && event.type === 'policy.decision') out.push(placementRecord(topics.byWorkload, event, enriched, from));
      else if (result.forward.kind === 'untrusted' && event.type === 'trust.change') {
        out.push(...untrustedRecords(topics.byWorkload, byWorkloadPartitions, event, enriched, from, cuts.get(record.partition) ?? [], result.forward.previous));
      }
    }
    for (const key of result.changed) changed.add(key);
    changed.add(seenKey(event.host.id));
  }

  /** Decodes and holds the record to the contract; what fails goes to the DLQ with the reason. */
  function decodeRecord(record: IncomingRecord, out: TransactionalRecord[]): CanonicalEvent | undefined {
    if (record.value === null) {
      deadLetter(record, 'decode', new Error('record has no value'), out);
      return undefined;
    }
    let decoded: CanonicalEvent;
    try {
      decoded = decodeEvent(record.value);
    } catch (error) {
      deadLetter(record, 'decode', error as Error, out);
      return undefined;
    }
    // Avro holds the structure; the contract's finer rules (ranges, formats) are zod's, checked
    // at the door by ingest (the header says so) and here for what another producer wrote. A
    // writer that can forge the header can as well write to the enriched topic itself: Kafka's
    // ACLs, not this check, keep it out.
    if (record.headers[VALIDATED_HEADER] === '1') return decoded;
    const checked = CanonicalEvent.safeParse(decoded);
    if (!checked.success) {
      deadLetter(record, 'validate', new ValidationError('event breaks the contract', fieldErrors(checked.error)), out);
      return undefined;
    }
    return checked.data;
  }

  function deadLetter(record: IncomingRecord, stage: string, error: Error, out: TransactionalRecord[]): void {
    counts.deadLettered++;
    log.warn({ partition: record.partition, offset: record.offset, stage, error: error.message }, 'event dead-lettered');
    out.push({ topic: topics.dlq, ...deadLetterRecord(record, { component: 'processor', stage, error, attempts: 1 }) });
  }

  function stateRecord(key: string, state: PartitionState): { key: string; value: Buffer | null } {
    if (key.startsWith(SEEN_KEY_PREFIX)) {
      const ids = state.seen.get(key.slice(SEEN_KEY_PREFIX.length));
      return { key, value: ids ? encodeState(ids) : null };
    }
    const host = state.hosts.get(key);
    return { key: hostKey(key), value: host ? encodeState(host) : null };
  }

  const stage = await startStage({
    client,
    groupId,
    input: topics.events,
    changelog: topics.hostState,
    component: 'processor',
    logger,
    sessionTimeoutMs: rules.sessionTimeoutMs,
    ...(options.failureExitMs !== undefined && { failureExitMs: options.failureExitMs }),
    ...(options.onFatal !== undefined && { onFatal: options.onFatal }),
    logic,
  }).catch(async (error: unknown) => {
    await offsets.close();
    throw error;
  });
  return {
    get stats(): ProcessorStats {
      return { ...stage.stats, ...counts };
    },
    health: stage.health,
    async stop() {
      await stage.stop();
      await offsets.close();
    },
  };
}
