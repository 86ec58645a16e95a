/**
 * read_committed as the Java client does it. @platformatic/kafka 2.12.1 filters aborted
 * transactions with one offset range per producer id (the first offset of its last aborted
 * transaction to its last abort marker in the fetch): one producer aborting several
 * transactions shows all but the last, and an abort marker of a transaction that wrote nothing
 * to the partition hides the committed ones before it. The processor's take-overs make exactly
 * these patterns (test/integration/read-committed.test.ts).
 *
 * The consumer below filters each fetch response itself, before the client's own filter runs
 * (which then has nothing to do): aborted transactions in first-offset order, a producer id
 * marked aborted from the first offset of its aborted transaction until its abort marker, and a
 * transactional batch of a marked producer emptied. Emptied, not removed: the client's stream
 * moves its position past the last batch of a response, and a batch removed from the end would
 * be fetched again for ever.
 */
import { Consumer, IS_CONTROL, IS_TRANSACTIONAL, kGetApi, type RecordsBatch } from '@platformatic/kafka';

interface FetchPartition {
  abortedTransactions?: Array<{ producerId: bigint; firstOffset: bigint }> | null;
  records?: RecordsBatch[] | null;
}
interface FetchResponse {
  responses?: Array<{ partitions?: FetchPartition[] }>;
}

type ApiFunction = ((...args: unknown[]) => void) & Record<string, unknown>;

export class ReadCommittedConsumer extends Consumer<Buffer, Buffer, Buffer, Buffer> {
  override [kGetApi]<RequestArguments extends Array<unknown>, ResponseType>(
    name: string,
    callback: (error: Error | null, api?: never) => void,
  ): void {
    super[kGetApi]<RequestArguments, ResponseType>(name, ((error: Error | null, api?: ApiFunction) => {
      if (error || api === undefined || name !== 'Fetch') return callback(error, api as never);
      callback(null, filteringApi(api) as never);
    }) as never);
  }
}

function filteringApi(api: ApiFunction): ApiFunction {
  const wrapped = ((...args: unknown[]) => {
    const done = args.pop() as (error: Error | null, response?: FetchResponse) => void;
    api(...args, (error: Error | null, response?: FetchResponse) => {
      if (!error && response) dropAbortedTransactions(response);
      done(error, response);
    });
  }) as ApiFunction;
  return Object.assign(wrapped, api);
}

/** Empties the batches of aborted transactions in a read_committed fetch response. */
export function dropAbortedTransactions(response: FetchResponse): void {
  for (const topic of response.responses ?? []) {
    for (const partition of topic.partitions ?? []) {
      const aborted = partition.abortedTransactions ?? [];
      if (aborted.length === 0 || !partition.records) continue;
      const pending = [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0));
      const abortedProducers = new Set<bigint>();
      let next = 0;
      for (const batch of partition.records) {
        const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta);
        while (next < pending.length && pending[next]!.firstOffset <= lastOffset) abortedProducers.add(pending[next++]!.producerId);
        if (batch.attributes & IS_CONTROL) {
          if (isAbortMarker(batch)) abortedProducers.delete(batch.producerId);
        } else if (batch.attributes & IS_TRANSACTIONAL && abortedProducers.has(batch.producerId)) {
          batch.records = [];
        }
      }
      // Done here; the client's own filter would undo it.
      partition.abortedTransactions = [];
    }
  }
}

/** A control batch's record key is a version (int16) and a type (int16): 0 abort, 1 commit. */
function isAbortMarker(batch: RecordsBatch): boolean {
  const key = batch.records[0]?.key;
  return key !== null && key !== undefined && key.length >= 4 && key.readInt16BE(2) === 0;
}
