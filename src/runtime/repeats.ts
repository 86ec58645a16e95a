/**
 * Saying a standing problem once: a refused token, a retry that fails the same way at every
 * attempt. Each topic (`refused`, `send`, a connector's own) holds the problem last said; the same problem again
 * goes to debug, a different one is said again, and the first success after it says so once.
 * The runner says its retries through RetryLog; a connector takes a RepeatLog for its own topics
 * (a setting the sink disagrees with).
 */
import type { Logger } from '../log.js';
import { SinkRefused } from './contract.js';

type Level = 'info' | 'warn' | 'error';

export class RepeatLog {
  readonly #said = new Map<string, string>();
  readonly #logger: () => Logger;

  /** `logger` may be a function, for a connector whose logger comes at start. */
  constructor(logger: Logger | (() => Logger)) {
    this.#logger = typeof logger === 'function' ? logger : () => logger;
  }

  /** Says `message` at `level` unless the topic's current problem is already `key`; true when it was said. */
  problem(topic: string, key: string, level: Level, fields: Record<string, unknown>, message: string): boolean {
    if (this.#said.get(topic) === key) {
      this.#logger().debug({ ...fields, repeated: true }, message);
      return false;
    }
    this.#said.set(topic, key);
    this.#logger()[level](fields, message);
    return true;
  }

  /** Whether the topic has a problem said and not yet resolved. */
  has(topic: string): boolean {
    return this.#said.has(topic);
  }

  /** The topic's problem is over: `message` (if any) is said at info once, and the next problem is said again. */
  resolved(topic: string, fields: Record<string, unknown> = {}, message?: string): boolean {
    if (!this.#said.delete(topic)) return false;
    if (message !== undefined) this.#logger().info(fields, message);
    return true;
  }
}

/**
 * The runner's retries, each standing failure said once: a refusal of trustwire itself
 * (SinkRefused: a token, a password, a permission) at error level, as an operator must act;
 * any other failure at warn. The first delivery after them says so once.
 */
export class RetryLog {
  readonly #repeats: RepeatLog;
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#repeats = new RepeatLog(logger);
  }

  /**
   * `message`: the error's message, already scrubbed. A refusal has a topic of its own, so the
   * other failures that come between its attempts (every endpoint left out meanwhile) do not
   * make it said again.
   */
  failed(error: Error, message: string, fields: Record<string, unknown>): void {
    const key = `${error.name}: ${message}`;
    if (error instanceof SinkRefused) this.#repeats.problem('refused', key, 'error', { ...fields, error: message }, 'the sink refuses trustwire: batches are held and retried until that is fixed');
    else this.#repeats.problem('send', key, 'warn', { ...fields, error: message }, 'send failed; retrying');
  }

  delivered(events: number): void {
    const over = [this.#repeats.resolved('refused'), this.#repeats.resolved('send')];
    if (over.some(Boolean)) this.#logger.info({ events }, 'sends succeed again');
  }
}
