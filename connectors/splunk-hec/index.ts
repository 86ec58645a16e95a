import { randomUUID } from 'node:crypto';
import type { Logger } from '../../src/log.js';
import type { CanonicalEvent } from '../../src/model/events.js';
import { defineConnector, SendError, type SendResult, type SinkConnector, type SinkContext } from '../../src/runtime/contract.js';
import { AckPoller } from './acks.js';
import { HecEndpoint, type HecAnswer } from './client.js';
import { baseUrl, SplunkHecOptions } from './config.js';
import { createEncoder, type HecEvent } from './encode.js';
import { EndpointPool } from './pool.js';

export default defineConnector({
  type: 'splunk-hec',
  summary: 'sends HEC event JSON to Splunk HTTP Event Collectors, round robin, with indexer acknowledgment',
  configSchema: SplunkHecOptions,
  create: (options): SinkConnector => new SplunkHecSink(options),
});

class SplunkHecSink implements SinkConnector {
  readonly #options: SplunkHecOptions;
  readonly #encode: (event: CanonicalEvent) => HecEvent;
  /** One request channel per connector instance: HEC keeps acknowledgments per channel. */
  readonly #channel = randomUUID();
  readonly #endpoints: HecEndpoint[];
  #logger!: Logger;
  #pool!: EndpointPool;
  #pollers = new Map<HecEndpoint, AckPoller>();
  readonly #stopping = new AbortController();
  /** The setup problem (a refused token, channel, URL) last reported, so each is said once. */
  #problem: string | undefined;
  #said = new Set<string>();

