/**
 * The by-workload stage: where each VM runs, exactly, and the detections that need it. The
 * processor keeps its state by host, and a migration concerns two hosts in possibly two
 * partitions; so it forwards every permitted placement, migration and power-on to
 * `trustwire.by-workload`, keyed by the VM's id, and every host that becomes untrusted to every
 * partition of that topic. This stage consumes the topic in its own group, keeps each VM's last
 * placements in the compacted `trustwire.workload-state`, and raises
 * `trust.sensitive-workload-on-untrusted-host` and `placement.outside-trusted-pool` exactly once.
 *
 * A host's trust change and a VM's migration reach a partition of this topic from two processor
 * partitions, in either order. So the processor stamps a trust change with a cut: the events
 * topic's end offsets when it processed it, a point after every event a reporter had been told
 * was written. And each processor partition writes, in every transaction, how far it has got
 * (its progress) to every partition here. A trust change is judged once every processor
 * partition has got past its cut, against each VM's placement as of that cut: a migration
 * acknowledged before the host turned untrusted is always seen, whatever the partitions' pace
 * or a processor's crash. No clocks, no shared memory: Kafka's offsets and transactions.
 */
import type { KafkaClient } from '../kafka/client.js';
import type { IncomingRecord } from '../kafka/reader.js';
import type { TransactionalRecord } from '../kafka/transactional.js';
import { TYPE_HEADER } from '../kafka/event-headers.js';
import { deadLetterRecord } from '../kafka/dead-letters.js';
import type { Logger } from '../log.js';
import { decodeEvent, encodeEvent } from '../model/avro.js';
import type { CanonicalEvent, EventOf } from '../model/events.js';
import { outsideTrustedPoolAlert, SENSITIVE_LABEL, sensitiveWorkloadAlert, workloadAlertEvent, type JudgedWorkload } from './alerts.js';
import { startStage, type RunningStage } from './stage.js';
import { Placement, WorkloadState, type ProcessorRules } from './state.js';

export function byWorkloadGroup(prefix = 'trustwire'): string {
  return `${prefix}-by-workload`;
}

/** Where the processor read the event a record of the by-workload topic carries: `<partition>:<offset>`. */
export const FROM_HEADER = 'trustwire-from';
/** A trust change's cut: the events topic's end offsets, comma-separated by partition. */
export const CUT_HEADER = 'trustwire-cut';
/** The host's trust before the change, as the processor's state had it. */
export const PREVIOUS_HEADER = 'trustwire-previous';
/** The key of a processor partition's progress record (its value: `<partition>:<next offset>`). */
export const PROGRESS_KEY = '\u0000trustwire.progress';
export const PROGRESS_TYPE = 'trustwire.progress';

/** The actions that put a VM on their target host when permitted. */
export const PLACING_ACTIONS: ReadonlySet<string> = new Set(['vm.place', 'vm.migrate', 'vm.power_on']);
/** The moves the pool rule judges; a power-on starts a VM where it was placed before. */
const MOVES: ReadonlySet<string> = new Set(['vm.place', 'vm.migrate']);
/** A VM's placements kept: the last is where it runs; the others answer where it ran at a cut. */
const PLACEMENTS_KEPT = 8;
/** How long a trust change may wait for its cut before the stage says which processor partitions hold it back. */
const WAITING_WARN_MS = 60_000;

// ---- what the processor writes --------------------------------------------------------------

export interface Upstream {
  /** The processor's input partition, and the record's offset there. */
  partition: number;
  offset: string;
}

/** A permitted placement, migration or power-on, enriched, to the partition of its VM. */
export function placementRecord(topic: string, decision: EventOf<'policy.decision'>, value: Buffer, from: Upstream): TransactionalRecord {
  return { topic, key: decision.payload.resource.id, value, headers: { [TYPE_HEADER]: decision.type, [FROM_HEADER]: `${from.partition}:${from.offset}` } };
}

