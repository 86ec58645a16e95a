import type { KafkaClient } from '../kafka/client.js';
import type { ComponentHealth } from '../kafka/health.js';
import { followTopic } from '../kafka/reader.js';
import type { Logger } from '../log.js';
import { decodeChangelog, HOST_KEY_PREFIX } from './changelog.js';
import type { HostState, PlacedWorkload, WorkloadState } from './state.js';
import { WorkloadState as WorkloadStateSchema } from './state.js';
import { vmOfStateKey } from './workloads.js';

/** A host as the API shows it: its state, and the workloads that run on it now. */
export type HostView = HostState & { workloads: PlacedWorkload[] };

/**
 * Every host's latest state and every VM's placement, fleet-wide, followed from the two
 * changelogs (read_committed): the processor's `trustwire.host-state` and the by-workload
 * stage's `trustwire.workload-state`. A VM is listed on the host its last placement put it on,
 * and nowhere else: that stage keeps each VM in one place, so a migration moves it from the
 * source to the target at once. The view serves the hosts API and tells the processor where a
 * VM runs. It trails the stages by the time a committed transaction takes to be read.
 */
export class HostStateView {
  readonly #hosts = new Map<string, HostState>();
  readonly #vms = new Map<string, WorkloadState>();
  /** Per host, the VMs whose last placement is on it. */
  readonly #onHost = new Map<string, Set<string>>();
  readonly #stops: Array<() => Promise<void>> = [];
  /** The health of the consumers that follow the two changelogs. */
  readonly health: ComponentHealth[] = [];

  static async start(client: KafkaClient, topics: { hostState: string; workloadState: string }, logger: Logger): Promise<HostStateView> {
    const view = new HostStateView();
    const follow = (topic: string, apply: (key: string, value: Buffer | null) => void, component: string) =>
      followTopic(
        client,
        topic,
        (record) => {
          try {
            apply(record.key ?? '', record.value);
          } catch (error) {
            logger.warn({ topic, partition: record.partition, offset: record.offset, error: (error as Error).message }, 'changelog record skipped');
          }
        },
        { component },
      );
    const hosts = await follow(topics.hostState, (key, value) => view.apply(key, value), 'host-state view');
    view.#stops.push(hosts.stop);
    view.health.push(hosts.health);
    try {
      const workloads = await follow(topics.workloadState, (key, value) => view.applyWorkload(key, value), 'workload-state view');
      view.#stops.push(workloads.stop);
      view.health.push(workloads.health);
    } catch (error) {
      await view.stop();
      throw error;
    }
    return view;
  }

  /** A record of the host-state changelog. */
  apply(key: string, value: Buffer | null): void {
    if (!key.startsWith(HOST_KEY_PREFIX)) return;
    const entry = decodeChangelog(key, value);
    if (entry === null) this.#hosts.delete(key.slice(HOST_KEY_PREFIX.length));
    else if (entry.kind === 'host') this.#hosts.set(entry.state.hostId, entry.state);
  }

  /** A record of the workload-state changelog. */
  applyWorkload(key: string, value: Buffer | null): void {
    const vmId = vmOfStateKey(key);
    if (vmId === undefined) return;
    const before = this.#vms.get(vmId)?.placements.at(-1)?.hostId;
    if (before !== undefined) this.#onHost.get(before)?.delete(vmId);
    if (value === null) {
      this.#vms.delete(vmId);
      return;
    }
    const vm = WorkloadStateSchema.parse(JSON.parse(value.toString('utf8')));
    this.#vms.set(vmId, vm);
    const hostId = vm.placements.at(-1)!.hostId;
    let vms = this.#onHost.get(hostId);
    if (vms === undefined) this.#onHost.set(hostId, (vms = new Set()));
    vms.add(vmId);
  }

  /** Every host, each with the workloads it runs. */
  hosts(): HostView[] {
    return [...this.#hosts.keys()].sort().map((id) => this.host(id)!);
  }

  /** A host's state, with the workloads whose last placement is on it. */
  host(id: string): HostView | undefined {
    const state = this.#hosts.get(id);
    if (state === undefined) return undefined;
    const workloads: PlacedWorkload[] = [...(this.#onHost.get(id) ?? [])].sort().map((vmId) => {
      const placement = this.#vms.get(vmId)!.placements.at(-1)!;
      return {
        id: vmId,
        ...(placement.name !== undefined && { name: placement.name }),
        labels: placement.labels,
        requiredTags: placement.requiredTags,
        since: placement.time,
        decisionId: placement.decisionId,
      };
    });
    return { ...state, workloads };
  }

  /** The host a workload was placed on last. */
  locate = (workloadId: string): HostState | undefined => {
    const hostId = this.#vms.get(workloadId)?.placements.at(-1)?.hostId;
    return hostId === undefined ? undefined : this.#hosts.get(hostId);
  };

  async stop(): Promise<void> {
    for (const stop of this.#stops.splice(0)) await stop();
  }
}