  constructor(options: SplunkHecOptions) {
    this.#options = options;
    this.#encode = createEncoder(options);
    const token = options.token.reveal();
    const headers = { authorization: `Splunk ${token}`, 'x-splunk-request-channel': this.#channel, 'user-agent': 'trustwire' };
    const secrets = [token, headers.authorization];
    this.#endpoints = options.urls.map((url) => new HecEndpoint({ base: baseUrl(url), headers, compression: options.compression, secrets }));
  }

  async start(ctx: SinkContext): Promise<void> {
    this.#logger = ctx.logger;
    this.#pool = new EndpointPool(this.#endpoints, ctx.logger);
    this.#pollers = new Map(this.#endpoints.map((endpoint) => [endpoint, new AckPoller(endpoint, this.#options.ackPollMs, ctx.logger)]));
    // An endpoint that is down now is benched, not a reason to refuse the connector: the retry loop waits for it.
    await this.#pool.checkAll(this.#options.benchMs, this.#stopping.signal);
    const { ack, compression } = this.#options;
    ctx.logger.info({ urls: this.#endpoints.map((endpoint) => endpoint.shown), ack, compression, channel: this.#channel }, 'splunk-hec sink ready');
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    for (const poller of this.#pollers.values()) poller.stop();
  }

  async send(batch: readonly CanonicalEvent[], signal: AbortSignal): Promise<SendResult> {
    const events = batch.map(this.#encode);
    const picked = await this.#pool.pick(this.#options.benchMs, signal);
    if ('waitMs' in picked) {
      const error = new SendError(`every HEC endpoint is left out after failing; the first comes back in ${picked.waitMs} ms`, true);
      return { kind: 'retry', retryAfterMs: picked.waitMs, error };
    }
    const outcome = new Outcome(batch.length);
    const acks = await this.#post(picked.endpoint, events, outcome, signal);
    await Promise.all(acks);
    return outcome.result(this.#pool.waitMs());
  }

  /**
   * POSTs the batch to one endpoint, all of it in order, within this one send: a body HEC finds
   * too large (413) goes again in halves; after an invalid event (`invalid-event-number` K),
   * events 0..K-1 are indexed, K is refused for good, and K+1.. go in the next request. A
   * transient failure stops there: what was not taken is answered retriable. Resolves with the
   * acknowledgment waits of the requests HEC took.
   */
  async #post(endpoint: HecEndpoint, events: readonly HecEvent[], outcome: Outcome, signal: AbortSignal): Promise<Array<Promise<void>>> {
    const { ack, benchMs, refusedBenchMs } = this.#options;
    const acks: Array<Promise<void>> = [];
    const queue: number[][] = [events.map((_, index) => index)];
    const what = `POST ${endpoint.shown}/services/collector/event`;
    while (queue.length > 0) {
      const indexes = queue.shift()!;
      const answer = await endpoint.postEvents(Buffer.concat(indexes.map((index) => events[index]!.bytes)), signal);
      if (answer.kind === 'accepted' || answer.kind === 'invalid-event') {
        this.#pool.healthy(endpoint);
        this.#resumed(endpoint);
      }
      switch (answer.kind) {
        case 'accepted':
          if (ack && answer.ackId !== undefined) acks.push(this.#indexed(endpoint, answer.ackId, indexes, outcome, signal));
          else this.#noteAckMismatch(endpoint, answer);
          continue;
        case 'too-large': {
          if (indexes.length > 1) {
            const half = Math.ceil(indexes.length / 2);
            queue.unshift(indexes.slice(0, half), indexes.slice(half));
            continue;
          }
          const size = events[indexes[0]!]!.bytes.length;
          outcome.fail(indexes, new SendError(`${what} answered ${answer.reason}: this event alone (${size} bytes) is over HEC's max_content_length`, false));
          continue;
        }
        case 'invalid-event': {
          if (answer.at >= indexes.length) {
            // HEC names an event the request did not have: no telling what it took; send it all again.
            outcome.fail([...indexes, ...queue.flat()], new SendError(`${what} answered ${answer.reason} for event ${answer.at} of ${indexes.length}`, true));
            return acks;
          }
          // 0..K-1 were indexed: HEC's answer is their only confirmation (it gives no ackId with an error).
          const bad = indexes[answer.at]!;
          const rest = indexes.slice(answer.at + 1);
          if (answer.code === 7) {
            // Every event naming the same index is refused the same way: not worth a request each.
            const index = events[bad]!.index;
            const error = new SendError(`HEC refused index ${JSON.stringify(index ?? "(the token's default)")}: ${answer.reason}; the token may not write to it`, false);
            outcome.fail([bad, ...rest.filter((i) => events[i]!.index === index)], error);
            const others = rest.filter((i) => events[i]!.index !== index);
            if (others.length > 0) queue.unshift(others);
            continue;
          }
          outcome.fail([bad], new SendError(`HEC refused the event: ${answer.reason}`, false));
          if (rest.length > 0) queue.unshift(rest);
          continue;
        }
        case 'rejected':
          outcome.fail(indexes, new SendError(`${what} answered ${answer.reason}`, false));
          continue;
        case 'token':
          this.#pool.bench(endpoint, refusedBenchMs, 'refused', answer.reason);
          this.#holding(`token:${answer.code ?? answer.reason}`, `HEC token rejected (${answer.code === undefined ? answer.reason : `code ${answer.code}`}): fix the token; holding the stream`, endpoint);
          break;
        case 'setup':
          this.#pool.bench(endpoint, refusedBenchMs, 'refused', answer.reason);
          this.#holding(`setup:${answer.code ?? answer.reason}`, `HEC refused the request (${answer.reason}): check the URL and the token's settings; holding the stream`, endpoint);
          break;
        case 'busy':
          this.#pool.bench(endpoint, Math.max(benchMs, answer.retryAfterMs ?? 0), 'failure', answer.reason);
          break;
        case 'server':
        case 'network':
        case 'aborted':
          this.#pool.bench(endpoint, benchMs, 'failure', answer.reason);
          break;
      }
      // A transient failure: nothing more goes to this endpoint in this send.
      const how = answer.kind === 'network' ? 'failed:' : answer.kind === 'aborted' ? 'gave up:' : 'answered';
      outcome.fail([...indexes, ...queue.flat()], new SendError(`${what} ${how} ${answer.reason}`, true));
      return acks;
    }
    return acks;
  }

  /** Waits for HEC to say the request `ackId` took was indexed; if it does not in time, its events are sent again. */
  async #indexed(endpoint: HecEndpoint, ackId: number, indexes: number[], outcome: Outcome, signal: AbortSignal): Promise<void> {
    const { ackTimeoutMs } = this.#options;
    const result = await this.#pollers.get(endpoint)!.wait(ackId, ackTimeoutMs, signal);
    if (result === 'indexed') return;
    const why =
      result === 'timeout'
        ? `HEC at ${endpoint.shown} did not acknowledge indexing of ackId ${ackId} (${indexes.length} events) within ${ackTimeoutMs} ms; sending them again`
        : `gave up waiting for HEC at ${endpoint.shown} to acknowledge ackId ${ackId} (${result})`;
    outcome.fail(indexes, new SendError(why, true));
  }

  /** A token (or channel) problem: said once at error level, again only when it changes. */
  #holding(key: string, message: string, endpoint: HecEndpoint): void {
    if (this.#problem === key) return;
    this.#problem = key;
    this.#logger.error({ url: endpoint.shown, benchMs: this.#options.refusedBenchMs }, message);
  }

  #resumed(endpoint: HecEndpoint): void {
    if (this.#problem === undefined) return;
    const what = this.#problem.startsWith('token:') ? 'the token' : "trustwire's requests";
    this.#problem = undefined;
    this.#logger.info({ url: endpoint.shown }, `HEC accepts ${what} again; the stream resumes`);
  }

  /** The token's acknowledgment setting and `ack` disagree: said once. */
  #noteAckMismatch(endpoint: HecEndpoint, answer: Extract<HecAnswer, { kind: 'accepted' }>): void {
    if (this.#options.ack && !this.#said.has('no-ack-id')) {
      this.#said.add('no-ack-id');
      this.#logger.error(
        { url: endpoint.shown },
        'ack is on but HEC answered without an ackId: the token has indexer acknowledgment off; batches count as delivered once HEC takes them, not once indexed',
      );
    } else if (!this.#options.ack && answer.ackId !== undefined && !this.#said.has('ack-id')) {
      this.#said.add('ack-id');
      this.#logger.warn({ url: endpoint.shown }, 'HEC answers with ackIds: the token has indexer acknowledgment on; set ack: true to count a batch delivered only once indexed');
    }
  }
}

/** What became of each event of one send, and the SendResult that says it. */
class Outcome {
  readonly #failed = new Map<number, SendError>();

  constructor(private readonly size: number) {}

  fail(indexes: readonly number[], error: SendError): void {
    for (const index of indexes) this.#failed.set(index, error);
  }

  /** `waitMs`: how long until an endpoint may take a batch again (0: one may now). */
  result(waitMs: number): SendResult {
    if (this.#failed.size === 0) return { kind: 'ok' };
    if (this.#failed.size === this.size) {
      const errors = [...this.#failed.values()];
      if (errors.every((error) => error.retriable)) return waitMs > 0 ? { kind: 'retry', retryAfterMs: waitMs, error: errors[0]! } : { kind: 'retry', error: errors[0]! };
      if (errors.every((error) => error === errors[0])) return { kind: 'permanent', error: errors[0]! };
    }
    return { kind: 'partial', failed: new Map([...this.#failed].sort(([a], [b]) => a - b)) };
  }
}
