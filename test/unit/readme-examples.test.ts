/**
 * Every configuration example in the READMEs (the project's and the connectors') is one trustwire accepts:
 * the file's schema and the connector's own options, and trustwire keeps what it says (no value
 * written dropped or changed on the way in). Secret references are replaced by inline values
 * first (the example's files and variables exist on an operator's machine, not here), and PEM
 * files by a test certificate and key (trustwire reads and parses those at load). Then what the
 * project README says around its examples: the defaults it lists and the consumer groups it names.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { processorGroup } from '../../src/processor/worker.js';
import { byUserGroup } from '../../src/processor/users.js';
import { byWorkloadGroup } from '../../src/processor/workloads.js';
import { loadConnector } from '../../src/runtime/registry.js';
import { sinkGroup } from '../../src/runtime/runner.js';

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
  test(`${readme.startsWith('../') ? readme.slice('../'.length) : `connectors/${readme}`}: every configuration example is valid and kept as written`, async () => {
    for (const example of examples) {
      const yaml = example
        .replace(/\{\s*(env|file):\s*([^}]+?)\s*\}/g, (reference, _kind, target: string) =>
          target.endsWith('.key') ? `{ file: ${EXAMPLE_KEY} }` : /\.(pem|crt)$/.test(target) ? `{ file: ${EXAMPLE_CERT} }` : '"example-secret-value"',
        )
        .replace(/(\b(?:ca|cert):\s*)\/[^\s,}]+\.(?:pem|crt)/g, `$1${EXAMPLE_CERT}`);
      const config = parseConfig(yaml, readme);
      const problems: string[] = [];
      keptAsWritten(parseYaml(yaml), config, '', problems);
      assert.deepEqual(problems, [], `${readme}: what the example sets is what trustwire takes:\n${example}`);
      for (const [index, settings] of config.connectors.entries()) {
        if (settings.module !== undefined) continue; // an operator's own module, not in this repository
        await loadConnector(settings, `connectors[${index}]`, process.cwd());
      }
    }
  });
}

/**
 * Collects, into `problems`, every value written in an example that the parsed configuration
 * does not hold at the same path. Not compared: secrets and PEM files (replaced above, then read),
 * paths (resolved against the file's folder), dates (epoch ms inside), and a connector's
 * `options` (its own schema; loadConnector checks them). A scoring model's short name stands for its URN.
 */
function keptAsWritten(written: unknown, parsed: unknown, path: string, problems: string[]): void {
  if (/(^|\.)(options|templates|token|password|key|cert|ca|clientCa)$/.test(path) || /\.expiresAt$/.test(path)) return;
  if (Array.isArray(written)) {
    if (!Array.isArray(parsed) || parsed.length !== written.length) return void problems.push(`${path}: written ${JSON.stringify(written)}, taken ${JSON.stringify(parsed)}`);
    written.forEach((item, i) => keptAsWritten(item, parsed[i], `${path}[${i}]`, problems));
    return;
  }
  if (written !== null && typeof written === 'object') {
    if (parsed === null || typeof parsed !== 'object') return void problems.push(`${path}: written an object, taken ${JSON.stringify(parsed)}`);
    for (const [key, value] of Object.entries(written)) keptAsWritten(value, (parsed as Record<string, unknown>)[key], path ? `${path}.${key}` : key, problems);
    return;
  }
  // A scoring model may be written by its short name: trustwire keeps the XCCDF URN it stands for.
  if (path === 'compliance.model' && parsed === `urn:xccdf:scoring:${String(written)}`) return;
  if (written !== parsed) problems.push(`${path}: written ${JSON.stringify(written)}, taken ${JSON.stringify(parsed)}`);
}

const projectReadme = readFileSync(new URL('../README.md', dir), 'utf8');
/** The project README's YAML example that holds `marker`. */
function exampleWith(marker: string): string {
  const example = [...projectReadme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!).find((yaml) => yaml.includes(marker));
  assert.ok(example !== undefined, `README.md has an example with ${marker}`);
  return example;
}

test('README.md: the topics it lists as the defaults are the defaults', () => {
  const reference = exampleWith('# these are the defaults');
  const written = (parseYaml(reference) as { kafka: { topics: Record<string, string> } }).kafka.topics;
  assert.deepEqual(parseConfig('{}').kafka.topics, written);
});

test('README.md: the request bounds table gives the defaults a configuration without http gets', () => {
  const rows = [...projectReadme.matchAll(/^\| [^|]*`(http\.\w+)`[^|]*\| ([^|]+) \|/gm)].map((match) => [match[1]!, match[2]!.trim()] as const);
  assert.deepEqual(rows.map(([option]) => option).sort(), ['http.bodyLimitBytes', 'http.maxEventsPerRequest', 'http.requestTimeoutMs']);
  const value = (text: string) => {
    const [, number, unit] = /^([\d,.]+)\s*(s|MiB)?$/.exec(text) ?? [];
    assert.ok(number !== undefined, `a default the test can read: ${text}`);
    return Number(number.replaceAll(',', '')) * (unit === 's' ? 1000 : unit === 'MiB' ? 1 << 20 : 1);
  };
  const http = parseConfig('{}').http as Record<string, unknown>;
  for (const [option, written] of rows) assert.equal(http[option.slice('http.'.length)], value(written), `${option}: ${written}`);
});

test('README.md: the consumer groups it names are the ones trustwire joins', () => {
  const reference = exampleWith('groupPrefix:');
  const [, prefix, groups] = /groupPrefix: (\S+)\s+# groups (.+)$/m.exec(reference) ?? [];
  assert.equal(prefix, parseConfig('{}').kafka.groupPrefix, 'the example shows the default prefix');
  assert.equal(groups, '<prefix>-processor, -by-user, -by-workload, -sink-<name>');
  assert.deepEqual(
    [processorGroup(prefix), byUserGroup(prefix), byWorkloadGroup(prefix), sinkGroup('soc-webhook', prefix)],
    [`${prefix}-processor`, `${prefix}-by-user`, `${prefix}-by-workload`, `${prefix}-sink-soc-webhook`],
  );
  // The connectors example names its connector's group in a comment.
  const connectors = exampleWith('# consumer group ');
  const [, name, group] = /name: (\S+)\s+# consumer group (\S+)/.exec(connectors) ?? [];
  assert.equal(sinkGroup(parseConfig(connectors.replace(/\{\s*env:\s*\w+\s*\}/g, '"example-secret-value"')).connectors[0]!.name), group);
  assert.equal(name, 'soc-webhook');
});
