import { withAdmin, type KafkaClient } from '../../src/kafka/client.js';

/** A topic's id, for telling its fetches from others'. */
export async function topicId(client: KafkaClient, topic: string): Promise<string> {
  const metadata = await withAdmin(client, (admin) => admin.metadata({ topics: [topic] }));
  const id = metadata.topics.get(topic)?.id;
  if (id === undefined) throw new Error(`no metadata for topic ${topic}`);
  return id;
}
