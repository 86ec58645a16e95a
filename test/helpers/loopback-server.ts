import type { Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';

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
