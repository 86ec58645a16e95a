/**
 * What a connector author imports (`trustwire/connector` once the package exports it): the
 * contract, secret options, and the event types. The conformance kit is `src/runtime/kit.ts`.
 */
export {
  defineConnector,
  SendError,
  type ConnectorDefinition,
  type KafkaAccess,
  type SendResult,
  type SinkConnector,
  type SinkContext,
} from './runtime/contract.js';
export { Secret, secretOption } from './config/secret.js';
export { encodeEvent } from './model/avro.js';
export type { CanonicalEvent, EventType } from './model/events.js';
/** The zod trustwire uses: build a configSchema with it, so secretOption() and the docs generator see one zod. */
export { z } from 'zod';
