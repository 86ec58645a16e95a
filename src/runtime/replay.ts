import type { ConnectorInstanceSettings } from './settings.js';
import type { KafkaClient } from '../kafka/client.js';
import type { RecordProducer } from '../kafka/producer.js';
import { consumeUntilIdle, type IncomingRecord } from '../kafka/reader.js';
import type { Logger } from '../log.js';
import { deliver } from './deliver.js';
import { loadConnector } from './registry.js';
import { decodeValue } from '../model/avro.js';
import { deadLetterHeaders, DLQ_HEADERS } from '../kafka/dead-letters.js';
import { guardSecrets, Scrubber } from './scrub.js';

export interface DeadLetterSummary {
  partition: number;
  offset: string;
  time: string;
  component: string;
  stage: string;
  error: string;
  original: string;
  eventId?: string;
  eventType?: string;
}

/** What a dead-lettered record says of itself, for `trustwire dlq list`. */
export function describeDeadLetter(record: IncomingRecord): DeadLetterSummary {
  const h = record.headers;
  let event: { id?: string; type?: string } = {};
  try {
    event = decodeValue(record.value);
  } catch {
    // undecodable records are in the DLQ for that very reason
  }
  return {
    partition: record.partition,
    offset: record.offset,
    time: h[DLQ_HEADERS.time] ?? new Date(record.timestamp).toISOString(),
    component: h[DLQ_HEADERS.component] ?? '?',
    stage: h[DLQ_HEADERS.stage] ?? '?',
    error: `${h[DLQ_HEADERS.errorClass] ?? 'Error'}: ${h[DLQ_HEADERS.errorMessage] ?? ''}`,
    original: `${h[DLQ_HEADERS.topic]}/${h[DLQ_HEADERS.partition]}@${h[DLQ_HEADERS.offset]}`,
    ...(event.id !== undefined && { eventId: event.id }),
    ...(event.type !== undefined && { eventType: event.type }),
  };
}

export interface ReplayReport {
  replayed: number;
  delivered: number;
  deadLetteredAgain: number;
  /** Dead letters of other components, or older than --since. */
  passedOver: number;
}

/**
 * Re-drives one connector's dead letters through that connector alone (the other sinks never
 * see them again), with the runtime's retries. Progress is the consumer group
 * `trustwire-dlq-replay-<name>` on the DLQ: a dead letter replayed once is not replayed again.
 * What fails again goes back to the DLQ as a new dead letter with its attempts counted.
 */
/** Where dead letters are and which connectors may take them again (the configuration's). */
export interface DeadLetterSettings {
  connectors: readonly ConnectorInstanceSettings[];
  /** The dead-letter topic. */
  topic: string;
  /** Replay groups are `<groupPrefix>-dlq-replay-<connector>`. */
  groupPrefix: string;
}

export async function replayDeadLetters(options: {
  settings: DeadLetterSettings;
  baseDir: string;
  connector: string;
  since?: number;
  client: KafkaClient;
  producer: RecordProducer;
  logger: Logger;
}): Promise<ReplayReport> {
  const { client, producer, logger } = options;
  const { connectors, topic, groupPrefix } = options.settings;
  const index = connectors.findIndex((c) => c.name === options.connector);
  if (index < 0) throw new Error(`no connector named ${JSON.stringify(options.connector)} in the configuration`);
  const settings = connectors[index]!;
  const { definition, options: connectorOptions } = await loadConnector(settings, `connectors[${index}]`, options.baseDir);
  // As the runner runs it: its options' secrets kept out of its logs, errors and the dead letters written again.
  const connector = guardSecrets(definition.create(connectorOptions), Scrubber.of(connectorOptions));
  await connector.start({
    name: settings.name,
    logger,
    kafka: { produce: async (topic, records) => void (await producer.send(topic, records)) },
  });
  const report: ReplayReport = { replayed: 0, delivered: 0, deadLetteredAgain: 0, passedOver: 0 };
  try {
    await consumeUntilIdle(client, { topic, groupId: `${groupPrefix}-dlq-replay-${settings.name}` }, async (records) => {
      const mine = records.filter((record) => {
        const ours = record.headers[DLQ_HEADERS.component] === settings.name;
        const recent = options.since === undefined || Date.parse(record.headers[DLQ_HEADERS.time] ?? '') >= options.since;
        if (!(ours && recent)) report.passedOver++;
        return ours && recent;
      });
      const decodable = mine.flatMap((record) => {
        try {
          return [{ record, event: decodeValue(record.value) }];
        } catch {
          report.passedOver++; // undecodable: a replay cannot fix it; `dlq list` shows it
          return [];
        }
      });
      if (decodable.length === 0) return;
      const outcome = await deliver(
        connector,
        decodable.map((item) => item.event),
        { retry: { ...settings.retry, maxAttempts: settings.retry.maxAttempts || 5 }, timeoutMs: settings.timeoutMs, signal: new AbortController().signal, isStale: () => false },
      );
      if (outcome.kind === 'abandoned') throw new Error('replay abandoned');
      report.replayed += decodable.length;
      report.delivered += decodable.length - outcome.deadLetters.length;
      report.deadLetteredAgain += outcome.deadLetters.length;
      if (outcome.deadLetters.length > 0) {
        await producer.send(
          topic,
          outcome.deadLetters.map(({ index: i, error, attempts }) => {
            const { record } = decodable[i]!;
            const h = record.headers;
            return {
              key: record.key ?? '',
              value: record.value ?? Buffer.alloc(0),
              headers: deadLetterHeaders({
                original: { topic: h[DLQ_HEADERS.topic] ?? '?', partition: Number(h[DLQ_HEADERS.partition] ?? -1), offset: h[DLQ_HEADERS.offset] ?? '?' },
                component: settings.name,
                stage: 'replay',
                error,
                attempts: Number(h[DLQ_HEADERS.attempts] ?? 0) + attempts,
              }),
            };
          }),
        );
      }
    });
  } finally {
    await connector.stop();
  }
  return report;
}
