/**
 * The one place that knows the Kafka client library (@platformatic/kafka, pure JavaScript and
 * maintained). Everything else in trustwire talks to Kafka through src/kafka.
 *
 * A KafkaClient is only the connection settings and a logger: each producer, consumer and
 * admin it makes holds connections of its own and is closed by whoever made it.
 */
import { Admin, Connection, type BaseOptions } from '@platformatic/kafka';
import type { Logger } from '../log.js';
import { TrustwireError } from '../errors.js';

/**
 * @platformatic/kafka 2.12 can emit 'error' on a Connection after the pool's one-shot listener
 * has gone: a TLS server that refuses the client's certificate after the handshake, with SASL
 * on, fails the connection twice. An 'error' event nobody listens to kills the process. The
 * request that needed the connection has already failed with the first error, and the pool has
 * dropped the connection, so a late one carries nothing more: it is dropped here, once for the
 * whole process.
 */
const libraryEmit = Connection.prototype.emit;
Connection.prototype.emit = function emitUnlessUnheard(this: Connection, event: string | symbol, ...args: unknown[]): boolean {
  if (event === 'error' && this.listenerCount('error') === 0) return false;
  return libraryEmit.call(this, event, ...args);
};

/** The connection: brokers, TLS and SASL. The layer's own settings type (config composes it). */
export interface KafkaConnection {
  brokers: string[];
  clientId: string;
  /** `ca` and `cert` are PEM text (the configuration reads and checks the files); `key` is a secret. */
  ssl?: { ca?: string | undefined; cert?: string | undefined; key?: { reveal(): string } | undefined; rejectUnauthorized: boolean } | undefined;
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
        ...(connection.ssl.ca !== undefined && { ca: [connection.ssl.ca] }),
        ...(connection.ssl.cert !== undefined && { cert: connection.ssl.cert }),
        ...(connection.ssl.key !== undefined && { key: connection.ssl.key.reveal() }),
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
  } catch (error) {
    // The first call to Kafka (topics at start) fails on a refused setting: say which one.
    throw refusedSetting(error, client.connection) ?? error;
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

/**
 * A connection setting the brokers refuse: a wrong password, a CA that did not sign their
 * certificate, TLS where they speak none. Retrying cannot help until the configuration (or the
 * broker) changes, so it is not retriable; `option` is the option's path, the message starts with it.
 */
export class KafkaSettingRefused extends TrustwireError {
  override name = 'KafkaSettingRefused';
  constructor(
    readonly option: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${option}: ${reason}`, { ...options, retriable: false });
  }
}

/** Node's codes for a certificate chain that does not lead to a trusted CA. */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * The setting behind a client error when the brokers refused it, else undefined. `connection`
 * (when known) adds the user, the mechanism and whether a CA was given; the password is never
 * part of the message (it is scrubbed out, should a broker ever echo it).
 */
export function refusedSetting(error: unknown, connection?: KafkaConnection): KafkaSettingRefused | undefined {
  if (error instanceof KafkaSettingRefused) return error;
  const found = findRefusal(error, connection);
  if (found === undefined) return undefined;
  const password = connection?.sasl?.password.reveal();
  const reason = password ? found.reason.replaceAll(password, '[redacted]') : found.reason;
  return new KafkaSettingRefused(found.option, reason, { cause: error });
}

interface Refusal {
  option: string;
  reason: string;
}

/** One error of the client's tree: its own fields, Node's (`code`), the broker's (`apiId`, `serverErrorMessage`). */
interface ErrorNode {
  message?: unknown;
  code?: unknown;
  apiId?: unknown;
  serverErrorMessage?: unknown;
  response?: { mechanisms?: unknown };
  errors?: unknown;
  cause?: unknown;
}

function findRefusal(root: unknown, connection: KafkaConnection | undefined): Refusal | undefined {
  const seen = new Set<unknown>();
  const visit = (value: unknown, broker: string): Refusal | undefined => {
    if (value === null || typeof value !== 'object' || seen.has(value)) return undefined;
    seen.add(value);
    const entry = value as ErrorNode;
    const message = typeof entry.message === 'string' ? entry.message : '';
    // The client names the broker in the error that wraps the cause: "Connection to host:port failed."
    const at = /^Connection to (\S+) failed/.exec(message)?.[1] ?? broker;
    const refusal = refusalOf(entry, message, at, connection);
    if (refusal !== undefined) return refusal;
    const children = [...(Array.isArray(entry.errors) ? entry.errors : []), entry.cause];
    for (const child of children) {
      const inner = visit(child, at);
      if (inner !== undefined) return inner;
    }
    return undefined;
  };
  return visit(root, connection?.brokers.join(',') ?? 'the brokers');
}

function refusalOf(entry: ErrorNode, message: string, broker: string, connection: KafkaConnection | undefined): Refusal | undefined {
  const sasl = connection?.sasl;
  const code = typeof entry.code === 'string' ? entry.code : '';
  const login = sasl ? ` user ${JSON.stringify(sasl.username)} with ${sasl.mechanism.toUpperCase()}` : ' the SASL login';
  if (entry.apiId === 'SASL_AUTHENTICATION_FAILED') {
    const said = typeof entry.serverErrorMessage === 'string' ? `: ${entry.serverErrorMessage}` : '';
    return {
      option: 'kafka.sasl.password',
      reason: `${broker} refused${login} (SASL_AUTHENTICATION_FAILED${said}); the password is wrong, or kafka.sasl.username names no user of the cluster`,
    };
  }
  // The handshake's answer holds the mechanisms the broker offers, beside the error code.
  if (code === 'PLT_KFK_RESPONSE' && Array.isArray(entry.errors) && entry.errors.some((inner: ErrorNode) => inner?.apiId === 'UNSUPPORTED_SASL_MECHANISM')) {
    const offered = Array.isArray(entry.response?.mechanisms) ? entry.response.mechanisms.join(', ') : 'others';
    return { option: 'kafka.sasl.mechanism', reason: `${broker} does not offer ${sasl ? sasl.mechanism.toUpperCase() : 'this mechanism'}; it offers ${offered}` };
  }
  if (UNTRUSTED_CERTIFICATE.has(code)) {
    // Without the connection it is not known whether a CA was given: claim neither.
    const trusted =
      connection === undefined ? 'a CA the client trusts' : connection.ssl?.ca !== undefined ? 'the CA in kafka.ssl.ca' : 'any CA this system trusts (kafka.ssl.ca is not set)';
    return { option: 'kafka.ssl.ca', reason: `the certificate of ${broker} is not signed by ${trusted} (${code}: ${message})` };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { option: 'kafka.brokers', reason: `the certificate of ${broker} is not for that address (${message}); name the broker as its certificate does` };
  }
  if (code === 'PLT_KFK_USER' && message === 'Broker requires TLS.') {
    return { option: 'kafka.ssl', reason: `${broker} requires TLS, and kafka.ssl is not set` };
  }
  if (code === 'PLT_KFK_USER' && message.startsWith('TLS handshake failed')) {
    return { option: 'kafka.ssl', reason: `${broker} does not speak TLS on that port: remove kafka.ssl, or name the brokers' TLS port in kafka.brokers` };
  }
  // A SASL_SSL listener closes a plaintext client's connection at its first byte, before the SASL handshake can answer.
  const closed = (entry.cause as { message?: unknown } | undefined)?.message === 'Connection closed';
  if (code === 'PLT_KFK_AUTHENTICATION' && message.startsWith('Cannot find a suitable SASL mechanism') && closed && connection !== undefined && !connection.ssl) {
    return { option: 'kafka.ssl', reason: `${broker} closed the connection at the SASL handshake, as a listener that requires TLS does with a plaintext client: set kafka.ssl` };
  }
  return undefined;
}

/** A one-line description of a client error: its message and the broker codes behind it. */
export function describeKafkaError(error: unknown): string {
  // A refused setting says which option, and why, before anything the client said.
  const refused = refusedSetting(error);
  if (refused !== undefined) return refused.message;
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
