/**
 * Proves slack-webhook with the conformance kit, against a stand-in for Slack on 127.0.0.1 that
 * answers as Slack does.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { conformanceSuite, type ConformanceHarness, type SinkBehaviour } from '../../src/kit/index.js';
import slack from '../fixtures/external-connector/slack-webhook.js';

const SECRET = 'T0TRUST/B0WIRE/x9Qk2LmVn4Rs7TpW';
const ID = /`([0-9a-f-]{36})`/g;

class FakeSlack implements ConformanceHarness {
  #server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => this.#answer(req.url ?? '', body, res));
  });
  #mode: SinkBehaviour = { kind: 'ok' };
  #received: string[] = [];
  #hanging: ServerResponse[] = [];

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/services/${SECRET}`;
  }
  async start() {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }
  async stop() {
    this.reset();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
  behave(mode: SinkBehaviour) {
    this.#mode = mode;
    if (mode.kind !== 'hang') for (const res of this.#hanging.splice(0)) res.destroy();
  }
  async received() {
    return [...this.#received];
  }
  reset() {
    this.behave({ kind: 'ok' });
    this.#received = [];
  }

  #answer(path: string, body: string, res: ServerResponse) {
    const mode = this.#mode;
    if (path !== `/services/${SECRET}`) return res.writeHead(404).end('no_service');
    const ids = [...(JSON.parse(body) as { text: string }).text.matchAll(ID)].map((match) => match[1]!);
    if (mode.kind === 'hang') return void this.#hanging.push(res);
    if (mode.kind === 'transient') return res.writeHead(500).end('rollup_error');
    if (mode.kind === 'permanent') return res.writeHead(400).end('invalid_payload');
    // Slack has no per-item answers: one bad event fails the message.
    if (mode.kind === 'reject' && ids.some((id) => mode.ids.includes(id))) return res.writeHead(400).end('invalid_blocks');
    this.#received.push(...ids);
    res.writeHead(200).end('ok');
  }
}

const fakeSlack = new FakeSlack();
conformanceSuite({
  definition: slack,
  options: () => ({ url: fakeSlack.url }),
  harness: fakeSlack,
  secrets: [SECRET],
  partial: false,
});
