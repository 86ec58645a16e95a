/**
 * The one place that knows the Kafka client library (@platformatic/kafka, pure JavaScript and
 * maintained). Everything else in trustwire talks to Kafka through src/kafka.
 *
 * A KafkaClient is only the connection settings and a logger: each producer, consumer and
 * admin it makes holds connections of its own and is closed by whoever made it.
 */
import { Admin, type BaseOptions } from '@platformatic/kafka';
import { readFileSync } from 'node:fs';
import type { Logger } from '../log.js';

/** The connection: brokers, TLS and SASL. The layer's own settings type (config composes it). */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  ssl?: { ca?: string | undefined; rejectUnauthorized: boolean } | undefined;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: { reveal(): string } } | undefined;
}

export interface KafkaClient {
  readonly connection: KafkaConnection;
  readonly logger: Logger;
  /** Options every client of this connection starts from; `overrides` win. */
  options(clientSuffix: string, overrides?: Partial<BaseOptions>): BaseOptions;
}

/** How long one request may wait for a broker's answer before it is retried or fails. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** How long a TCP (and TLS) connection may take. */
export const CONNECT_TIMEOUT_MS = 3000;

export function createKafkaClient(connection: KafkaConnection, logger: Logger): KafkaClient {
  const tls = connection.ssl
    ? {
        rejectUnauthorized: connection.ssl.rejectUnauthorized,
        ...(connection.ssl.ca !== undefined && { ca: [readFileSync(connection.ssl.ca, 'utf8')] }),
      }
    : undefined;
  const sasl = connection.sasl
    ? {
        mechanism: connection.sasl.mechanism.toUpperCase() as 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
        username: connection.sasl.username,
        // A function: the password is read when a connection authenticates, never kept in options.
        password: async () => connection.sasl!.password.reveal(),
      }
    : undefined;
  return {
    connection,
    logger,
    options(clientSuffix, overrides = {}) {
      return {
        clientId: `${connection.clientId}-${clientSuffix}`,
        bootstrapBrokers: connection.brokers,
        connectTimeout: CONNECT_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        retries: 3,
        retryDelay: 250,
        ...(tls !== undefined && { tls }),
        ...(sasl !== undefined && { sasl }),
        ...overrides,
      } as BaseOptions;
    },
  };
}

/** Runs `work` with an admin client of this connection, closed afterwards. */
export async function withAdmin<T>(client: KafkaClient, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin(client.options('admin'));
  try {
    return await work(admin);
  } finally {
    await closeWithin(() => admin.close());
  }
}

/** The broker's error code name (`MESSAGE_TOO_LARGE`, `PRODUCER_FENCED`, ...) anywhere in an error's chain. */
export function kafkaErrorCodes(error: unknown): string[] {
  const found: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    const entry = value as { apiId?: unknown; code?: unknown; errors?: unknown; cause?: unknown };
    if (typeof entry.apiId === 'string') found.push(entry.apiId);
    if (Array.isArray(entry.errors)) entry.errors.forEach(visit);
    else if (entry.errors && typeof entry.errors === 'object') Object.values(entry.errors).forEach(visit);
    visit(entry.cause);
  };
  visit(error);
  return found;
}

/** A one-line description of a client error: its message and the broker codes behind it. */
export function describeKafkaError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const codes = [...new Set(kafkaErrorCodes(error))];
  const causes = collectCauses(error).filter((cause) => cause !== message && !codes.includes(cause));
  return [message, ...causes.slice(0, 2), ...(codes.length > 0 ? [`(${codes.join(', ')})`] : [])].join(': ');
}

function collectCauses(error: unknown): string[] {
  const out: string[] = [];
  let current = (error as { cause?: unknown } | undefined)?.cause;
  for (let i = 0; i < 4 && current instanceof Error; i++) {
    out.push(current.message);
    current = (current as { cause?: unknown }).cause;
  }
  const nested = (error as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(nested)) for (const inner of nested.slice(0, 2)) if (inner instanceof Error) out.push(inner.message);
  return out;
}

/** Closes a client without waiting past `ms`: with a broker away, a close can wait for ever. */
export async function closeWithin(close: () => Promise<unknown>, ms = 5000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    close().catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Rejects when `work` has not settled within `ms`. A request whose answer never comes (the
 * broker restarted under it) can keep the client waiting for minutes; what waits on it must
 * give up, say so, and try again.
 */
export async function within<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What one fetch brings at most, over all partitions and for one partition. The client's
 * defaults let a fetch bring 50 MB for each partition, so a member catching up would hold
 * hundreds of MB; Kafka's own consumer takes 1 MiB a partition.
 */
export const FETCH_MAX_BYTES = 8 * 1024 * 1024;
export const FETCH_PARTITION_MAX_BYTES = 1024 * 1024;
