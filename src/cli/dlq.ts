import { configBaseDir, deadLetterSettings } from '../config/load.js';
import { describeDeadLetter, replayDeadLetters } from '../runtime/replay.js';
import { DLQ_HEADERS } from '../kafka/dead-letters.js';
import { createKafkaClient } from '../kafka/client.js';
import { createRecordProducer } from '../kafka/producer.js';
import { readRecords } from '../kafka/reader.js';
import { createLogger, silentLogger } from '../log.js';
import { Timestamp } from '../model/primitives.js';
import { CliError } from './errors.js';
import { clientConfig, parseOptions } from './options.js';

/**
 * `trustwire dlq list [--connector NAME] [--since TIME] [--limit N]`: what was dead-lettered, why.
 * `trustwire dlq replay --connector NAME [--since TIME]`: re-drive a connector's dead letters
 * through it again, after a fix; each dead letter is replayed once.
 */
export async function run(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseOptions(rest, {
    connector: { type: 'string' },
    since: { type: 'string' },
    limit: { type: 'string', default: '1000' },
    config: { type: 'string', default: process.env.TRUSTWIRE_CONFIG },
    brokers: { type: 'string' },
  });
  const since = values.since === undefined ? undefined : parseSince(values.since);
  const config = clientConfig(values);

  if (sub === 'list') {
    const limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new CliError(`--limit must be a positive whole number, got ${values.limit}`, 2);
    const client = createKafkaClient({ ...config.kafka, clientId: `${config.kafka.clientId}-dlq` }, silentLogger);
    const records = await readRecords(client, { topic: config.kafka.topics.dlq, limit: Number.MAX_SAFE_INTEGER, idleMs: 2000 });
    const shown = records
      .filter((record) => values.connector === undefined || record.headers[DLQ_HEADERS.component] === values.connector)
      .map(describeDeadLetter)
      .filter((letter) => since === undefined || Date.parse(letter.time) >= since)
      .slice(-limit);
    for (const letter of shown) process.stdout.write(`${JSON.stringify(letter)}\n`);
    process.stderr.write(`${shown.length} dead letter(s) in ${config.kafka.topics.dlq}\n`);
    return 0;
  }
  if (sub === 'replay') {
    if (values.connector === undefined) throw new CliError('replay needs --connector NAME', 2);
    const logger = createLogger(config.log.level, 2);
    const client = createKafkaClient({ ...config.kafka, clientId: `${config.kafka.clientId}-dlq` }, logger);
    const producer = await createRecordProducer(client);
    try {
      const report = await replayDeadLetters({
        settings: deadLetterSettings(config),
        baseDir: configBaseDir(config),
        connector: values.connector,
        ...(since !== undefined && { since }),
        client,
        producer,
        logger,
      });
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return report.deadLetteredAgain > 0 ? 1 : 0;
    } finally {
      await producer.disconnect();
    }
  }
  throw new CliError('usage: trustwire dlq list|replay [--connector NAME] [--since TIME]', 2);
}

function parseSince(text: string): number {
  const result = Timestamp.safeParse(/^\d+$/.test(text) ? Number(text) : text);
  if (!result.success) throw new CliError(`--since ${result.error.issues[0]?.message}`, 2);
  return result.data;
}
