/**
 * The guide's connector as an operator keeps it: copied to a folder of their own outside this
 * repository, named by module path, loaded the way the runtime loads connectors, and proved
 * with the conformance kit against a stand-in for Slack.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { conformanceSuite, type ConformanceHarness, type SinkBehaviour } from '../../src/kit/index.js';
import { loadConnector } from '../../src/runtime/registry.js';
import { ConnectorInstanceSettings } from '../../src/runtime/settings.js';

const SECRET = 'T0TRUST/B0WIRE/outside-the-repo-77';

/** Slack's incoming webhook as far as the kit needs it: 200 ok, 400 invalid_payload, 500. */
class StandInSlack implements ConformanceHarness {
  #server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => this.#answer(body, res));
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
  #answer(body: string, res: ServerResponse) {
    const ids = [...(JSON.parse(body) as { text: string }).text.matchAll(/`([0-9a-f-]{36})`/g)].map((match) => match[1]!);
    const mode = this.#mode;
    if (mode.kind === 'hang') return void this.#hanging.push(res);
    if (mode.kind === 'transient') return res.writeHead(500).end('rollup_error');
    if (mode.kind === 'permanent' || (mode.kind === 'reject' && ids.some((id) => mode.ids.includes(id)))) return res.writeHead(400).end('invalid_payload');
    this.#received.push(...ids);
    res.writeHead(200).end('ok');
  }
}

const outside = mkdtempSync(join(tmpdir(), 'operator-connectors-'));
after(() => rmSync(outside, { recursive: true, force: true }));
const source = readFileSync(new URL('../fixtures/external-connector/slack-webhook.ts', import.meta.url), 'utf8');
const contract = pathToFileURL(fileURLToPath(new URL('../../src/connector.ts', import.meta.url))).href;
writeFileSync(join(outside, 'slack-webhook.ts'), source.replace("'../../../src/connector.js'", JSON.stringify(contract)));

const loaded = await loadConnector(
  ConnectorInstanceSettings.parse({ name: 'slack', module: './slack-webhook.ts', options: { url: 'https://hooks.example/x' } }),
  'connectors[0]',
  outside,
);
const slack = new StandInSlack();
conformanceSuite({
  definition: loaded.definition,
  label: `loaded by module path from ${outside}`,
  options: () => ({ url: slack.url }),
  harness: slack,
  secrets: [SECRET],
  partial: false,
});
