/**
 * The HEC endpoints of one connector: round robin across the healthy ones; one that failed is
 * benched (left out) for a while. When a bench for a failure ends, the endpoint's health check
 * must pass before a batch goes to it again; when a bench for a refusal (the token, the request
 * channel, the URL) ends, the next batch is the check (the health endpoint does not look at tokens).
 */
import type { Logger } from '../../src/log.js';
import type { HecEndpoint } from './client.js';

/** A failure is health-checked before the endpoint is used again; a refusal (token, channel, URL) is checked by the next batch. */
type BenchReason = 'failure' | 'refused';

interface Member {
  endpoint: HecEndpoint;
  /** Epoch ms until which it is left out; 0 when healthy. */
  benchedUntil: number;
  reason: BenchReason | undefined;
  /** A health check under way, shared by the sends that want the endpoint meanwhile. */
  probe: Promise<boolean> | undefined;
}

/** How long a health check may take. */
const HEALTH_TIMEOUT_MS = 5000;

export type Pick = { endpoint: HecEndpoint } | { waitMs: number };

export class EndpointPool {
  readonly #members: Member[];
  #next = 0;

  constructor(
    endpoints: readonly HecEndpoint[],
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.#members = endpoints.map((endpoint) => ({ endpoint, benchedUntil: 0, reason: undefined, probe: undefined }));
  }

  /** Checks every endpoint's health once (at start); the unhealthy ones are benched. Never throws. */
  async checkAll(benchMs: number, signal: AbortSignal): Promise<void> {
    await Promise.all(
      this.#members.map(async (member) => {
        const health = await member.endpoint.health(AbortSignal.any([signal, AbortSignal.timeout(HEALTH_TIMEOUT_MS)]));
        if (health.healthy) this.logger.info({ url: member.endpoint.shown }, 'HEC is healthy');
        else this.bench(member.endpoint, benchMs, 'failure', health.reason);
      }),
    );
  }

  /**
   * The next endpoint in turn that may take a batch; one whose bench for a failure just ended is
   * health-checked first. When every one is benched: how long until the first comes back.
   */
  async pick(benchMs: number, signal: AbortSignal): Promise<Pick> {
    const count = this.#members.length;
    for (let step = 0; step < count; step++) {
      const at = (this.#next + step) % count;
      const member = this.#members[at]!;
      if (member.benchedUntil > this.now()) continue;
      if (member.reason === 'failure' && !(await this.#probe(member, benchMs, signal))) continue;
      this.#next = (at + 1) % count;
      return { endpoint: member.endpoint };
    }
    return { waitMs: this.waitMs() };
  }

  /** 0 when an endpoint may take a batch now; else the shortest time until one comes back. */
  waitMs(): number {
    const now = this.now();
    return Math.max(0, Math.min(...this.#members.map((member) => member.benchedUntil - now)));
  }

  /** Leaves the endpoint out for `ms`; logged when it was in. */
  bench(endpoint: HecEndpoint, ms: number, reason: BenchReason, why: string): void {
    const member = this.#member(endpoint);
    const wasIn = member.reason === undefined;
    member.benchedUntil = Math.max(member.benchedUntil, this.now() + ms);
    member.reason = reason;
    if (wasIn) this.logger.warn({ url: endpoint.shown, benchMs: ms, reason: why }, 'HEC endpoint left out for now');
  }

  /** The endpoint took a batch: it is in again. */
  healthy(endpoint: HecEndpoint): void {
    const member = this.#member(endpoint);
    if (member.reason === undefined) return;
    member.benchedUntil = 0;
    member.reason = undefined;
    this.logger.info({ url: endpoint.shown }, 'HEC endpoint back in rotation');
  }

  #member(endpoint: HecEndpoint): Member {
    return this.#members.find((member) => member.endpoint === endpoint)!;
  }

  #probe(member: Member, benchMs: number, signal: AbortSignal): Promise<boolean> {
    member.probe ??= (async () => {
      const health = await member.endpoint.health(AbortSignal.any([signal, AbortSignal.timeout(HEALTH_TIMEOUT_MS)]));
      member.probe = undefined;
      if (health.healthy) {
        // In for a batch; `healthy()` clears the bench once one goes through, a failure benches it again.
        member.reason = undefined;
        member.benchedUntil = 0;
        this.logger.info({ url: member.endpoint.shown }, 'HEC endpoint healthy again; back in rotation');
        return true;
      }
      if (!signal.aborted) member.benchedUntil = this.now() + benchMs;
      this.logger.debug({ url: member.endpoint.shown, reason: health.reason }, 'HEC endpoint still unhealthy');
      return false;
    })();
    return member.probe;
  }
}
