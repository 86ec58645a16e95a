/**
 * A connect worker as production runs one: a ConnectorRunner per sink (src/runtime/runner.ts),
 * each in its consumer group on the enriched topic, the built-in connector loaded and its
 * options checked as the service does (src/runtime/registry.ts), every setting at its default.
 * Reports the moment of its first fetch of the topic: the sinks' clock starts there.
 */
import { createKafkaClient } from '../../src/kafka/client.js';
import { createRecordProducer } from '../../src/kafka/producer.js';
import { silentLogger } from '../../src/log.js';
import { ConnectorMetrics } from '../../src/runtime/metrics.js';
import { loadConnector } from '../../src/runtime/registry.js';
import { ConnectorRunner } from '../../src/runtime/runner.js';
import { ConnectorInstanceSettings } from '../../src/runtime/settings.js';
import { begin, firstFetchClock, main, send } from './ipc.js';
import { topicId } from './kafka.js';

interface SinkSpec {
  name: string;
  type: string;
  options: Record<string, unknown>;
}

main(async () => {
  const { brokers, topic, dlq, groupPrefix, sinks } = await begin<{ brokers: string[]; topic: string; dlq: string; groupPrefix: string; sinks: SinkSpec[] }>();
  const client = createKafkaClient({ brokers, clientId: 'trustwire-bench' }, silentLogger);
  const clock = firstFetchClock(await topicId(client, topic));
  void clock.reached.then((at) => send({ type: 'fetching', at }));
  const producer = await createRecordProducer(client);
  const metrics = new ConnectorMetrics();
  const runners: ConnectorRunner[] = [];
  for (const [index, sink] of sinks.entries()) {
    const settings = ConnectorInstanceSettings.parse({ name: sink.name, type: sink.type, options: sink.options });
    const { definition, options } = await loadConnector(settings, `connectors[${index}]`, process.cwd());
    runners.push(new ConnectorRunner(settings, definition, options, { client, producer, topics: { enriched: topic, dlq }, metrics, logger: silentLogger, groupPrefix }));
  }
  await Promise.all(runners.map((runner) => runner.start()));
  send({ type: 'started' });
  return async () => {
    await Promise.all(runners.map((runner) => runner.stop(1000)));
    await producer.disconnect();
  };
});
