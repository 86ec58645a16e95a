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
  /** Per workload, the hosts whose state lists it and since when: `locate` without a scan of every host. */
  readonly #placements = new Map<string, Map<string, number>>();
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
    if (entry === null) this.#setHost(key.slice(HOST_KEY_PREFIX.length), undefined);
    else if (entry.kind === 'host') this.#setHost(entry.state.hostId, entry.state);
  }

  #setHost(hostId: string, state: HostState | undefined): void {
    for (const workload of this.#hosts.get(hostId)?.workloads ?? []) {
      const hosts = this.#placements.get(workload.id);
      hosts?.delete(hostId);
      if (hosts?.size === 0) this.#placements.delete(workload.id);
    }
    if (state === undefined) {
      this.#hosts.delete(hostId);
      return;
    }
    this.#hosts.set(hostId, state);
    for (const workload of state.workloads) {
      let hosts = this.#placements.get(workload.id);
      if (hosts === undefined) this.#placements.set(workload.id, (hosts = new Map()));
      hosts.set(hostId, workload.since);
    }
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
    let best: { hostId: string; since: number } | undefined;
    for (const [hostId, since] of this.#placements.get(workloadId) ?? []) {
      if (best === undefined || since > best.since) best = { hostId, since };
    }
    return best === undefined ? undefined : this.#hosts.get(best.hostId);
  };

  async stop(): Promise<void> {
    await this.#stop?.();
  }
}
