/**
 * The processor and its two stages on one partition each, in memory, for unit tests of what
 * they decide together: each event is processed at the next offset, what the processor forwards
 * goes to the by-user and by-workload logic, and the processor's progress follows every event
 * (as it follows every transaction in the service).
 */
import type { CanonicalEvent, EventOf } from '../../src/model/events.js';
import { emptyPartitionState, processEvent, type ComplianceSettings, type LocateWorkload } from '../../src/processor/logic.js';
import type { ProcessorRules, UserState } from '../../src/processor/state.js';
import { byUserKey, recordUserAttempt } from '../../src/processor/users.js';
import { applyPlacement, applyProgress, applyUntrusted, emptyWorkloadPartition, type WorkloadPartition } from '../../src/processor/workloads.js';

export interface InMemoryPipeline {
  /** Every output of the event: the processor's (enriched event, derived events, alerts), then the stages' alerts. */
  process(event: CanonicalEvent): CanonicalEvent[];
  workloads: WorkloadPartition;
}

export function inMemoryPipeline(rules: ProcessorRules, compliance?: ComplianceSettings): InMemoryPipeline {
  const state = emptyPartitionState();
  const users = new Map<string, UserState>();
  const workloads = emptyWorkloadPartition();
  const locate: LocateWorkload = (vmId) => {
    const hostId = workloads.vms.get(vmId)?.placements.at(-1)?.hostId;
    return hostId === undefined ? undefined : state.hosts.get(hostId);
  };
  let offset = 0n;
  return {
    workloads,
    process(event) {
      const at = offset++;
      const result = processEvent(event, state, rules, locate, compliance);
      const outputs: CanonicalEvent[] = [...result.outputs];
      const enriched = result.outputs[0];
      if (enriched?.type === 'admin.action' && byUserKey(enriched) !== undefined) outputs.push(...recordUserAttempt(enriched, users, rules).alerts);
      const from = { partition: 0, offset: at.toString() };
      if (result.forward?.kind === 'placement' && enriched?.type === 'policy.decision') outputs.push(...applyPlacement(workloads, enriched, from, rules).alerts);
      if (result.forward?.kind === 'untrusted' && enriched?.type === 'trust.change') {
        outputs.push(...applyUntrusted(workloads, { event: enriched as EventOf<'trust.change'>, from: { partition: 0, offset: at }, cut: [offset], previous: result.forward.previous }).alerts);
      }
      outputs.push(...applyProgress(workloads, 0, offset).alerts);
      return outputs;
    },
  };
}
