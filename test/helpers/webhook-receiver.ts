import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { ConformanceHarness } from '../../src/kit/index.js';
import { LoopbackReceiver } from './loopback-server.js';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** The body as sent, decompressed. */
  text: string;
}

/**
 * A webhook receiver on 127.0.0.1 that behaves as the conformance kit asks: it accepts JSON
 * arrays and NDJSON (gzip too), checks the Authorization header it expects, and, like some
 * debugging receivers, echoes the request's credentials in its error bodies — so a connector
 * that prints response bodies must scrub them.
 */
export class WebhookReceiver extends LoopbackReceiver implements ConformanceHarness {
  readonly requests: ReceivedRequest[] = [];
  /** The headers a request must carry (lower-case names); a mismatch answers 401. */
  expectHeaders: Record<string, string> = {};

  get url(): string {
    return `${this.origin}/hook`;
  }

  protected serve(listener: RequestListener): Server {
    return createServer(listener);
  }

  override reset(): void {
    super.reset();
    this.requests.length = 0;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const text = body.toString('utf8');
    this.requests.push({ method: req.method!, path: req.url!, headers: req.headers, text });
    const echo = { authorization: req.headers.authorization ?? null, 'x-api-key': req.headers['x-api-key'] ?? null };
    const answer = (status: number, payload: object, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
    };

    for (const [name, value] of Object.entries(this.expectHeaders)) {
      if (req.headers[name] !== value) return answer(401, { error: 'unauthorized', echo });
    }
    let ids: string[];
    try {
      const events = (req.headers['content-type'] === 'application/x-ndjson'
        ? text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line))
        : JSON.parse(text)) as Array<{ id: string }>;
      ids = events.map((event) => event.id);
    } catch {
      return answer(400, { error: 'unreadable body' });
    }

    const behaviour = this.behaviour;
    switch (behaviour.kind) {
      case 'hang':
        this.hold(res);
        return;
      case 'transient':
        if (this.takeTransient()) {
          return answer(503, { error: 'busy, try again', echo });
        }
        break;
      case 'permanent':
        return answer(400, { error: 'schema mismatch', echo });
      case 'reject': {
        const bad = ids.filter((id) => behaviour.ids.includes(id));
        if (bad.length > 0) return answer(400, { error: 'rejected events', ids: bad, echo });
        break;
      }
      case 'ok':
        break;
    }
    this.ids.push(...ids);
    answer(200, { accepted: ids.length });
  }
}
