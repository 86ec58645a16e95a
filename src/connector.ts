/**
 * What a connector author imports (`trustwire/connector` once the package exports it): the
 * contract, the error base, secret options, the transport the built-in connectors use (the TLS,
 * HTTP and socket client settings blocks, the HTTP send and its sorting of answers, the socket
 * connection and its at-least-once writer, the endpoint pool, the scrubbing of secrets, saying
 * a repeat once), and the event types. The conformance kit is `src/kit/index.ts`.
 */
export {
  abortable,
  abortReason,
  BatchOutcome,
  defineConnector,
  SendError,
  SinkRefused,
  type ConnectorDefinition,
  type KafkaAccess,
  type SendFailure,
  type SendResult,
  type SinkConnector,
  type SinkContext,
} from './runtime/contract.js';
export { isRetriable, TransportError, TrustwireError, type ErrorContext, type TrustwireErrorOptions } from './errors.js';
export { tlsConnectionOptions, tlsSettings, type TlsSettings, type TlsSettingsText } from './runtime/tls.js';
export {
  classifyStatus,
  HttpClient,
  httpClientSettings,
  parseRetryAfter,
  resultOfExchange,
  resultOfStatus,
  shownUrl,
  snippetOf,
  type HttpAnswer,
  type HttpClientOptions,
  type HttpExchange,
  type HttpRequest,
  type ResultWording,
  type StatusClass,
} from './runtime/http.js';
export { DatagramSender, openSocket, socketClientSettings, StreamSender, type ConnectTarget, type StreamTarget } from './runtime/socket.js';
export { guardSecrets, Scrubber, secretsOfOptions } from './runtime/scrub.js';
export { RepeatLog } from './runtime/repeats.js';
export { Secret, secretOption } from './config/secret.js';
export { encodeEvent } from './model/avro.js';
export type { CanonicalEvent, EventType } from './model/events.js';
/** The zod trustwire uses: build a configSchema with it, so secretOption() and the docs generator see one zod. */
export { z } from 'zod';
