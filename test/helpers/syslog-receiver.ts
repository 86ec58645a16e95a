import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext, TLSSocket } from 'node:tls';
import type { ConformanceHarness, SinkBehaviour } from '../../src/kit/index.js';
import { makeCertificates } from './certs.js';

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
      const tls = new TLSSocket(socket, { isServer: true, secureContext: context });
      tls.on('error', () => {});
      let buffer = Buffer.alloc(0);
      tls.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const space = buffer.indexOf(0x20);
          if (space < 0) break;
          const length = Number(buffer.subarray(0, space).toString('latin1'));
          if (buffer.length < space + 1 + length) break;
          const message = buffer.subarray(space + 1, space + 1 + length).toString('utf8');
          buffer = buffer.subarray(space + 1 + length);
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

  async received(): Promise<string[]> {
    await new Promise((resolve) => setTimeout(resolve, 50)); // the last frames may still be in flight
    return [...this.#received];
  }

  reset(): void {
    this.behave({ kind: 'ok' });
    this.#received = [];
  }
}
