import { defineConnector, type KafkaAccess, type SinkConnector } from '../../src/runtime/contract.js';
import { produceBatch } from './client.js';
import { KafkaSinkOptions } from './config.js';
import { encodeRecords } from './encode.js';

export default defineConnector({
  type: 'kafka',
  summary: 're-publishes events to a Kafka topic, Avro single-object or JSON, keyed by host id',
  configSchema: KafkaSinkOptions,
  create: (options): SinkConnector => {
    let kafka: KafkaAccess | undefined;
    return {
      async start(ctx) {
        kafka = ctx.kafka;
        ctx.logger.info({ topic: options.topic, format: options.format }, 'kafka sink ready');
      },
      send: async (batch, signal) => {
        if (kafka === undefined) throw new Error('send() before start()');
        return produceBatch(kafka, options.topic, encodeRecords(batch, options.format), signal);
      },
      // The producer is the runtime's: it flushes and closes it.
      async stop() {},
    };
  },
});
