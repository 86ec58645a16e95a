/**
 * Indexer acknowledgment for one HEC endpoint and request channel. HEC answers a query for an
 * ackId `true` once — the read consumes it — so one poller per endpoint asks for every pending
 * ackId in one request and hands each `true` to the send waiting for it. Two sends polling on
 * their own could each consume the other's acknowledgment, and a resent batch would follow.
 */
import type { Logger } from '../../src/log.js';
import type { HecEndpoint } from './client.js';

export type AckOutcome = 'indexed' | 'timeout' | 'aborted' | 'stopped';

interface Waiter {
  settle(outcome: AckOutcome): void;
  /** Its time ran out while a query asking for it was under way: settled by that query's answer. */
  expired: boolean;
}

export class AckPoller {
  readonly #waiting = new Map<number, Waiter>();
  readonly #stop = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #querying = false;
  /** The ackIds of the query under way. */
  #asking = new Set<number>();
  #lastFailure: string | undefined;

  constructor(
    private readonly endpoint: HecEndpoint,
    private readonly pollMs: number,
    /** How long one acknowledgment query may take before the next one is tried. */
    private readonly queryTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Resolves once `ackId` is indexed, or when `timeoutMs` passes, `signal` aborts or the poller
   * stops. A timeout that comes while a query asking for the ackId is under way waits for its
   * answer: a `true` read is never thrown away, since HEC will not say it again.
   */
  wait(ackId: number, timeoutMs: number, signal: AbortSignal): Promise<AckOutcome> {
    if (this.#stop.signal.aborted) return Promise.resolve('stopped');
    if (signal.aborted) return Promise.resolve('aborted');
    // The same ackId again on this channel: HEC restarted and counts from 0 again; the old one is lost.
    this.#waiting.get(ackId)?.settle('timeout');
    return new Promise((resolve) => {
      const waiter: Waiter = { settle: (outcome) => settle(outcome), expired: false };
      const timer = setTimeout(() => {
        if (this.#asking.has(ackId)) waiter.expired = true;
        else settle('timeout');
      }, timeoutMs);
      const onAbort = () => settle('aborted');
      const settle = (outcome: AckOutcome) => {
        if (this.#waiting.get(ackId) === waiter) this.#waiting.delete(ackId);
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.set(ackId, waiter);
      this.#schedule();
    });
  }

  /** Ends polling; every send still waiting answers retry. */
  stop(): void {
    this.#stop.abort();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const waiter of [...this.#waiting.values()]) waiter.settle('stopped');
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#querying || this.#waiting.size === 0 || this.#stop.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#query();
    }, this.pollMs);
  }

  async #query(): Promise<void> {
    const ackIds = [...this.#waiting.keys()];
    if (ackIds.length === 0) return;
    this.#querying = true;
    this.#asking = new Set(ackIds);
    try {
      const acks = await this.endpoint.queryAcks(ackIds, AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.queryTimeoutMs)]));
      if (this.#lastFailure !== undefined) this.logger.info({ url: this.endpoint.shown }, 'HEC acknowledgment queries answer again');
      this.#lastFailure = undefined;
      for (const ackId of ackIds) {
        if (acks.get(ackId) !== true) continue;
        const waiter = this.#waiting.get(ackId);
        // Read once: this true will never be answered again. A send that gave up on it resent its batch already.
        if (waiter === undefined) this.logger.debug({ url: this.endpoint.shown, ackId }, 'acknowledgment came after its send gave up (the batch was resent)');
        else waiter.settle('indexed');
      }
    } catch (error) {
      const message = (error as Error).message;
      if (!this.#stop.signal.aborted && message !== this.#lastFailure) this.logger.warn({ url: this.endpoint.shown, error: message }, 'HEC acknowledgment query failed; asking again');
      this.#lastFailure = message;
    } finally {
      this.#querying = false;
      this.#asking = new Set();
      for (const ackId of ackIds) {
        const waiter = this.#waiting.get(ackId);
        if (waiter?.expired) waiter.settle('timeout');
      }
      this.#schedule();
    }
  }
}
