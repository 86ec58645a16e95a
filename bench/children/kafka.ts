import { FetchIsolationLevels, MessagesStreamFallbackModes, MessagesStreamModes } from '@platformatic/kafka';
import { FETCH_MAX_BYTES, FETCH_PARTITION_MAX_BYTES, withAdmin, type KafkaClient } from '../../src/kafka/client.js';
import { ReadCommittedConsumer } from '../../src/kafka/read-committed.js';

/** A topic's id, for telling its fetches from others'. */
export async function topicId(client: KafkaClient, topic: string): Promise<string> {
  const metadata = await withAdmin(client, (admin) => admin.metadata({ topics: [topic] }));
  const id = metadata.topics.get(topic)?.id;
  if (id === undefined) throw new Error(`no metadata for topic ${topic}`);
  return id;
}

/**
 * A member of a fresh group reading `topic` from its earliest offset, read_committed, with the
 * fetch sizes of trustwire's consumers: the raw baseline and the processor's far end.
 */
export async function readFromEarliest(client: KafkaClient, topic: string, group: string, suffix: string, maxWaitTime?: number) {
  const consumer = new ReadCommittedConsumer({ ...client.options(suffix), groupId: group, autocommit: false, isolationLevel: FetchIsolationLevels.READ_COMMITTED });
  const joined = new Promise<void>((resolve) => consumer.once('consumer:group:join', () => resolve()));
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    autocommit: false,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    maxBytes: FETCH_MAX_BYTES,
    maxBytesPerPartition: FETCH_PARTITION_MAX_BYTES,
    ...(maxWaitTime !== undefined && { maxWaitTime }),
  });
  return { consumer, stream, joined };
}
