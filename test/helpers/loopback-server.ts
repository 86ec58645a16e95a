import type { Server as HttpServer, IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Server as HttpsServerClass, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SinkBehaviour } from '../../src/kit/index.js';

/** What the protocol receivers in test/helpers share: a server on 127.0.0.1, answers held back on 'hang'. */
export async function listenOnLoopback(server: HttpServer | HttpsServer): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
}

export async function closeServer(server: HttpServer | HttpsServer | undefined): Promise<void> {
  if (server === undefined) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Responses a receiver never answers (the kit's 'hang'), dropped when it behaves again or stops. */
export class HeldResponses {
  readonly #held = new Set<ServerResponse>();
  hold(res: ServerResponse): void {
    this.#held.add(res);
  }
  release(): void {
    for (const res of this.#held) res.destroy();
    this.#held.clear();
  }
}

/**
 * The part every protocol receiver shares: a server on 127.0.0.1, started and stopped for the
 * kit, and the behaviour the kit asks of it (hang, transient failures, ...). A receiver says
 * what server it is (`serve`) and how it answers a request (`handle`), reading `behaviour`.
 */
export abstract class LoopbackReceiver {
  #server: HttpServer | HttpsServer | undefined;
  #behaviour: SinkBehaviour = { kind: 'ok' };
  #transientLeft = 0;
  readonly #hanging = new HeldResponses();

  /** The server, with `listener` answering its requests. */
  protected abstract serve(listener: RequestListener): HttpServer | HttpsServer;
  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  /** `http://127.0.0.1:PORT`, or `https://` for a TLS server. */
  protected get origin(): string {
    const { port } = this.#server!.address() as AddressInfo;
    return `${this.#server instanceof HttpsServerClass ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  protected get behaviour(): SinkBehaviour {
    return this.#behaviour;
  }

  /** Leaves a response unanswered (the kit's 'hang') until the receiver behaves again or stops. */
  protected hold(res: ServerResponse): void {
    this.#hanging.hold(res);
  }

  /** Uses up one of the transient failures asked for; false when none is left. */
  protected takeTransient(): boolean {
    if (this.#transientLeft <= 0) return false;
    this.#transientLeft--;
    return true;
  }

  async start(): Promise<void> {
    this.#server = this.serve((req, res) => void this.handle(req, res));
    await listenOnLoopback(this.#server);
  }

  async stop(): Promise<void> {
    this.#hanging.release();
    await closeServer(this.#server);
  }

  behave(mode: SinkBehaviour): void {
    this.#behaviour = mode;
    this.#transientLeft = mode.kind === 'transient' ? (mode.times ?? Infinity) : 0;
    if (mode.kind !== 'hang') this.#hanging.release();
  }

  /** The ids of the events taken, in the order they came. */
  protected ids: string[] = [];

  async received(): Promise<string[]> {
    return [...this.ids];
  }

  reset(): void {
    this.behave({ kind: 'ok' });
    this.ids = [];
  }
}
