/**
 * Saying a standing problem once: a refused token, a retry that fails the same way at every
 * attempt. Each topic (`credentials`, `send`) holds the problem last said; the same problem again
 * goes to debug, a different one is said again, and the first success after it says so once.
 * The runner uses it for its retries; a connector takes one from the runtime for its own topics.
 */
import type { Logger } from '../log.js';

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
