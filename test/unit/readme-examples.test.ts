/**
 * Every configuration example in the READMEs (the project's and the connectors') is one trustwire accepts:
 * the file's schema and the connector's own options. Secret references are replaced by inline
 * values first (the example's files and variables exist on an operator's machine, not here),
 * and PEM files by a test certificate and key (trustwire reads and parses those at load).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.js';
import { loadConnector } from '../../src/runtime/registry.js';

const dir = new URL('../../connectors/', import.meta.url);
const EXAMPLE_CERT = fileURLToPath(new URL('../fixtures/tls/example.pem', import.meta.url));
const EXAMPLE_KEY = fileURLToPath(new URL('../fixtures/tls/example.key', import.meta.url));
const readmes = [
  '../README.md',
  'README.md',
  ...readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(new URL(`${entry.name}/README.md`, dir)))
    .map((entry) => `${entry.name}/README.md`),
];

for (const readme of readmes) {
  const text = readFileSync(new URL(readme, dir), 'utf8');
  const examples = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!).filter((yaml) => /^(connectors|kafka|compliance|processor|auth|http):/m.test(yaml));
  if (examples.length === 0) continue;
  test(`${readme.replace('../', '')}: every configuration example is valid`, async () => {
    for (const example of examples) {
      const yaml = example
        .replace(/\{\s*(env|file):\s*([^}]+?)\s*\}/g, (reference, _kind, target: string) =>
          target.endsWith('.key') ? `{ file: ${EXAMPLE_KEY} }` : /\.(pem|crt)$/.test(target) ? `{ file: ${EXAMPLE_CERT} }` : '"example-secret-value"',
        )
        .replace(/(\b(?:ca|cert):\s*)\/[^\s,}]+\.(?:pem|crt)/g, `$1${EXAMPLE_CERT}`);
      const config = parseConfig(yaml, readme);
      for (const [index, settings] of config.connectors.entries()) {
        if (settings.module !== undefined) continue; // an operator's own module, not in this repository
        await loadConnector(settings, `connectors[${index}]`, process.cwd());
      }
    }
  });
}
