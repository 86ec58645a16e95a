/**
 * The service of the HEC sink (as Vector's has one): sends one batch's requests to one endpoint,
 * sorts each answer (benching the endpoint, holding a refused token), waits for indexer
 * acknowledgments, and says what became of every event.
 */
import type { Logger } from '../../src/log.js';
import { BatchOutcome, SendError, SinkRefused, type SendResult } from '../../src/runtime/contract.js';
import { RepeatLog } from '../../src/runtime/repeats.js';
import type { AckPoller } from './acks.js';
import type { HecAnswer, HecEndpoint } from './client.js';
import type { SplunkHecOptions } from './config.js';
import type { HecEvent } from './encode.js';
import type { EndpointPool } from '../../src/runtime/endpoints.js';
import { HecRequests } from './request.js';

export class HecService {
  /** The token's acknowledgment setting, if it disagrees with `ack`: said once. */
  readonly #repeats: RepeatLog;

  constructor(
    private readonly options: SplunkHecOptions,
    private readonly pool: EndpointPool<HecEndpoint>,
    private readonly pollers: ReadonlyMap<HecEndpoint, AckPoller>,
    logger: Logger,
  ) {
    this.#repeats = new RepeatLog(logger);
  }

  /** Sends the batch's events to `endpoint`, waits for the acknowledgments of what HEC took, and answers for every event. */
  async send(endpoint: HecEndpoint, events: readonly HecEvent[], signal: AbortSignal): Promise<SendResult> {
    const outcome = new BatchOutcome(events.length);
    await Promise.all(await this.#post(endpoint, events, outcome, signal));
    return outcome.result(this.pool.waitMs());
  }

  /**
   * POSTs the batch to one endpoint, all of it in order, within this one send (request.ts says
   * what goes next). A transient failure stops there: what was not taken is answered retriable.
   * Resolves with the acknowledgment waits of the requests HEC took.
   */
  async #post(endpoint: HecEndpoint, events: readonly HecEvent[], outcome: BatchOutcome, signal: AbortSignal): Promise<Array<Promise<void>>> {
    const { ack, benchMs, refusedBenchMs } = this.options;
    const acks: Array<Promise<void>> = [];
    const requests = new HecRequests(events);
    const what = `POST ${endpoint.shown}/services/collector/event`;
    for (let request = requests.next(); request !== undefined; request = requests.next()) {
      const { indexes } = request;
      const answer = await endpoint.postEvents(request.body, signal);
      if (answer.kind === 'accepted' || answer.kind === 'invalid-event') this.pool.healthy(endpoint);
      switch (answer.kind) {
        case 'accepted':
          if (ack && answer.ackId !== undefined) acks.push(this.#indexed(endpoint, answer.ackId, indexes, outcome, signal));
          else this.#noteAckMismatch(endpoint, answer);
          continue;
        case 'too-large': {
          const refusal = requests.tooLarge(request, what, answer.reason);
          if (refusal !== undefined) outcome.fail(...refusal);
          continue;
        }
        case 'invalid-event': {
          const refusal = requests.invalidEvent(request, answer);
          if (refusal !== undefined) {
            outcome.fail(...refusal);
            continue;
          }
          // HEC names an event the request did not have: no telling what it took; send it all again.
          outcome.fail([...indexes, ...requests.rest()], new SendError(`${what} answered ${answer.reason} for event ${answer.at} of ${indexes.length}`, true));
          return acks;
        }
        case 'rejected':
          outcome.fail(indexes, new SendError(`${what} answered ${answer.reason}`, false));
          continue;
        case 'token':
        case 'setup': {
          // The runner says a refusal once, loudly; the bench keeps it from being hammered.
          this.pool.bench(endpoint, refusedBenchMs, 'refused', answer.reason);
          const fix = answer.kind === 'token' ? 'fix the token' : "check the URL and the token's settings";
          outcome.fail([...indexes, ...requests.rest()], new SinkRefused(`${what} answered ${answer.reason}: ${fix}; holding the stream`));
          return acks;
        }
        case 'busy':
          this.pool.bench(endpoint, Math.max(benchMs, answer.retryAfterMs ?? 0), 'failure', answer.reason);
          break;
        case 'server':
        case 'network':
        case 'aborted':
          this.pool.bench(endpoint, benchMs, 'failure', answer.reason);
          break;
      }
      // A transient failure: nothing more goes to this endpoint in this send.
      const how = answer.kind === 'network' ? 'failed:' : answer.kind === 'aborted' ? 'gave up:' : 'answered';
      outcome.fail([...indexes, ...requests.rest()], new SendError(`${what} ${how} ${answer.reason}`, true));
      return acks;
    }
    return acks;
  }

  /** Waits for HEC to say the request `ackId` took was indexed; if it does not in time, its events are sent again. */
  async #indexed(endpoint: HecEndpoint, ackId: number, indexes: number[], outcome: BatchOutcome, signal: AbortSignal): Promise<void> {
    const { ackTimeoutMs } = this.options;
    const result = await this.pollers.get(endpoint)!.wait(ackId, ackTimeoutMs, signal);
    if (result === 'indexed') return;
    const why =
      result === 'timeout'
        ? `HEC at ${endpoint.shown} did not acknowledge indexing of ackId ${ackId} (${indexes.length} events) within ${ackTimeoutMs} ms; sending them again`
        : `gave up waiting for HEC at ${endpoint.shown} to acknowledge ackId ${ackId} (${result})`;
    outcome.fail(indexes, new SendError(why, true));
  }

  /** The token's acknowledgment setting and `ack` disagree: said once (never resolved). */
  #noteAckMismatch(endpoint: HecEndpoint, answer: Extract<HecAnswer, { kind: 'accepted' }>): void {
    if (this.options.ack) {
      const message = 'ack is on but HEC answered without an ackId: the token has indexer acknowledgment off; batches count as delivered once HEC takes them, not once indexed';
      this.#repeats.problem('ack', 'no-ack-id', 'error', { url: endpoint.shown }, message);
    } else if (answer.ackId !== undefined) {
      this.#repeats.problem('ack', 'ack-id', 'warn', { url: endpoint.shown }, 'HEC answers with ackIds: the token has indexer acknowledgment on; set ack: true to count a batch delivered only once indexed');
    }
  }
}
