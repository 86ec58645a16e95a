/**
 * The syslog sender, on node:net, node:tls and node:dgram (the npm package syslog-client has no
 * octet counting, no client certificates, TLS fixed to 1.2, and loses in-flight messages on
 * reconnect). A stream connection is opened on first use and again after any failure; the
 * runtime's retries are the reconnect backoff.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StreamTarget {
  protocol: 'tcp' | 'tls';
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** How long a written batch must stay on a live connection before it counts as delivered. */
  settleMs: number;
  tls?: ConnectionOptions;
}

/** A failure to reach or write to the receiver; the message names the receiver, never a key. */
export class TransportError extends Error {
  override name = 'TransportError';
}

export class StreamSender {
  #socket: Socket | undefined;
  #failure: Error | undefined;

  constructor(private readonly target: StreamTarget) {}

  /**
   * Writes the bytes and resolves once they were flushed to a connection that then stayed up
   * for `settleMs`: a receiver that died meanwhile makes this reject, and the runtime resends.
   * TCP syslog has no acknowledgement of its own, so this is at least once, never exactly once.
   */
  async write(bytes: Buffer, signal: AbortSignal): Promise<void> {
    const socket = await this.#connected(signal);
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new TransportError('send aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      socket.write(bytes, (error) => {
        signal.removeEventListener('abort', onAbort);
        if (error) reject(this.#fail(socket, error));
        else resolve();
      });
    });
    if (this.target.settleMs > 0) await sleep(this.target.settleMs, undefined, { signal }).catch(() => {});
    if (this.#failure !== undefined || socket.destroyed) {
      throw new TransportError(`connection to ${this.#where()} failed after the write: ${this.#failure?.message ?? 'closed'}`);
    }
  }

  close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket === undefined || socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.end(() => resolve());
      setTimeout(() => (socket.destroy(), resolve()), 1000).unref();
    });
  }

  #where(): string {
    return `${this.target.protocol}://${this.target.host}:${this.target.port}`;
  }

  #fail(socket: Socket, error: Error): TransportError {
    socket.destroy();
    if (this.#socket === socket) this.#socket = undefined;
    return new TransportError(`${this.#where()}: ${error.message}`);
  }

  async #connected(signal: AbortSignal): Promise<Socket> {
    if (this.#socket !== undefined && !this.#socket.destroyed && this.#failure === undefined) return this.#socket;
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#failure = undefined;
    const { host, port, connectTimeoutMs } = this.target;
    const socket =
      this.target.protocol === 'tls'
        ? tlsConnect({ host, port, ...this.target.tls })
        : netConnect({ host, port });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    await new Promise<void>((resolve, reject) => {
      const ready = this.target.protocol === 'tls' ? 'secureConnect' : 'connect';
      const timer = setTimeout(() => fail(new Error(`no connection within ${connectTimeoutMs} ms`)), connectTimeoutMs);
      const onAbort = () => fail(new Error('connect aborted'));
      const fail = (error: Error) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(new TransportError(`cannot connect to ${this.#where()}: ${error.message}`));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('error', fail);
      socket.once(ready, () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        socket.off('error', fail);
        resolve();
      });
    });
    // A failure later (reset by the receiver, TLS alert) marks the connection dead for the next write.
    socket.on('error', (error) => (this.#failure = error));
    socket.on('close', () => (this.#failure ??= new Error('connection closed by the receiver')));
    // Receivers do not talk back on syslog; whatever they send is read and dropped.
    socket.on('data', () => {});
    this.#socket = socket;
    return socket;
  }
}

/** UDP (RFC 5426): one datagram a message, no acknowledgement, no resend. */
export class DatagramSender {
  #socket: UdpSocket | undefined;

  constructor(private readonly target: { host: string; port: number }) {}

  async send(messages: readonly Buffer[], signal: AbortSignal): Promise<void> {
    const family = this.target.host.includes(':') ? 'udp6' : 'udp4';
    this.#socket ??= createSocket(family);
    const socket = this.#socket;
    for (const message of messages) {
      if (signal.aborted) throw new TransportError('send aborted');
      await new Promise<void>((resolve, reject) =>
        socket.send(message, this.target.port, this.target.host, (error) =>
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
