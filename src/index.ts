/** trustwire as a library: the producer API and the event contract, for collectors in TypeScript. */
export { createProducer, type ProducerOptions, type TrustwireProducer } from './ingest/producer.js';
export { adapt, ADAPTER_NAMES, type AdapterName, type AdapterSettings } from './ingest/adapters/registry.js';
export { decodeEvent, encodeEvent } from './model/avro.js';
export * from './model/index.js';
