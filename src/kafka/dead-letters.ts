import { redactUrlCredentials } from '../config/redact.js';

/**
 * Headers of a dead-lettered record. The record keeps its original key and bytes; these say
 * where it came from, which stage gave up on it, and why, so that it can be fixed and replayed.
 */
export const DLQ_HEADERS = {
  topic: 'trustwire.dlq.original.topic',
  partition: 'trustwire.dlq.original.partition',
  offset: 'trustwire.dlq.original.offset',
  /** `processor` or the connector's name. */
  component: 'trustwire.dlq.component',
  /** Where in the component: `decode`, `validate`, `process`, `encode`, `send`, ... */
  stage: 'trustwire.dlq.stage',
  errorClass: 'trustwire.dlq.error.class',
  errorMessage: 'trustwire.dlq.error.message',
  attempts: 'trustwire.dlq.attempts',
  time: 'trustwire.dlq.time',
} as const;

export interface DeadLetter {
  original: { topic: string; partition: number; offset: string };
  component: string;
  stage: string;
  error: Error;
  attempts: number;
}

/** Error messages can carry input: keep them to a length a header and a console can show. */
const MAX_MESSAGE = 2000;

export function deadLetterHeaders(letter: DeadLetter, now = Date.now()): Record<string, string> {
  return {
    [DLQ_HEADERS.topic]: letter.original.topic,
    [DLQ_HEADERS.partition]: String(letter.original.partition),
    [DLQ_HEADERS.offset]: letter.original.offset,
    [DLQ_HEADERS.component]: letter.component,
    [DLQ_HEADERS.stage]: letter.stage,
    [DLQ_HEADERS.errorClass]: letter.error.name,
    [DLQ_HEADERS.errorMessage]: redactUrlCredentials(letter.error.message).slice(0, MAX_MESSAGE),
    [DLQ_HEADERS.attempts]: String(letter.attempts),
    [DLQ_HEADERS.time]: new Date(now).toISOString(),
  };
}

/** A record as read, as much as a dead letter needs of it. */
interface DeadRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
}

/** The dead letter of a record: its own key and bytes, and the headers that say where it came from and why. */
export function deadLetterRecord(record: DeadRecord, letter: Omit<DeadLetter, 'original'>): { key: string; value: Buffer | null; headers: Record<string, string> } {
  return {
    key: record.key ?? '',
    value: record.value,
    headers: deadLetterHeaders({ ...letter, original: { topic: record.topic, partition: record.partition, offset: record.offset } }),
  };
}
