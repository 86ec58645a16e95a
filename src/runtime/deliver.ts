import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import type { CanonicalEvent } from '../model/events.js';
import { TrustwireError } from '../errors.js';
import { SendError, type SendResult, type SinkConnector } from './contract.js';
import type { RetrySettings } from './settings.js';

export interface DeadLetterVerdict {
  /** Index in the batch handed to `deliver`. */
  index: number;
  error: Error;
  attempts: number;
}

export type DeliveryOutcome = { kind: 'done'; deadLetters: DeadLetterVerdict[]; attempts: number } | { kind: 'abandoned'; attempts: number };

export interface DeliveryOptions {
  retry: z.output<typeof RetrySettings>;
  timeoutMs: number;
  /** Aborts at shutdown past the grace period: the batch is abandoned, never committed. */
  signal: AbortSignal;
  /** True once a rebalance took the batch's partition away. */
  isStale(): boolean;
  /** Called before each backoff, to count it and keep the consumer's group membership alive. */
  onRetry?(info: { attempt: number; delayMs: number; error: Error; pending: number }): Promise<void> | void;
  random?: () => number;
}

/** The delay before attempt `attempt + 1`: exponential, capped, with jitter; Retry-After wins. */
export function backoffDelay(attempt: number, retry: z.output<typeof RetrySettings>, retryAfterMs?: number, random = Math.random): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), retry.maxMs * 10);
  const base = Math.min(retry.maxMs, retry.initialMs * retry.multiplier ** (attempt - 1));
  return Math.max(0, Math.round(base * (1 + retry.jitter * (2 * random() - 1))));
}

/**
 * Delivers one batch until every event is accepted or dead-lettered: transient failures are
 * retried with backoff (only the failed events of a partial result), permanent ones become
 * dead-letter verdicts, and a stale partition or a shutdown abandons the batch.
 */
export async function deliver(connector: SinkConnector, events: readonly CanonicalEvent[], options: DeliveryOptions): Promise<DeliveryOutcome> {
  const { retry } = options;
  const deadLetters: DeadLetterVerdict[] = [];
  let pending = events.map((_, index) => index);
  for (let attempt = 1; ; attempt++) {
    if (options.signal.aborted || options.isStale()) return { kind: 'abandoned', attempts: attempt - 1 };
    const result = await attemptSend(connector, pending.map((index) => events[index]!), options);
    // What is known here goes into the error's context; the runner adds the component.
    const noted = <E extends Error>(failure: E): E => (failure instanceof TrustwireError ? failure.within({ stage: 'send', attempt }) : failure);
    let error: Error;
    let retryAfterMs: number | undefined;
    switch (result.kind) {
      case 'ok':
        return { kind: 'done', deadLetters, attempts: attempt };
      case 'permanent':
        for (const index of pending) deadLetters.push({ index, error: noted(result.error), attempts: attempt });
        return { kind: 'done', deadLetters, attempts: attempt };
      case 'partial': {
        const again: number[] = [];
        for (const [position, failure] of result.failed) {
          const index = pending[position];
          if (index === undefined) continue; // an index the batch does not have: the connector's bug, not a loss
          if (failure.retriable) again.push(index);
          else deadLetters.push({ index, error: noted(failure), attempts: attempt });
        }
        if (again.length === 0) return { kind: 'done', deadLetters, attempts: attempt };
        pending = again.sort((a, b) => a - b);
        error = noted([...result.failed.values()].find((failure) => failure.retriable)!);
        break;
      }
      case 'retry':
        error = noted(result.error);
        retryAfterMs = result.retryAfterMs;
        break;
    }
    if (retry.maxAttempts > 0 && attempt >= retry.maxAttempts) {
      const gaveUp = new SendError(`gave up after ${attempt} attempts: ${error.message}`, false, { cause: error, context: { stage: 'send', attempt } });
      for (const index of pending) deadLetters.push({ index, error: gaveUp, attempts: attempt });
      return { kind: 'done', deadLetters, attempts: attempt };
    }
    const delayMs = backoffDelay(attempt, retry, retryAfterMs, options.random);
    await options.onRetry?.({ attempt, delayMs, error, pending: pending.length });
    try {
      await sleep(delayMs, undefined, { signal: options.signal });
    } catch {
      return { kind: 'abandoned', attempts: attempt };
    }
  }
}

/** One attempt under its own timeout; a throw or a timeout counts as a transient failure. */
async function attemptSend(connector: SinkConnector, batch: readonly CanonicalEvent[], options: DeliveryOptions): Promise<SendResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, timeout]);
  try {
    // A connector that ignores its signal must not hold the partition forever.
    const result = await Promise.race([connector.send(batch, signal), rejectOnAbort(signal)]);
    if (result.kind !== 'ok' && timeout.aborted) return { kind: 'retry', error: new SendError(`send timed out after ${options.timeoutMs} ms`, true) };
    return result;
  } catch (error) {
    if (timeout.aborted) return { kind: 'retry', error: new SendError(`send timed out after ${options.timeoutMs} ms`, true) };
    return { kind: 'retry', error: error instanceof Error ? error : new Error(String(error)) };
  }
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}
