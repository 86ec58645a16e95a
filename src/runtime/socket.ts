/**
 * The socket transport every stream- or datagram-speaking connector shares (the counterpart of
 * OpenTelemetry's confignet, as http.ts is of confighttp): one client settings block
 * (`connectTimeoutMs`, `settleMs`), a connection opened within its timeout (TCP, or TLS with its
 * handshake done), an at-least-once writer for protocols that never answer (syslog over TCP and
 * TLS, any line protocol), and UDP. On node:net, node:tls and node:dgram (the npm package
 * syslog-client has no octet counting, no client certificates, TLS fixed to 1.2, and loses
 * in-flight messages on reconnect). A stream connection is opened on first use and again after
 * any failure, once for every send waiting on it; the runtime's retries are the reconnect backoff.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { z } from 'zod';
import { TransportError } from '../errors.js';
import { abortable } from './contract.js';

/** A failure to reach or write to the receiver (the base's TransportError, retriable); the message names the receiver, never a key. */
export { TransportError };

/**
 * The socket client settings a connector spreads into its options (`...socketClientSettings()`),
 * so every socket connector takes them under the same keys. `text` says what the connector's
 * protocol makes of them.
 */
export function socketClientSettings(text: { connectTimeout?: string; settle?: string } = {}) {
  return {
    connectTimeoutMs: z
      .number()
      .int()
      .min(100)
      .default(5000)
      .describe(text.connectTimeout ?? 'how long a connection may take, its TLS handshake included')
      .meta({ examples: [2000] }),
    settleMs: z
      .number()
      .int()
      .min(0)
      .max(5000)
      .default(50)
      .describe(text.settle ?? 'how long written bytes must stay on a live connection before the batch counts as delivered')
      .meta({ examples: [200] }),
  };
}

export interface ConnectTarget {
  protocol: 'tcp' | 'tls';
  host: string;
  port: number;
  connectTimeoutMs: number;
  tls?: ConnectionOptions;
}

/** `tcp://host:port`: how errors name the receiver. */
export function where(target: { protocol: string; host: string; port: number }): string {
  return `${target.protocol}://${target.host}:${target.port}`;
}

/**
 * Opens a connection (TCP, or TLS with its handshake done) within connectTimeoutMs. `socket` is
 * there at once, so the caller can destroy it while it connects (at stop).
 */
export function openSocket(target: ConnectTarget, name = where(target)): { socket: Socket; ready: Promise<Socket> } {
  const { host, port, connectTimeoutMs } = target;
  const socket = target.protocol === 'tls' ? tlsConnect({ host, port, ...target.tls }) : netConnect({ host, port });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, 10_000);
  const ready = new Promise<Socket>((resolve, reject) => {
    const event = target.protocol === 'tls' ? 'secureConnect' : 'connect';
    const timer = setTimeout(() => fail(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.off(event, done);
      socket.off('close', closed);
      socket.destroy();
      reject(new TransportError(`cannot connect to ${name}: ${error.message}`));
    };
    const closed = () => fail(new Error('closed while connecting'));
    const done = () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.off('close', closed);
      resolve(socket);
    };
    socket.once('error', fail);
    socket.once('close', closed);
    socket.once(event, done);
  });
  return { socket, ready };
}

export interface StreamTarget extends ConnectTarget {
  /** How long a written batch must stay on a live connection before it counts as delivered. */
  settleMs: number;
}

/**
 * One live connection and the writes on it. Each write is one `socket.write` of a whole batch
 * (so batches never interleave), in the order the writes came; a write that finds the socket's
 * buffer full (`write` answered false) waits for 'drain', and so does every write after it.
 * A write is settled once its bytes were flushed to the kernel and the connection then stayed up
 * for settleMs; each write has its own deadline, so many settle at once. A failure of the
 * connection rejects every write not yet settled.
 */
class StreamConnection {
  failure: Error | undefined;
  readonly #unsettled = new Set<(error: Error) => void>();
  readonly #waiting: Array<() => void> = [];
  #blocked = false;

