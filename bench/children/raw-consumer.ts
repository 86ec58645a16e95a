/**
 * The baseline: the Kafka client trustwire uses (@platformatic/kafka, through src/kafka's client
 * options and read_committed consumer), a fresh consumer group, one stream over all partitions
 * from the earliest offset, counting records as they come out of the stream and nothing else.
 * The clock runs from the first fetch request to the `count`th record.
 */
import { FetchIsolationLevels, MessagesStreamFallbackModes, MessagesStreamModes } from '@platformatic/kafka';
import { closeWithin, createKafkaClient, FETCH_MAX_BYTES, FETCH_PARTITION_MAX_BYTES } from '../../src/kafka/client.js';
import { ReadCommittedConsumer } from '../../src/kafka/read-committed.js';
import { silentLogger } from '../../src/log.js';
import { begin, firstFetchClock, main, now, send } from './ipc.js';
import { topicId } from './kafka.js';

main(async () => {
  const { brokers, topic, group, count } = await begin<{ brokers: string[]; topic: string; group: string; count: number }>();
  const client = createKafkaClient({ brokers, clientId: 'trustwire-bench' }, silentLogger);
  const clock = firstFetchClock(await topicId(client, topic));
  const consumer = new ReadCommittedConsumer({
    ...client.options('raw'),
    groupId: group,
    autocommit: false,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    autocommit: false,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    // The fetch sizes trustwire's consumers use, so that the baseline is the same client.
    maxBytes: FETCH_MAX_BYTES,
    maxBytesPerPartition: FETCH_PARTITION_MAX_BYTES,
  });
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
