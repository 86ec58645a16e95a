import type { Message } from '@platformatic/kafka';

/** A record as trustwire's consumers see it: key and headers as text, the value as bytes. */
export interface IncomingRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: number;
}

export function toRecord(message: Message<Buffer, Buffer, Buffer, Buffer>): IncomingRecord {
  const headers: Record<string, string> = {};
  for (const [key, value] of message.headers) headers[key.toString()] = value.toString();
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset.toString(),
    key: message.key == null ? null : message.key.toString('utf8'),
    value: message.value ?? null,
    headers,
    timestamp: Number(message.timestamp),
  };
}
