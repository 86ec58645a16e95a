/**
 * The processor stage (bench/children/processor.ts: startProcessor with transactions, as in
 * production) on the raw-events topic, into output topics of its own for each run. Done when N
 * enriched events of the input kinds are committed on its output, read read_committed by a
 * counter in another process. The clock runs from the processor's first fetch of the raw-events
 * topic (its take-over of the partitions runs meanwhile and counts) to the Nth committed event.
 * Compared with the raw client on the same raw-events topic in the same round (processorVsRaw).
 */
import { randomUUID } from 'node:crypto';
import { deleteTopics, ensureTopics } from '../../src/kafka/topics.js';
import { silentLogger } from '../../src/log.js';
import { RAW_KINDS } from '../data.js';
import { Child, stopAll } from '../procs.js';
import { deadlineMs, freshGroup, measured, type Scenario } from '../scenario.js';

export const processor: Scenario = {
  name: 'processor',
  label: 'trustwire processor (transactions), raw-events → enriched',
  modules: ['output-counter', 'processor'],
  async run(ctx, round) {
    const prefix = `bench.${ctx.run}.processor-${round + 1}-${randomUUID().slice(0, 4)}`;
    const topics = { events: ctx.topics.events, enriched: `${prefix}.enriched`, hostState: `${prefix}.host-state`, dlq: `${prefix}.dlq`, byUser: `${prefix}.by-user`, userState: `${prefix}.user-state`, byWorkload: `${prefix}.by-workload`, workloadState: `${prefix}.workload-state` };
    const own = [topics.enriched, topics.hostState, topics.dlq, topics.byUser, topics.byWorkload];
    for (const topic of own) ctx.extraTopics.add(topic);
    await ensureTopics(
      ctx.client,
      own.map((topic) => ({ topic, partitions: 6, replicationFactor: 1, ...(topic === topics.hostState && { config: { 'cleanup.policy': 'compact' } }) })),
      silentLogger,
    );
    let counter: Child | undefined;
    let worker: Child | undefined;
    try {
      // The processor starts once the counter is in its group.
      counter = ctx.children.take('enriched counter', 'output-counter');
      counter.begin({ brokers: ctx.brokers, topic: topics.enriched, group: freshGroup(ctx, 'counter'), count: ctx.events, kinds: RAW_KINDS });
      await counter.next('ready', 60_000);
      worker = ctx.children.take('processor', 'processor');
      worker.begin({ brokers: ctx.brokers, topics, group: freshGroup(ctx, 'processor') });
      const { at: start } = await worker.next<{ type: string; at: number }>('fetching', 60_000);
      const failure = worker.next('never', 24 * 3600_000);
      let clock: { first: number; end: number; records: number };
      try {
        clock = await Promise.race([counter.next<{ type: string; first: number; end: number; records: number }>('reached', deadlineMs(ctx)), failure as Promise<never>]);
      } catch (error) {
        counter.send({ type: 'count' });
        const progress = await counter.next<{ type: string; count: number }>('count', 5000).catch(() => undefined);
        throw new Error(`${(error as Error).message} (${progress?.count ?? '?'} of ${ctx.events} enriched events committed)`);
      }
      return measured(ctx.events, { start, first: clock.first, end: clock.end }, worker.peakRssMb(), { outputRecords: clock.records });
    } finally {
      await stopAll([worker, counter]);
      await deleteTopics(ctx.client, own).then(
        () => own.forEach((topic) => ctx.extraTopics.delete(topic)),
        () => {},
      );
    }
  },
};
