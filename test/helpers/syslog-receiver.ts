import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { ConformanceHarness, SinkBehaviour } from '../../src/kit/index.js';
import { makeCertificates } from './certs.js';
import { eventually } from './eventually.js';

/** One connection the receiver reads frames from: the sender's port, and the bytes of a frame not yet whole. */
interface Reading {
  clientPort: number;
  buffer: Buffer;
}

/**
 * A syslog-over-TLS receiver (RFC 5425: octet-counted frames) for the conformance kit. A plain
 * TCP listener wraps each connection in TLS itself, so it can also refuse connections (a
 * receiver that is down: transient) or accept them and never answer the handshake (hang).
 * Syslog has no way to reject one message, so the kit runs it with `permanent: false`.
 */
export class SyslogTlsReceiver implements ConformanceHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'trustwire-syslog-kit-'));
  readonly certs = makeCertificates(this.dir);
  #server: Server | undefined;
  #behaviour: SinkBehaviour = { kind: 'ok' };
  #refuseLeft = 0;
  #received: string[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #reading = new Set<Reading>();

  get port(): number {
    return (this.#server!.address() as { port: number }).port;
  }

  async start(): Promise<void> {
    const context = createSecureContext({ cert: readFileSync(this.certs.serverCert), key: readFileSync(this.certs.serverKey) });
    this.#server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => {});
      if (this.#behaviour.kind === 'hang') return; // accept, never answer the handshake
      if (this.#refuseLeft > 0) {
        this.#refuseLeft--;
        socket.resetAndDestroy();
        return;
      }
      const reading: Reading = { clientPort: socket.remotePort!, buffer: Buffer.alloc(0) };
      this.#reading.add(reading);
      socket.on('close', () => this.#reading.delete(reading));
      const tls = new TLSSocket(socket, { isServer: true, secureContext: context });
      tls.on('error', () => {});
      tls.on('data', (chunk: Buffer) => {
        reading.buffer = Buffer.concat([reading.buffer, chunk]);
        for (;;) {
          const space = reading.buffer.indexOf(0x20);
          if (space < 0) break;
          const length = Number(reading.buffer.subarray(0, space).toString('latin1'));
          if (reading.buffer.length < space + 1 + length) break;
          const message = reading.buffer.subarray(space + 1, space + 1 + length).toString('utf8');
          reading.buffer = reading.buffer.subarray(space + 1 + length);
          const id = /\[trustwire@32473 id="([^"]+)"/.exec(message)?.[1];
          if (id !== undefined) this.#received.push(id);
        }
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
    rmSync(this.dir, { recursive: true, force: true });
  }

  behave(mode: SinkBehaviour): void {
    this.#behaviour = mode;
    this.#refuseLeft = mode.kind === 'transient' ? (mode.times ?? Number.MAX_SAFE_INTEGER) : 0;
    // Connections that exist already must fail too, as a restarted receiver's would.
    if (mode.kind !== 'ok') for (const socket of this.#sockets) socket.destroy();
  }

  /**
   * The ids received, once every byte the sink wrote is read and parsed. Syslog has no
   * acknowledgement: the sink's ok means its bytes reached the kernel, not this receiver, so
   * this waits until each connection it reads is drained (see #drained).
   */
  async received(): Promise<string[]> {
    await eventually(() => this.#drained(), 'every byte the sink wrote to the syslog receiver read and parsed', 10_000, 5);
    return [...this.#received];
  }

  /**
   * No byte in flight on any connection read here: none the sender's kernel holds unacknowledged
   * (tx_queue of the sender's end in /proc/net/tcp), none ours holds unread (rx_queue of this
   * end), and no frame cut short in the buffer. TLS records are decrypted as their bytes are
   * read, so bytes read and whole frames mean every frame was parsed.
   */
  #drained(): boolean {
    if ([...this.#reading].some((reading) => reading.buffer.length > 0)) return false;
    const hex = (port: number) => `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`; // 127.0.0.1, as /proc/net/tcp writes it
    const queues = new Map<string, { tx: number; rx: number }>();
    for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const [, local, remote, , txRx] = line.trim().split(/\s+/);
      if (local === undefined || remote === undefined || txRx === undefined) continue;
      const [tx, rx] = txRx.split(':').map((n) => Number.parseInt(n, 16));
      queues.set(`${local} ${remote}`, { tx: tx!, rx: rx! });
    }
    const server = hex(this.port);
    return [...this.#reading].every(({ clientPort }) => {
      const client = hex(clientPort);
      return (queues.get(`${client} ${server}`)?.tx ?? 0) === 0 && (queues.get(`${server} ${client}`)?.rx ?? 0) === 0;
    });
  }

  reset(): void {
    this.behave({ kind: 'ok' });
    this.#received = [];
  }
}
