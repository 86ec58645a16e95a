/**
 * A fleet's stream of events for load and fault tests: admin actions and trust changes over
 * many hosts, each with an id assigned here (so a resend after a 503 keeps it, and every id
 * can be counted at the other end of the pipeline).
 */
import { uuidv7 } from 'uuidv7';
import { partitionOfKey } from '../../src/kafka/producer.js';
import { ingestFixture } from './fixtures.js';

/** The kinds fleetEvent makes: the processor's outputs of other kinds (alerts) are its own events. */
export const FLEET_EVENT_KINDS: readonly string[] = ['admin.action', 'trust.change', 'policy.decision'];

const ADMIN = ingestFixture('admin.action') as { payload: Record<string, unknown> } & Record<string, unknown>;
const DECISION = ingestFixture('policy.decision') as { payload: Record<string, unknown> } & Record<string, unknown>;
const TRUST = ingestFixture('trust.change') as { payload: Record<string, unknown> & { flavors: Array<Record<string, unknown>> } } & Record<string, unknown>;
const BASE_TIME = 1_780_000_000_000;

export interface FleetEvent extends Record<string, unknown> {
  id: string;
}

/**
 * Event number `n` of a stream over `hosts` hosts (`<prefix>-0` ...), one host after another:
 * mostly successful admin actions on the host, every 50th one denied (three users take turns);
 * every 50th, 25 further on, a sensitive VM (of seven) migrated onto the host; every tenth round
 * of the fleet a trust change that flips the host between untrusted and trusted, so state,
 * enrichment and alerts (flapping, admin success on an untrusted host, repeated denials and
 * spraying across the fleet, sensitive workloads on a host turned untrusted) are part of the work.
 */
export function fleetEvent(n: number, hosts: number, prefix = 'host'): FleetEvent {
  const hostId = `${prefix}-${n % hosts}`;
  const round = Math.floor(n / hosts);
  const time = BASE_TIME + n;
  if (round % 10 === 9) {
    const trusted = Math.floor(round / 10) % 2 === 1;
    const { previousStatus: _previous, ...payload } = TRUST.payload;
    return {
      ...TRUST,
      id: uuidv7(),
      host: { id: hostId },
      time,
      payload: {
        ...payload,
        status: trusted ? 'trusted' : 'untrusted',
        flavors: trusted ? TRUST.payload.flavors.map((flavor) => ({ ...flavor, trusted: true, faults: [] })) : TRUST.payload.flavors,
      },
    };
  }
  if (n % 50 === 24) {
    // The VM moves on from wherever it ran: its placement is the by-workload stage's to keep.
    const vm = n % 7;
    return {
      ...DECISION,
      id: uuidv7(),
      host: { id: hostId },
      time,
      payload: {
        ...DECISION.payload,
        decisionId: `dec-${n}`,
        action: 'vm.migrate',
        resource: { type: 'vm', id: `${prefix}-vm-${vm}`, name: `${prefix}-vm-${vm}`, labels: ['sensitive'], requiredTags: {} },
        targetHost: { id: hostId },
      },
    };
  }
  const { error: _error, ...admin } = ADMIN.payload;
  // Every 50th event one of three users is denied, on whichever host is next: the by-user stage
  // counts them across every partition, and its alerts are part of the work too.
  const denied = n % 50 === 49;
  return {
    ...ADMIN,
    id: uuidv7(),
    host: { id: hostId },
    time,
    payload: {
      ...admin,
      ...(denied && { user: { id: `intruder-${Math.floor(n / 150) % 3}`, name: `intruder-${Math.floor(n / 150) % 3}` } }),
      outcome: denied ? 'denied' : 'success',
      target: { type: 'host', id: hostId },
      requestId: `req-${n}`,
    },
  };
}

/** Events `from` ... `from + count - 1` of the stream. */
export function fleetEvents(from: number, count: number, hosts: number, prefix?: string): FleetEvent[] {
  return Array.from({ length: count }, (_, i) => fleetEvent(from + i, hosts, prefix));
}

/** `count` host ids `<prefix>-<n>` whose events land on as many different partitions of a topic with `partitions`. */
export function hostsInDistinctPartitions(prefix: string, count: number, partitions: number): string[] {
  const byPartition = new Map<number, string>();
  for (let i = 0; byPartition.size < count; i++) {
    const host = `${prefix}-${i}`;
    const partition = partitionOfKey(host, partitions);
    if (!byPartition.has(partition)) byPartition.set(partition, host);
  }
  return [...byPartition.values()];
}
