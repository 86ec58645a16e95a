import { createKafkaClient } from '../kafka/client.js';
import { readRecords } from '../kafka/reader.js';
import { silentLogger } from '../log.js';
import { decodeEvent } from '../model/avro.js';
import { CliError } from './errors.js';
import { clientConfig, parseOptions } from './options.js';

/** `trustwire tail`: a topic's events from the beginning, decoded, one JSON line each. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    topic: { type: 'string' },
    limit: { type: 'string', default: '100' },
    config: { type: 'string' },
    brokers: { type: 'string' },
  });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a positive whole number, got ${values.limit}`, 2);
  const config = clientConfig(values);
  const topic = values.topic ?? config.kafka.topics.events;
  const client = createKafkaClient({ ...config.kafka, clientId: `${config.kafka.clientId}-tail` }, silentLogger);
  const records = await readRecords(client, { topic, limit, idleMs: 2000 });
  for (const record of records) {
    try {
      const event = record.value === null ? null : decodeEvent(record.value);
      process.stdout.write(`${JSON.stringify({ partition: record.partition, offset: record.offset, key: record.key, event })}\n`);
    } catch (error) {
      process.stderr.write(`${topic}/${record.partition}@${record.offset}: cannot decode: ${(error as Error).message}\n`);
    }
  }
  process.stderr.write(`${records.length} record(s) from ${topic}\n`);
  return 0;
}
