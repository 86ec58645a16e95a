/**
 * The contract between the runtime and a sink connector. A connector holds only what is its
 * own — its options, how events become a request, and the I/O — and answers each batch with a
 * SendResult; consuming, routing, batching, retries, dead-lettering, offsets, metrics and
 * shutdown are the runtime's, the same for every connector.
 */
import type { z } from 'zod';
import { TransportError, TrustwireError, type ErrorContext } from '../errors.js';
import type { Logger } from '../log.js';
import type { CanonicalEvent } from '../model/events.js';

/** A failure of one send, or of one event in a partial result; `retriable` is true when the same send may succeed later (network, busy, 5xx). */
export class SendError extends TrustwireError {
  override name = 'SendError';
  constructor(message: string, retriable: boolean, options?: { cause?: unknown; context?: ErrorContext }) {
    super(message, { ...options, retriable });
  }
}

/**
 * The sink refuses trustwire itself (its credentials, its permissions, its setup): nothing gets
 * through until an operator fixes it. Retriable, so nothing is dead-lettered for it meanwhile;
 * the runner says it once at error level, and once when sends succeed again.
 */
export class SinkRefused extends SendError {
  override name = 'SinkRefused';
  constructor(message: string, options?: { cause?: unknown; context?: ErrorContext }) {
    super(message, true, options);
  }
}

/**
 * The error of a retry or permanent result: a TrustwireError (SendError) whose `retriable` agrees
 * with the kind. A plain Error is still taken from connectors written before the base existed;
 * the runtime reads retriable from the kind for those.
 */
export type SendFailure = TrustwireError | Error;

export type SendResult =
  /** Every event of the batch was accepted by the sink. */
  | { kind: 'ok' }
  /** Nothing was accepted, and a later attempt may work: the runtime backs off and resends. */
  | { kind: 'retry'; retryAfterMs?: number; error: SendFailure }
  /** Nothing was accepted, and resending will not help: the batch goes to the dead-letter topic. */
  | { kind: 'permanent'; error: SendFailure }
  /** Some events failed (by index in the batch); the others were accepted. Retriable ones are resent, the rest dead-lettered. */
  | { kind: 'partial'; failed: ReadonlyMap<number, SendError> };

/**
 * What became of each event of one send, and the SendResult that says it, for connectors whose
 * receiver answers event by event (RELP, HEC): nothing failed is ok; everything failed and
 * retriable is one retry; everything refused for the same reason is one permanent; anything
 * else is partial, each event with its own error.
 */
export class BatchOutcome {
  readonly #failed = new Map<number, SendError>();

  constructor(readonly size: number) {}

  fail(indexes: number | readonly number[], error: SendError): void {
    for (const index of typeof indexes === 'number' ? [indexes] : indexes) this.#failed.set(index, error);
  }

  /** `retryAfterMs`: how long until a retry may work (0: at once); `retryError`: what a whole retry says, when not the first event's error. */
  result(retryAfterMs = 0, retryError?: SendFailure): SendResult {
    if (this.#failed.size === 0) return { kind: 'ok' };
    if (this.#failed.size === this.size) {
      const errors = [...this.#failed.values()];
      const error = retryError ?? errors[0]!;
      if (errors.every((e) => e.retriable)) return retryAfterMs > 0 ? { kind: 'retry', retryAfterMs, error } : { kind: 'retry', error };
      if (errors.every((e) => e === errors[0])) return { kind: 'permanent', error: errors[0]! };
    }
    return { kind: 'partial', failed: new Map([...this.#failed].sort(([a], [b]) => a - b)) };
  }
}

/** Where a connector reaches Kafka, for the one connector that writes to it. */
export interface KafkaAccess {
  produce(topic: string, records: ReadonlyArray<{ key: string; value: Buffer; headers?: Record<string, string> }>): Promise<void>;
}

export interface SinkContext {
  /** The connector instance's name from the configuration: in logs, metrics and DLQ headers. */
  name: string;
  logger: Logger;
  kafka: KafkaAccess;
  /** The clock a connector's time decisions read (benches, windows); absent: `Date.now`. Tests pass one they move on. */
  now?: () => number;
}

export interface SinkConnector {
  /** Connects and checks the sink's health; a throw refuses the connector at start. */
  start(ctx: SinkContext): Promise<void>;
  /**
   * Delivers one batch; must settle soon after `signal` aborts (per-attempt timeout, shutdown).
   * Called again before earlier sends settled (up to `inFlight.maxBatches`, or the definition's
   * `maxInFlight`): a connector keeps what its sends share safe for that.
   */
  send(batch: readonly CanonicalEvent[], signal: AbortSignal): Promise<SendResult>;
  /** Flushes and closes. */
  stop(): Promise<void>;
}

export interface ConnectorDefinition<Schema extends z.ZodType = z.ZodType> {
  /** How the configuration names it: `type: syslog`. */
  type: string;
  /** One line for `GET /v1/connectors` and the docs. */
  summary: string;
  /** Its options: every field with a description, default and example; secrets via secretField. */
  configSchema: Schema;
  /** Sends it takes at once at most, for sinks whose effects must follow the events' order; default: `inFlight.maxBatches`. */
  maxInFlight?: number;
  /**
   * The waits inside one send attempt, by option name (HEC's `ackTimeoutMs`): the registry
   * refuses a configuration where one is not below the instance's `timeoutMs`, which would cut
   * the attempt before the wait could end it.
   */
  attemptWaits?(options: z.output<Schema>): Record<string, number>;
  create(options: z.output<Schema>): SinkConnector;
}

/** Declares a connector: the module's default export. */
export function defineConnector<Schema extends z.ZodType>(definition: ConnectorDefinition<Schema>): ConnectorDefinition<Schema> {
  return definition;
}

// A send must settle soon after its signal aborts: these two help a connector keep that.

/** Why a signal aborted, as text for an error message. */
export function abortReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : 'aborted';
}

/** Settles with `work`, or rejects with a TransportError as soon as `signal` aborts. */
export function abortable<T>(work: Promise<T>, signal: AbortSignal, what = 'send aborted'): Promise<T> {
  if (signal.aborted) return Promise.reject(new TransportError(what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new TransportError(what));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => (signal.removeEventListener('abort', onAbort), resolve(value)),
      (error: unknown) => (signal.removeEventListener('abort', onAbort), reject(error)),
    );
  });
}
