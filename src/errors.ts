/**
 * The one error base of trustwire: every error class in src/ and connectors/ derives from it.
 * It says whether the same work may succeed later (`retriable`) and where it happened
 * (`context`: the component, the stage, the attempt), which the runtime fills in as the error
 * moves up. Base layer: imports nothing but node built-ins (here, none).
 */

/** Where an error happened: a connector instance or stage (`component`), its step (`stage`: decode, send), the try. */
export interface ErrorContext {
  component?: string;
  stage?: string;
  attempt?: number;
}

export interface TrustwireErrorOptions {
  cause?: unknown;
  /** True when the same work may succeed later (network, busy, 5xx); default false. */
  retriable?: boolean;
  context?: ErrorContext;
}

export class TrustwireError extends Error {
  override name = 'TrustwireError';
  /** True when the same work may succeed later (network, busy, 5xx); false for a rejection, a bad input, a setting. */
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(message: string, options: TrustwireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retriable = options.retriable ?? false;
    this.context = { ...options.context };
  }

  /** Adds to the context (what is known further up: the component, the stage, the attempt); returns the error. */
  within(context: ErrorContext): this {
    Object.assign(this.context, context);
    return this;
  }
}

/** Whether an error says the work may succeed later: a TrustwireError's `retriable`, or any error's own `retriable: true`. */
export function isRetriable(error: unknown): boolean {
  return (error as { retriable?: unknown } | null)?.retriable === true;
}

/** A request or connection failed before an answer came (refused, reset, TLS, aborted): retriable. The message names the peer, never a credential. */
export class TransportError extends TrustwireError {
  override name = 'TransportError';
  constructor(message: string, options: TrustwireErrorOptions = {}) {
    super(message, { retriable: true, ...options });
  }
}
