/**
 * The guide's outside HTTP connector (test/fixtures/external-connector/ndjson-webhook.ts), written
 * only against `trustwire/connector`: copied to a folder outside this repository, loaded by module
 * path the way the runtime loads connectors, and proved with the conformance kit against a
 * webhook receiver that checks the bearer token and echoes it in its error bodies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { conformanceSuite, sampleBatch } from '../../src/kit/index.js';
import { loadConnector } from '../../src/runtime/registry.js';
import { ConnectorInstanceSettings } from '../../src/runtime/settings.js';
import { bodyOf } from '../fixtures/external-connector/ndjson-webhook.js';
import { WebhookReceiver } from '../helpers/webhook-receiver.js';

const TOKEN = 'ndjson-outside-token-5d2e91';
const FIXTURE = new URL('../fixtures/external-connector/ndjson-webhook.ts', import.meta.url);
const source = readFileSync(FIXTURE, 'utf8');

// Loaded before any test is declared, so that every suite of the file is known from the start.
const outside = mkdtempSync(join(tmpdir(), 'operator-http-connectors-'));
after(() => rmSync(outside, { recursive: true, force: true }));
const entry = pathToFileURL(fileURLToPath(new URL('../../src/connector.ts', import.meta.url))).href;
writeFileSync(join(outside, 'ndjson-webhook.ts'), source.replace("'../../../src/connector.js'", JSON.stringify(entry)));

const loaded = await loadConnector(
  ConnectorInstanceSettings.parse({ name: 'collector', module: './ndjson-webhook.ts', options: { url: 'https://collector.example/v1', token: TOKEN } }),
  'connectors[0]',
  outside,
);

test('the connector imports nothing but trustwire/connector, and stays under 150 lines', () => {
  const imports = [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1]);
  assert.deepEqual(imports, ['../../../src/connector.js']);
  assert.ok(source.trimEnd().split('\n').length < 150);
  assert.equal(bodyOf(sampleBatch(2)).toString().split('\n').length, 3, 'one line per event, each ending in \\n');
});

for (const compression of ['gzip', 'none'] as const) {
  const receiver = new WebhookReceiver();
  receiver.expectHeaders = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' };
  conformanceSuite({
    definition: loaded.definition,
    label: `loaded by module path from outside the repository, compression ${compression}`,
    options: () => ({ url: receiver.url, token: TOKEN, compression }),
    harness: receiver,
    secrets: [TOKEN],
    partial: false,
  });
}
