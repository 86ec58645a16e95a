/**
 * The baseline: the Kafka client trustwire uses (@platformatic/kafka, through src/kafka's client
 * options and read_committed consumer), a fresh consumer group, one stream over all partitions
 * from the earliest offset, counting records as they come out of the stream and nothing else.
 * The clock runs from the first fetch request to the `count`th record.
 */
import { closeWithin, createKafkaClient } from '../../src/kafka/client.js';
import { silentLogger } from '../../src/log.js';
import { begin, firstFetchClock, main, now, send } from './ipc.js';
import { readFromEarliest, topicId } from './kafka.js';

main(async () => {
  const { brokers, topic, group, count } = await begin<{ brokers: string[]; topic: string; group: string; count: number }>();
  const client = createKafkaClient({ brokers, clientId: 'trustwire-bench' }, silentLogger);
  const clock = firstFetchClock(await topicId(client, topic));
  const { consumer, stream } = await readFromEarliest(client, topic, group, 'raw');
  let seen = 0;
  let first: number | undefined;
  stream.on('data', () => {
    seen++;
    if (seen === 1) first = now();
    if (seen === count) send({ type: 'reached', start: clock.at(), first, end: now() });
  });
  stream.on('error', (error: Error) => send({ type: 'error', message: error.message }));
  return async () => {
    await closeWithin(async () => {
      await stream.close().catch(() => {});
      await consumer.close(true);
    });
  };
});