/** A host that became untrusted, enriched, to every partition: its VMs may live in any of them. */
export function untrustedRecords(topic: string, partitions: number, change: EventOf<'trust.change'>, value: Buffer, from: Upstream, cut: readonly bigint[], previous: string): TransactionalRecord[] {
  const headers = { [TYPE_HEADER]: change.type, [FROM_HEADER]: `${from.partition}:${from.offset}`, [CUT_HEADER]: cut.join(','), [PREVIOUS_HEADER]: previous };
  return Array.from({ length: partitions }, (_, partition) => ({ topic, partition, key: change.host.id, value, headers }));
}

/** A processor partition's progress, to every partition: everything before `next` of it is written. */
export function progressRecords(topic: string, partitions: number, upstream: number, next: bigint): TransactionalRecord[] {
  const value = Buffer.from(`${upstream}:${next}`);
  return Array.from({ length: partitions }, (_, partition) => ({ topic, partition, key: PROGRESS_KEY, value, headers: { [TYPE_HEADER]: PROGRESS_TYPE } }));
}

// ---- the state of one partition -----------------------------------------------------------

/** A trust change waiting for every processor partition to pass its cut. */
export interface PendingChange {
  event: EventOf<'trust.change'>;
  from: { partition: number; offset: bigint };
  cut: bigint[];
  previous: string;
}

export interface WorkloadPartition {
  vms: Map<string, WorkloadState>;
  /** Per processor partition, the next offset it will process (all before it is here). */
  progress: Map<number, bigint>;
  /** Trust changes not judged yet, by event id. */
  pending: Map<string, PendingChange>;
  /** Per host, the VMs with a kept placement on it; derived from `vms`. */
  onHost?: Map<string, Set<string>>;
}

export function emptyWorkloadPartition(): WorkloadPartition {
  return { vms: new Map(), progress: new Map(), pending: new Map() };
}

const VM_PREFIX = 'vm:';
const PROGRESS_PREFIX = 'progress:';
const PENDING_PREFIX = 'pending:';

/**
 * Which of two placements of a VM came first. Of one processor partition, its order is the
 * input's. Across partitions, ingest time (assigned on arrival, so a reporter's order shows in
 * it); in the same millisecond, a migration away from the other's host is the later one.
 */
