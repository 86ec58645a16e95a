/**
 * The endpoints of one connector that sends to several (HEC nodes, collectors behind no load
 * balancer), as Vector's distributed service does: round robin across the healthy ones; one
 * that failed is benched (left out) for a while. When a bench for a failure ends, the endpoint's
 * health check must pass before a batch goes to it again; when a bench for a refusal (a token,
 * a request channel, a URL) ends, the next batch is the check (a health check may not look at
 * credentials). Time is the connector context's clock, so tests move it instead of sleeping.
 */
import type { Logger } from '../log.js';

/** What the pool needs of an endpoint: how logs name it, and its health check. */
export interface PooledEndpoint {
  /** What logs show of it: never a credential. */
  readonly shown: string;
  health(signal: AbortSignal): Promise<{ healthy: true } | { healthy: false; reason: string }>;
}

/** A failure is health-checked before the endpoint is used again; a refusal (token, channel, URL) is checked by the next batch. */
type BenchReason = 'failure' | 'refused';

interface Member<E> {
  endpoint: E;
  /** Epoch ms until which it is left out; 0 when healthy. */
  benchedUntil: number;
  reason: BenchReason | undefined;
  /** A health check under way, shared by the sends that want the endpoint meanwhile. */
  probe: Promise<boolean> | undefined;
}

export type Pick<E> = { endpoint: E } | { waitMs: number };

export interface EndpointPoolSettings {
  /** How long a failed endpoint is left out before its health is checked again. */
  benchMs: number;
  /** How long one health check may take. */
  healthTimeoutMs: number;
  logger: Logger;
  /** How logs name an endpoint: `HEC endpoint`; default `endpoint`. */
  label?: string;
  /** The clock benches are read against; absent: `Date.now`. */
  now?: () => number;
}

export class EndpointPool<E extends PooledEndpoint> {
  readonly #members: Array<Member<E>>;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #label: string;
  #next = 0;

  constructor(
    endpoints: readonly E[],
    private readonly settings: EndpointPoolSettings,
  ) {
    this.#logger = settings.logger;
    this.#now = settings.now ?? Date.now;
    this.#label = settings.label ?? 'endpoint';
    this.#members = endpoints.map((endpoint) => ({ endpoint, benchedUntil: 0, reason: undefined, probe: undefined }));
  }

  /** Checks every endpoint's health once (at start); the unhealthy ones are benched. Never throws. */
  async checkAll(signal: AbortSignal): Promise<void> {
    await Promise.all(
      this.#members.map(async (member) => {
        const health = await member.endpoint.health(AbortSignal.any([signal, AbortSignal.timeout(this.settings.healthTimeoutMs)]));
        if (health.healthy) this.#logger.info({ url: member.endpoint.shown }, `${this.#label} is healthy`);
        else this.bench(member.endpoint, this.settings.benchMs, 'failure', health.reason);
      }),
    );
  }

  /**
   * The next endpoint in turn that may take a batch; one whose bench for a failure just ended is
   * health-checked first. When every one is benched: how long until the first comes back.
   */
  async pick(signal: AbortSignal): Promise<Pick<E>> {
    const count = this.#members.length;
    for (let step = 0; step < count; step++) {
      const at = (this.#next + step) % count;
      const member = this.#members[at]!;
      if (member.benchedUntil > this.#now()) continue;
      if (member.reason === 'failure' && !(await this.#probe(member, signal))) continue;
      this.#next = (at + 1) % count;
      return { endpoint: member.endpoint };
    }
    return { waitMs: this.waitMs() };
  }

  /** 0 when an endpoint may take a batch now; else the shortest time until one comes back. */
  waitMs(): number {
    const now = this.#now();
    return Math.max(0, Math.min(...this.#members.map((member) => member.benchedUntil - now)));
  }

  /** Leaves the endpoint out for `ms`; logged when it was in. */
  bench(endpoint: E, ms: number, reason: BenchReason, why: string): void {
    const member = this.#member(endpoint);
    const wasIn = member.reason === undefined;
    member.benchedUntil = Math.max(member.benchedUntil, this.#now() + ms);
    member.reason = reason;
    if (wasIn) this.#logger.warn({ url: endpoint.shown, benchMs: ms, reason: why }, `${this.#label} left out for now`);
  }

  /** The endpoint took a batch: it is in again. */
  healthy(endpoint: E): void {
    const member = this.#member(endpoint);
    if (member.reason === undefined) return;
    member.benchedUntil = 0;
    member.reason = undefined;
    this.#logger.info({ url: endpoint.shown }, `${this.#label} back in rotation`);
  }

  #member(endpoint: E): Member<E> {
    return this.#members.find((member) => member.endpoint === endpoint)!;
  }

  #probe(member: Member<E>, signal: AbortSignal): Promise<boolean> {
    member.probe ??= (async () => {
      const health = await member.endpoint.health(AbortSignal.any([signal, AbortSignal.timeout(this.settings.healthTimeoutMs)]));
      member.probe = undefined;
      if (health.healthy) {
        // In for a batch; `healthy()` clears the bench once one goes through, a failure benches it again.
        member.reason = undefined;
        member.benchedUntil = 0;
        this.#logger.info({ url: member.endpoint.shown }, `${this.#label} healthy again; back in rotation`);
        return true;
      }
      if (!signal.aborted) member.benchedUntil = this.#now() + this.settings.benchMs;
      this.#logger.debug({ url: member.endpoint.shown, reason: health.reason }, `${this.#label} still unhealthy`);
      return false;
    })();
    return member.probe;
  }
}
