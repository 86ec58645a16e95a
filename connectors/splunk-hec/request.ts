/**
 * The request builder of one send (as Vector's HEC sink has one): which events go in the next
 * request, and what HEC's answer means for the rest. All of a batch goes in order to one
 * endpoint: a body HEC finds too large (413, permanent for the body as sent) goes again in
 * halves; after an invalid event (`invalid-event-number` K), events 0..K-1 are indexed, K is
 * refused for good, and K+1.. go in the next request.
 */
import { SendError } from '../../src/runtime/contract.js';
import type { HecAnswer } from './client.js';
import type { HecEvent } from './encode.js';

export interface HecRequest {
  /** Indexes in the batch of the events the request carries. */
  indexes: number[];
  /** HEC event objects, concatenated. */
  body: Buffer;
}

/** A refusal for good of some events of the batch. */
export type Refusal = [indexes: number[], error: SendError];

export class HecRequests {
  readonly #queue: number[][];

  constructor(private readonly events: readonly HecEvent[]) {
    this.#queue = [events.map((_, index) => index)];
  }

  /** The next request, or undefined when every event was sent. */
  next(): HecRequest | undefined {
    const indexes = this.#queue.shift();
    return indexes === undefined ? undefined : { indexes, body: Buffer.concat(indexes.map((index) => this.events[index]!.bytes)) };
  }

  /** What was never sent: the events still queued. */
  rest(): number[] {
    return this.#queue.flat();
  }

  /** HEC answered 413: the request goes again in halves; a single event is refused (its refusal returned). */
  tooLarge(request: HecRequest, what: string, reason: string): Refusal | undefined {
    const { indexes } = request;
    if (indexes.length > 1) {
      const half = Math.ceil(indexes.length / 2);
      this.#queue.unshift(indexes.slice(0, half), indexes.slice(half));
      return undefined;
    }
    const size = this.events[indexes[0]!]!.bytes.length;
    return [indexes, new SendError(`${what} answered ${reason}: this event alone (${size} bytes) is over HEC's max_content_length`, false)];
  }

  /**
   * HEC refused event `at` of the request: those before it are indexed (HEC's answer is their only
   * confirmation, it gives no ackId with an error), it is refused, and the rest go next. An
   * index the request did not have leaves no telling what HEC took: undefined, send it all again.
   */
  invalidEvent(request: HecRequest, answer: Extract<HecAnswer, { kind: 'invalid-event' }>): Refusal | undefined {
    const { indexes } = request;
    if (answer.at >= indexes.length) return undefined;
    const bad = indexes[answer.at]!;
    const rest = indexes.slice(answer.at + 1);
    if (answer.code === 7) {
      // Every event naming the same index is refused the same way: not worth a request each.
      const index = this.events[bad]!.index;
      const error = new SendError(`HEC refused index ${JSON.stringify(index ?? "(the token's default)")}: ${answer.reason}; the token may not write to it`, false);
      const others = rest.filter((i) => this.events[i]!.index !== index);
      if (others.length > 0) this.#queue.unshift(others);
      return [[bad, ...rest.filter((i) => this.events[i]!.index === index)], error];
    }
    if (rest.length > 0) this.#queue.unshift(rest);
    return [[bad], new SendError(`HEC refused the event: ${answer.reason}`, false)];
  }
}
