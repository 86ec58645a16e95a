/**
 * The one place that knows the Kafka client library. Everything else in trustwire talks to
 * Kafka through src/kafka, so replacing kafkajs (unmaintained upstream) is this folder's work.
 */
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import { readFileSync } from 'node:fs';
import type { KafkaSettings } from '../config/schema.js';
import type { Logger } from '../log.js';

export type KafkaClient = Kafka;

/** Connection options: the configured brokers, TLS and SASL. */
export type KafkaConnection = Pick<KafkaSettings, 'brokers' | 'clientId' | 'ssl' | 'sasl'>;

export function createKafkaClient(connection: KafkaConnection, logger: Logger): KafkaClient {
  const config: KafkaConfig = {
    clientId: connection.clientId,
    brokers: connection.brokers,
    logLevel: logLevel.INFO,
    logCreator: () => (entry) => forwardLog(logger, entry),
    retry: { initialRetryTime: 100, retries: 8 },
    connectionTimeout: 3000,
  };
  if (connection.ssl) {
    config.ssl = {
      rejectUnauthorized: connection.ssl.rejectUnauthorized,
      ...(connection.ssl.ca !== undefined && { ca: [readFileSync(connection.ssl.ca, 'utf8')] }),
    };
  }
  if (connection.sasl) {
    const { mechanism, username, password } = connection.sasl;
    config.sasl = { mechanism, username, password: password.reveal() } as SASLOptions;
  }
  return new Kafka(config);
}

// kafkajs logs every retriable error response (a coordinator still loading, a transaction
// being fenced in) at ERROR although it retries them; the caller reports what finally fails.
const RETRIED_RESPONSE = /^Response /;
// A bounded retry is our choice (see producer.ts), not a mistake to warn about at every start.
const CHOSEN = /^Limiting retries for the idempotent producer/;

function forwardLog(logger: Logger, { level, log }: LogEntry): void {
  const { message, timestamp: _timestamp, logger: _name, ...fields } = log;
  const context = { kafka: fields };
  if (CHOSEN.test(message)) return logger.debug(context, message);
  if (level === logLevel.ERROR && !RETRIED_RESPONSE.test(message)) logger.error(context, message);
  else if (level === logLevel.ERROR || level === logLevel.WARN) logger.warn(context, message);
  else if (level === logLevel.INFO) logger.debug(context, message);
  else logger.trace(context, message);
}
