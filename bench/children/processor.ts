/**
 * The processor stage as production runs it (src/processor/worker.ts): its consumer group on
 * the raw-events topic, host state with its changelog, the bundled compliance templates, one
 * Kafka transaction per batch. Reports its first fetch of the raw-events topic (the clock's start).
 */
import { complianceSettings } from '../../src/config/compliance.js';
import { parseConfig } from '../../src/config/load.js';
import { createKafkaClient } from '../../src/kafka/client.js';
import { silentLogger } from '../../src/log.js';
import { ProcessorRules } from '../../src/processor/state.js';
import { startProcessor } from '../../src/processor/worker.js';
import { begin, firstFetchClock, main, send } from './ipc.js';
import { topicId } from './kafka.js';

main(async () => {
  const { brokers, topics, group } = await begin<{ brokers: string[]; topics: { events: string; enriched: string; hostState: string; dlq: string; byUser: string; userState: string; byWorkload: string; workloadState: string }; group: string }>();
  const client = createKafkaClient({ brokers, clientId: 'trustwire-bench' }, silentLogger);
  const clock = firstFetchClock(await topicId(client, topics.events));
  void clock.reached.then((at) => send({ type: 'fetching', at }));
  const compliance = complianceSettings(parseConfig('{}'));
  const processor = await startProcessor({
    client,
    topics,
    rules: ProcessorRules.parse({}),
    logger: silentLogger,
    groupId: group,
    compliance,
    onFatal: (error) => send({ type: 'error', message: `processor gave up: ${error.message}` }),
  });
  return async () => {
    send({ type: 'stats', stats: processor.stats });
    await processor.stop();
  };
});
