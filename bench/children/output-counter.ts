/**
 * The far end of the processor: the enriched topic read as the sinks read it (read_committed:
 * only what the processor's transactions committed), in a fresh consumer group from the earliest
 * offset, counting the records of the input kinds (by the `trustwire-type` header; alerts and
 * assessments the processor adds are events of their own).
 */
import { closeWithin, createKafkaClient } from '../../src/kafka/client.js';
import { silentLogger } from '../../src/log.js';
import { begin, main, now, on, send } from './ipc.js';
import { readFromEarliest } from './kafka.js';

main(async () => {
  const { brokers, topic, group, count, kinds } = await begin<{ brokers: string[]; topic: string; group: string; count: number; kinds: string[] }>();
  const client = createKafkaClient({ brokers, clientId: 'trustwire-bench' }, silentLogger);
  const { consumer, stream, joined } = await readFromEarliest(client, topic, group, 'counter', 100);
  const wanted = new Set(kinds);
  let counted = 0;
  let records = 0;
  let first: number | undefined;
  stream.on('data', (message) => {
    records++;
    first ??= now();
    let type: string | undefined;
    for (const [key, value] of message.headers) if (key.toString() === 'trustwire-type') type = value.toString();
    if (type === undefined || !wanted.has(type)) return;
    if (++counted === count) send({ type: 'reached', first, end: now(), records });
  });
  stream.on('error', (error: Error) => send({ type: 'error', message: error.message }));
  on('count', () => send({ type: 'count', count: counted, records }));
  await joined;
  send({ type: 'ready' });
  return async () => {
    await closeWithin(async () => {
      await stream.close().catch(() => {});
      await consumer.close(true);
    });
  };
});