  constructor(
    readonly socket: Socket,
    private readonly name: string,
  ) {
    socket.on('error', (error) => this.fail(error));
    // A receiver that closes its side (it stopped, it died: the kernel sends FIN) has taken its last byte.
    socket.on('end', () => this.fail(new Error('connection closed by the receiver')));
    socket.on('close', () => this.fail(new Error('connection closed')));
    socket.on('drain', () => {
      this.#blocked = false;
      while (!this.#blocked && this.#waiting.length > 0) this.#waiting.shift()!();
    });
    // Receivers do not talk back on syslog; whatever they send is read and dropped.
    socket.on('data', () => {});
  }

  get writableLength(): number {
    return this.socket.writableLength;
  }

  write(bytes: Buffer, signal: AbortSignal, settleMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.#unsettled.delete(onFailure);
        signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onFailure = (error: Error) => finish(new TransportError(`connection to ${this.name} failed before the batch settled: ${error.message}`));
      const onAbort = () => finish(new TransportError('send aborted'));
      const settle = () => (this.failure ? onFailure(this.failure) : finish());
      const write = () => {
        if (done) return; // aborted while it waited for 'drain'
        if (this.failure) return onFailure(this.failure);
        const more = this.socket.write(bytes, (error) => {
          if (error) onFailure(error);
          else if (settleMs === 0) settle();
          else timer = setTimeout(settle, settleMs);
        });
        if (!more) this.#blocked = true;
      };
      if (signal.aborted) return onAbort();
      this.#unsettled.add(onFailure);
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.#blocked || this.#waiting.length > 0) this.#waiting.push(write);
      else write();
    });
  }

  fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.socket.destroy();
    for (const reject of [...this.#unsettled]) reject(error);
    this.#unsettled.clear();
    for (const write of this.#waiting.splice(0)) write();
  }

  /** Ends the connection after what was written; destroys it after `graceMs`. */
  close(graceMs = 1000): Promise<void> {
    const { socket } = this;
    if (socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => (socket.destroy(), resolve()), graceMs);
      timer.unref();
      socket.once('close', () => (clearTimeout(timer), resolve()));
      socket.end();
    });
  }
}

/**
 * TCP (RFC 6587) and TLS (RFC 5425). write() may be called concurrently: the sends share one
 * connection, and one reconnect after a failure.
 */
export class StreamSender {
  #connection: StreamConnection | undefined;
  #connecting: { socket: Socket; promise: Promise<StreamConnection> } | undefined;
  readonly #name: string;

  constructor(private readonly target: StreamTarget) {
    this.#name = where(target);
  }

  /** Bytes handed to the socket and not yet flushed to the kernel (0 without a connection). */
  get writableLength(): number {
    return this.#connection?.writableLength ?? 0;
  }

  /**
   * Writes the bytes (one batch) and resolves once they were flushed to a connection that then
   * stayed up for `settleMs`: a receiver that died meanwhile makes this reject, and the runtime
   * resends. TCP syslog has no acknowledgement of its own, so this is at least once, never
   * exactly once.
   */
  write(bytes: Buffer, signal: AbortSignal): Promise<void> {
    const connection = this.#connection;
    if (connection !== undefined && connection.failure === undefined) return connection.write(bytes, signal, this.target.settleMs);
    return abortable(this.#connect(), signal).then((fresh) => fresh.write(bytes, signal, this.target.settleMs));
  }

  async close(): Promise<void> {
    const connection = this.#connection;
    const connecting = this.#connecting;
    this.#connection = undefined;
    this.#connecting = undefined;
    connecting?.socket.destroy();
    await connection?.close();
  }

  #connect(): Promise<StreamConnection> {
    if (this.#connecting !== undefined) return this.#connecting.promise;
    this.#connection?.fail(new Error('replaced'));
    this.#connection = undefined;
    const { socket, ready } = openSocket(this.target, this.#name);
    const promise = ready.then(
      (open) => {
        const connection = new StreamConnection(open, this.#name);
        if (this.#connecting?.promise === promise) {
          this.#connecting = undefined;
          this.#connection = connection;
        } else connection.fail(new Error('the sender was closed')); // close() came first
        return connection;
      },
      (error: unknown) => {
        if (this.#connecting?.promise === promise) this.#connecting = undefined;
        throw error;
      },
    );
    this.#connecting = { socket, promise };
    return promise;
  }
}

/** UDP (RFC 5426): one datagram a message, no acknowledgement, no resend. */
export class DatagramSender {
  #socket: UdpSocket | undefined;

  constructor(private readonly target: { host: string; port: number }) {}

  /** Sends `bytes` as datagrams of the given sizes, back to back (one Buffer for the batch). */
  async send(bytes: Buffer, sizes: readonly number[], signal: AbortSignal): Promise<void> {
    const family = this.target.host.includes(':') ? 'udp6' : 'udp4';
    this.#socket ??= createSocket(family);
    const socket = this.#socket;
    let at = 0;
    for (const size of sizes) {
      if (signal.aborted) throw new TransportError('send aborted');
      const datagram = bytes.subarray(at, at + size);
      at += size;
      await new Promise<void>((resolve, reject) =>
        socket.send(datagram, this.target.port, this.target.host, (error) =>
          error ? reject(new TransportError(`udp://${this.target.host}:${this.target.port}: ${error.message}`)) : resolve(),
        ),
      );
    }
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