export function placementOrder(a: Placement, b: Placement): number {
  if (a.upstream === b.upstream) return compareOffsets(a.offset, b.offset);
  if (a.ingestTime !== b.ingestTime) return a.ingestTime - b.ingestTime;
  if (b.sourceHostId === a.hostId && a.sourceHostId !== b.hostId) return -1;
  if (a.sourceHostId === b.hostId && b.sourceHostId !== a.hostId) return 1;
  if (a.time !== b.time) return a.time - b.time;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

function compareOffsets(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function onHost(state: WorkloadPartition): Map<string, Set<string>> {
  if (state.onHost === undefined) {
    state.onHost = new Map();
    for (const vm of state.vms.values()) indexVm(state.onHost, vm);
  }
  return state.onHost;
}

function indexVm(index: Map<string, Set<string>>, vm: WorkloadState): void {
  for (const placement of vm.placements) {
    let vms = index.get(placement.hostId);
    if (vms === undefined) index.set(placement.hostId, (vms = new Set()));
    vms.add(vm.vmId);
  }
}

function unindexVm(index: Map<string, Set<string>>, vm: WorkloadState): void {
  for (const placement of vm.placements) index.get(placement.hostId)?.delete(vm.vmId);
}

// ---- what a record does -----------------------------------------------------------------

export interface Outcome {
  alerts: EventOf<'alert'>[];
  /** Changelog keys changed. */
  changed: string[];
}

/**
 * Records a placement in its VM's history (a resend of a decision already kept changes
 * nothing) and, when it is the VM's newest, judges the pool rule. Then judges the trust changes
 * it may have been the last thing missing for: none, a placement carries no progress.
 */
export function applyPlacement(state: WorkloadPartition, decision: EventOf<'policy.decision'>, from: Upstream, rules: ProcessorRules): Outcome {
  const { resource } = decision.payload;
  const vm: WorkloadState | undefined = state.vms.get(resource.id);
  if (vm?.placements.some((placement) => placement.eventId === decision.id)) return { alerts: [], changed: [] };
  const placement: Placement = Placement.parse({
    hostId: decision.host.id,
    hostName: decision.host.name,
    pool: decision.host.pool,
    action: decision.payload.action,
    decisionId: decision.payload.decisionId,
    eventId: decision.id,
    sourceHostId: decision.payload.sourceHost?.id,
    time: decision.time,
    ingestTime: decision.ingestTime,
    upstream: from.partition,
    offset: from.offset,
    name: resource.name,
    labels: resource.labels,
    requiredTags: resource.requiredTags,
    carriesTrust: decision.payload.trustRequirement === 'trusted',
  });
  const index = onHost(state);
  const placements = [...(vm?.placements ?? []), placement].sort(placementOrder);
  const at = placements.indexOf(placement);
  const before = at > 0 ? placements[at - 1] : undefined;
  // The requirement sticks: a later decision that no longer demands trust does not lift it.
  if (before?.carriesTrust === true) placement.carriesTrust = true;
  const next: WorkloadState = { vmId: resource.id, placements: placements.slice(-PLACEMENTS_KEPT) };
  if (vm !== undefined) unindexVm(index, vm);
  state.vms.set(next.vmId, next);
  indexVm(index, next);

  const alerts: EventOf<'alert'>[] = [];
  const newest = at === placements.length - 1;
  if (newest && MOVES.has(placement.action) && placement.carriesTrust && placement.labels.includes(SENSITIVE_LABEL)) {
    const allowed = rules.trustedPools.length > 0 ? rules.trustedPools : before?.pool !== undefined ? [before.pool] : [];
    if (allowed.length > 0 && (placement.pool === undefined || !allowed.includes(placement.pool))) {
      const spec = outsideTrustedPoolAlert(decision, judged(resource.id, placement), { pool: before?.pool, hostId: before?.hostId }, allowed);
      alerts.push(workloadAlertEvent(decision, resource.id, spec));
    }
  }
  return { alerts, changed: [VM_PREFIX + resource.id] };
}

/** Holds a host's change to untrusted until every processor partition has passed its cut, then judges it. */
export function applyUntrusted(state: WorkloadPartition, change: PendingChange): Outcome {
  if (state.pending.has(change.event.id)) return { alerts: [], changed: [] };
  state.pending.set(change.event.id, change);
  return { ...judgeReady(state), changed: [PENDING_PREFIX + change.event.id] };
}

/** A processor partition's progress; the trust changes it completes are judged. */
export function applyProgress(state: WorkloadPartition, upstream: number, next: bigint): Outcome {
  const known = state.progress.get(upstream);
  if (known !== undefined && known >= next) return { alerts: [], changed: [] };
  state.progress.set(upstream, next);
  const judged = judgeReady(state);
  return { alerts: judged.alerts, changed: [PROGRESS_PREFIX + upstream, ...judged.changed] };
}

/** Whether everything before the cut of every processor partition is here. */
function complete(state: WorkloadPartition, change: PendingChange): boolean {
  return waitingFor(state, change).length === 0;
}

/** The processor partitions that have not yet passed a pending change's cut. */
export function waitingFor(state: WorkloadPartition, change: PendingChange): number[] {
  const behind: number[] = [];
  change.cut.forEach((end, partition) => {
    if ((state.progress.get(partition) ?? 0n) < (partition === change.from.partition ? change.from.offset + 1n : end)) behind.push(partition);
  });
  return behind;
}

/** Whether the processor had read a placement before the trust change's cut. */
function beforeCut(placement: Placement, change: PendingChange): boolean {
  const offset = BigInt(placement.offset);
  if (placement.upstream === change.from.partition) return offset < change.from.offset;
  return offset < (change.cut[placement.upstream] ?? 0n);
}

function judgeReady(state: WorkloadPartition): Outcome {
  const alerts: EventOf<'alert'>[] = [];
  const changed: string[] = [];
  for (const [id, change] of state.pending) {
    if (!complete(state, change)) continue;
    state.pending.delete(id);
    changed.push(PENDING_PREFIX + id);
    alerts.push(...judgeUntrusted(state, change));
  }
  return { alerts, changed };
}

/** One alert per sensitive VM that ran on the host as of the change's cut. */
function judgeUntrusted(state: WorkloadPartition, change: PendingChange): EventOf<'alert'>[] {
  const hostId = change.event.host.id;
  const alerts: EventOf<'alert'>[] = [];
  for (const vmId of [...(onHost(state).get(hostId) ?? [])].sort()) {
    const vm = state.vms.get(vmId);
    const there = vm?.placements.filter((placement) => beforeCut(placement, change)).at(-1);
    if (there === undefined || there.hostId !== hostId) continue;
    const spec = sensitiveWorkloadAlert(change.event, judged(vmId, there), change.previous);
    if (spec !== undefined) alerts.push(workloadAlertEvent(change.event, vmId, spec));
  }
  return alerts;
}

function judged(vmId: string, placement: Placement): JudgedWorkload {
  return { id: vmId, name: placement.name, labels: placement.labels, placedBy: placement.eventId };
}

// ---- the stage ----------------------------------------------------------------------------

/** The changelog record of a changed key of the partition's state. */
export function workloadStateRecord(key: string, state: WorkloadPartition): { key: string; value: Buffer | null } {
  if (key.startsWith(VM_PREFIX)) {
    const vm = state.vms.get(key.slice(VM_PREFIX.length));
    return { key, value: vm === undefined ? null : Buffer.from(JSON.stringify(vm)) };
  }
  if (key.startsWith(PROGRESS_PREFIX)) {
    const next = state.progress.get(Number(key.slice(PROGRESS_PREFIX.length)));
    return { key, value: next === undefined ? null : Buffer.from(next.toString()) };
  }
  const change = state.pending.get(key.slice(PENDING_PREFIX.length));
  if (change === undefined) return { key, value: null };
  return {
    key,
    value: Buffer.from(
      JSON.stringify({ event: encodeEvent(change.event).toString('base64'), from: `${change.from.partition}:${change.from.offset}`, cut: change.cut.join(','), previous: change.previous }),
    ),
  };
}

/** Applies a changelog record while restoring. */
export function restoreWorkloadState(state: WorkloadPartition, key: string, value: Buffer | null): void {
  delete state.onHost;
  if (key.startsWith(VM_PREFIX)) {
    const vmId = key.slice(VM_PREFIX.length);
    if (value === null) state.vms.delete(vmId);
    else state.vms.set(vmId, WorkloadState.parse(JSON.parse(value.toString('utf8'))));
  } else if (key.startsWith(PROGRESS_PREFIX)) {
    const upstream = Number(key.slice(PROGRESS_PREFIX.length));
    if (value === null) state.progress.delete(upstream);
    else state.progress.set(upstream, BigInt(value.toString('utf8')));
  } else if (key.startsWith(PENDING_PREFIX)) {
    const id = key.slice(PENDING_PREFIX.length);
    if (value === null) {
      state.pending.delete(id);
      return;
    }
    const json = JSON.parse(value.toString('utf8')) as { event: string; from: string; cut: string; previous: string };
    const event = decodeEvent(Buffer.from(json.event, 'base64'));
    if (event.type !== 'trust.change') throw new Error(`pending entry ${id} is a ${event.type}, not a trust.change`);
    state.pending.set(id, { event, from: parseFrom(json.from), cut: parseCut(json.cut), previous: json.previous });
  }
}

function parseFrom(text: string | undefined): { partition: number; offset: bigint } {
  const match = /^(\d+):(\d+)$/.exec(text ?? '');
  if (match === null) throw new Error(`${FROM_HEADER} ${JSON.stringify(text)} is not <partition>:<offset>`);
  return { partition: Number(match[1]), offset: BigInt(match[2]!) };
}

function parseCut(text: string | undefined): bigint[] {
  if (text === undefined || !/^\d+(,\d+)*$/.test(text)) throw new Error(`${CUT_HEADER} ${JSON.stringify(text)} is not a list of offsets`);
  return text.split(',').map((offset) => BigInt(offset));
}

/** What a record of the by-workload topic does to its partition's state. */
export function applyWorkloadRecord(state: WorkloadPartition, record: IncomingRecord, rules: ProcessorRules): Outcome {
  if (record.key === PROGRESS_KEY) {
    const { partition, offset } = parseFrom(record.value?.toString('utf8'));
    return applyProgress(state, partition, offset);
  }
  const event: CanonicalEvent = decodeEvent(record.value ?? Buffer.alloc(0));
  const from = parseFrom(record.headers[FROM_HEADER]);
  if (event.type === 'policy.decision') return applyPlacement(state, event, { partition: from.partition, offset: from.offset.toString() }, rules);
  if (event.type === 'trust.change') {
    return applyUntrusted(state, { event, from, cut: parseCut(record.headers[CUT_HEADER]), previous: record.headers[PREVIOUS_HEADER] ?? 'unknown' });
  }
  throw new Error(`a ${event.type} event has no place in the by-workload topic`);
}

export interface WorkloadStageOptions {
  client: KafkaClient;
  topics: { byWorkload: string; workloadState: string; enriched: string; dlq: string };
  rules: ProcessorRules;
  logger: Logger;
  groupId?: string;
  failureExitMs?: number;
  onFatal?(error: Error): void;
}

/** Runs the by-workload stage; more workers share its partitions through the group. */
export function startWorkloadStage(options: WorkloadStageOptions): Promise<RunningStage> {
  const { topics, rules } = options;
  const component = 'by-workload stage';
  const log = options.logger.child({ component });

  /** When this worker first saw each pending change, to say so when one waits long (a processor partition with no worker). */
  const pendingSince = new Map<string, number>();
  const warned = new Set<string>();

  function reportWaiting(state: WorkloadPartition, partition: number): void {
    const now = Date.now();
    // A broadcast change is pending in every partition under one id: tracked per partition.
    for (const [id, change] of state.pending) {
      const key = `${partition}:${id}`;
      const since = pendingSince.get(key) ?? now;
      pendingSince.set(key, since);
      if (now - since < WAITING_WARN_MS || warned.has(key)) continue;
      warned.add(key);
      log.warn(
        { partition, eventId: id, hostId: change.event.host.id, waitingMs: now - since, processorPartitions: waitingFor(state, change) },
        'a trust change waits for processor partitions that have not passed its cut: their worker is down or behind',
      );
    }
    for (const key of [...pendingSince.keys()]) {
      const [ofPartition, id] = [Number(key.slice(0, key.indexOf(':'))), key.slice(key.indexOf(':') + 1)];
      if (ofPartition === partition && !state.pending.has(id)) {
        pendingSince.delete(key);
        warned.delete(key);
      }
    }
  }

  function process(record: IncomingRecord, state: WorkloadPartition, out: TransactionalRecord[], changed: Set<string>): void {
    let outcome: Outcome;
    try {
      outcome = applyWorkloadRecord(state, record, rules);
    } catch (error) {
      // Only the processor writes this topic: a record that cannot be read is kept, with the reason, not lost.
      log.warn({ partition: record.partition, offset: record.offset, error: (error as Error).message }, 'record dead-lettered');
      out.push({ topic: topics.dlq, ...deadLetterRecord(record, { component, stage: 'decode', error: error as Error, attempts: 1 }) });
      return;
    }
    for (const key of outcome.changed) changed.add(key);
    for (const alert of outcome.alerts) out.push({ topic: topics.enriched, key: alert.host.id, value: encodeEvent(alert), headers: { [TYPE_HEADER]: alert.type } });
    if (record.key === PROGRESS_KEY && (state.pending.size > 0 || pendingSince.size > 0)) reportWaiting(state, record.partition);
  }

  return startStage<WorkloadPartition>({
    client: options.client,
    groupId: options.groupId ?? byWorkloadGroup(),
    input: topics.byWorkload,
    changelog: topics.workloadState,
    component,
    logger: options.logger,
    sessionTimeoutMs: rules.sessionTimeoutMs,
    ...(options.failureExitMs !== undefined && { failureExitMs: options.failureExitMs }),
    ...(options.onFatal !== undefined && { onFatal: options.onFatal }),
    logic: {
      empty: emptyWorkloadPartition,
      restore: restoreWorkloadState,
      process,
      stateRecord: workloadStateRecord,
      size: (state) => state.vms.size,
    },
  });
}

/** The VM id of a workload-state changelog key, or undefined for the stage's other entries. */
export function vmOfStateKey(key: string): string | undefined {
  return key.startsWith(VM_PREFIX) ? key.slice(VM_PREFIX.length) : undefined;
}
