import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { z } from 'zod';
import { secretOption } from '../../src/config/secret.js';
import { optionRows, optionsTable, withOptionsSection } from '../../src/runtime/options-doc.js';
import { connectorReadmes } from '../../scripts/connector-docs.js';

test("every built-in connector's README documents the options its schema has", async () => {
  const readmes = await connectorReadmes();
  assert.ok(readmes.length >= 3, 'the built-in connectors are found');
  for (const readme of readmes) {
    assert.equal(readme.current, readme.rendered, `${readme.type}/README.md is out of date: run node --import tsx scripts/connector-docs.ts`);
  }
});

test('the options table flattens nested objects and tagged unions, marks secrets, and shows defaults', () => {
  const schema = z.strictObject({
    url: z.url().describe('where').meta({ examples: ['https://x.example'] }),
    retry: z.strictObject({ times: z.number().int().min(0).default(3).describe('how often').meta({ examples: [5] }) }).prefault({}).describe('retrying'),
    auth: z
      .discriminatedUnion('type', [
        z.strictObject({ type: z.literal('none') }),
        z.strictObject({ type: z.literal('bearer'), token: secretOption().describe('the token').meta({ examples: [{ env: 'T' }] }) }),
      ])
      .prefault({ type: 'none' })
      .describe('credentials'),
  });
  assert.deepEqual(
    optionRows(schema).map((row) => [row.path, row.type, row.required, row.default, row.when, row.secret]),
    [
      ['url', 'URL', true, undefined, undefined, false],
      ['retry', 'object', false, {}, undefined, false],
      ['retry.times', 'integer (≥ 0)', false, 3, undefined, false],
      ['auth', 'object, by type', false, { type: 'none' }, undefined, false],
      ['auth.type', '"none" | "bearer"', true, 'none', undefined, false],
      ['auth.token', 'secret', true, undefined, 'auth.type: bearer', true],
    ],
  );
  const table = optionsTable(schema);
  assert.match(table, /\| `auth\.type` \| "none" \\\| "bearer" \| `"none"` \|/);
  assert.match(table, /\| `auth\.token` \| secret: `\{env: NAME\}`, `\{file: PATH\}` or inline \| \*required\* \| \(when `auth\.type: bearer`\) the token \| `\{"env":"T"\}` \|/);
  assert.throws(() => withOptionsSection('# no markers', schema), /no <!-- options:start -->/);
});

/** What the guide writes for the repository's own import paths: the package's names. */
const AS_PUBLISHED: Array<[string, string]> = [
  ["'../../../src/connector.js'", "'trustwire/connector'"],
  ["'../../src/kit/index.js'", "'trustwire/kit'"],
  ["'../fixtures/external-connector/slack-webhook.js'", "'./slack-webhook.js'"],
];

test("the guide's worked example is the tested external connector and its test, as they are", () => {
  const guide = readFileSync(new URL('../../connectors/README.md', import.meta.url), 'utf8');
  const shown = [...guide.matchAll(/<!-- file: (\S+) -->\n```ts\n([\s\S]*?)\n```/g)];
  assert.deepEqual(
    shown.map((match) => match[1]),
    ['test/fixtures/external-connector/slack-webhook.ts', 'test/fixtures/external-connector/ndjson-webhook.ts', 'test/unit/external-connector.test.ts'],
  );
  for (const [, path, code] of shown) {
    let text = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8').trimEnd();
    for (const [local, published] of AS_PUBLISHED) text = text.replaceAll(local, published);
    assert.equal(code, text, `connectors/README.md shows ${path} as it is (imports as published)`);
  }
});
