import { SendError, type KafkaAccess, type SendResult } from '../../src/runtime/contract.js';
import type { KafkaRecord } from './encode.js';

/**
 * Produces one batch through the runtime's producer (idempotent, acks from every in-sync
 * replica). Every produce error answers retry: the producer has already retried what Kafka
 * calls retriable, and what is left (a broker away, a missing topic, an ACL) is the operator's
 * to fix, not a reason to dead-letter the stream. On abort it answers retry at once; the
 * produce goes on and may land, so the batch can be written twice: at least once.
 */
export async function produceBatch(kafka: KafkaAccess, topic: string, records: readonly KafkaRecord[], signal: AbortSignal): Promise<SendResult> {
  const produced = kafka.produce(topic, records).then(
    (): SendResult => ({ kind: 'ok' }),
    (error: unknown): SendResult => ({
      kind: 'retry',
      error: new SendError(`producing ${records.length} records to ${topic} failed: ${error instanceof Error ? error.message : String(error)}`, true, { cause: error }),
    }),
  );
  const abandoned = new Promise<SendResult>((resolve) => {
    const give = () => {
      const reason: unknown = signal.reason;
      resolve({ kind: 'retry', error: new SendError(`producing to ${topic} gave up: ${reason instanceof Error ? reason.message : 'aborted'}`, true) });
    };
    if (signal.aborted) give();
    else signal.addEventListener('abort', give, { once: true });
  });
  return Promise.race([produced, abandoned]);
}
