import type { KafkaClient } from '../kafka/client.js';
import type { ComponentHealth } from '../kafka/health.js';
import { followTopic } from '../kafka/reader.js';
import type { Logger } from '../log.js';
import { decodeChangelog, HOST_KEY_PREFIX } from './changelog.js';
import type { HostState } from './state.js';

/**
 * Every host's latest state, fleet-wide, followed from the changelog (read_committed). It serves
 * the hosts API and tells the processor where a VM runs when its host is in another partition.
 * It trails the processors by the time a committed transaction takes to be read: eventually
 * consistent, unlike each processor's own partition state.
 */
export class HostStateView {
  readonly #hosts = new Map<string, HostState>();
  #stop: (() => Promise<void>) | undefined;
  /** The health of the consumer that follows the topic (absent before start). */
  health: ComponentHealth | undefined;

  static async start(client: KafkaClient, topic: string, logger: Logger): Promise<HostStateView> {
    const view = new HostStateView();
    const following = await followTopic(
      client,
      topic,
      (record) => {
        try {
          view.apply(record.key ?? '', record.value);
        } catch (error) {
          logger.warn({ topic, partition: record.partition, offset: record.offset, error: (error as Error).message }, 'changelog record skipped');
        }
      },
      { component: 'host-state view' },
    );
    view.#stop = following.stop;
    view.health = following.health;
    return view;
  }

  apply(key: string, value: Buffer | null): void {
    if (!key.startsWith(HOST_KEY_PREFIX)) return;
    const entry = decodeChangelog(key, value);
    if (entry === null) this.#hosts.delete(key.slice(HOST_KEY_PREFIX.length));
    else if (entry.kind === 'host') this.#hosts.set(entry.state.hostId, entry.state);
  }

  /** Every host, each with only the workloads it still runs (see `host`). */
  hosts(): HostState[] {
    return [...this.#hosts.keys()].sort().map((id) => this.host(id)!);
  }

  /**
   * A host's state. A VM that migrated to a host of another partition is still listed by its
   * old host's state (that partition saw no event about it): the newest placement wins.
   */
  host(id: string): HostState | undefined {
    const state = this.#hosts.get(id);
    if (state === undefined) return undefined;
    const workloads = state.workloads.filter((workload) => this.locate(workload.id)?.hostId === id);
    return workloads.length === state.workloads.length ? state : { ...state, workloads };
  }

  /** The host a workload was placed on last. */
  locate = (workloadId: string): HostState | undefined => {
    let best: { host: HostState; since: number } | undefined;
    for (const host of this.#hosts.values()) {
      const placed = host.workloads.find((workload) => workload.id === workloadId);
      if (placed && (best === undefined || placed.since > best.since)) best = { host, since: placed.since };
    }
    return best?.host;
  };

  async stop(): Promise<void> {
    await this.#stop?.();
  }
}
