import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { fuzz, FUZZ_RUNS, FUZZ_TIMEOUT_MS, type Random } from '../helpers/fuzz.js';

const DIR = new URL('../fixtures/config/', import.meta.url);
const BASE_DIR = fileURLToPath(DIR);
const FIXTURES = readdirSync(DIR)
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => readFileSync(new URL(name, DIR), 'utf8'));

// The valid fixture's secrets, so that mutations of it can still be taken.
process.env.TRUSTWIRE_TEST_KAFKA_PASSWORD ??= 'fuzz-password';
process.env.TRUSTWIRE_TEST_HVS_TOKEN ??= 'fuzz-token';

/** Scalars YAML reads as something else than they look, and values no option takes. */
const ODD_SCALARS = [
  '~',
  'null',
  '-1',
  '1e999',
  '.inf',
  '.nan',
  '0x1F',
  '0o17',
  '1_000',
  'yes',
  'off',
  '2024-02-30',
  "''",
  '""',
  '"\\u0000"',
  '"\\x85"',
  '!!binary aGVsbG8=',
  '!!js/function "function () {}"',
  '!!timestamp 2024-01-01',
  '!unknown x',
  '[]',
  '{}',
  '[a, [b, [c]]]',
  '{ env: HOME }',
  '{ env: TRUSTWIRE_FUZZ_UNSET }',
  '{ file: ./proxy.token }',
  '{ file: ./no-such-file }',
  '{ file: ../../../package.json }',
  '{ file: . }',
  '&a x',
  '*a',
  '*nowhere',
  '"' + 'x'.repeat(70_000) + '"',
  '|\n  block\n  text',
  '>-\n  folded',
  '- list',
  'a: b: c',
  '"unterminated',
  "'it''s'",
  '\t',
  '9999999999999999999999',
  '65536',
  '0',
  '127.0.0.1:9092',
  'http://user:pass@example.net',
];
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', '<<', '"quoted key"', 'kafka', 'http', 'port', 'tokens', 'x'.repeat(300), '"\\u0000"', '-', '1'];

/** An alias bomb: each level doubles the one before; YAML stops it (maxAliasCount) or not. */
function aliasBomb(levels: number): string {
  const lines = ['a0: &a0 [x, x]'];
  for (let i = 1; i < levels; i++) lines.push(`a${i}: &a${i} [*a${i - 1}, *a${i - 1}, *a${i - 1}, *a${i - 1}]`);
  return lines.join('\n');
}

/** One line-level change to YAML text. */
function mutateYaml(text: string, random: Random): string {
  const lines = text.split('\n');
  const at = random.int(lines.length);
  const line = lines[at] ?? '';
  switch (random.int(12)) {
    case 0:
      lines.splice(at, 1);
      break;
    case 1:
      lines.splice(at, 0, line);
      break;
    case 2: {
      const other = random.int(lines.length);
      [lines[at], lines[other]] = [lines[other] ?? '', line];
      break;
    }
    case 3:
      lines[at] = random.chance(0.5) ? `${random.pick(['  ', '\t', ' ', '    '])}${line}` : line.replace(/^\s{1,2}/, '');
      break;
    case 4:
    case 5:
    case 6: {
      // A value replaced: after the first `: ` or `- `, or the whole line.
      const colon = line.search(/:\s|-\s/);
      lines[at] = colon >= 0 ? `${line.slice(0, colon + 2)}${random.pick(ODD_SCALARS)}` : random.pick(ODD_SCALARS);
      break;
    }
    case 7:
      lines.splice(at, 0, `${line.match(/^\s*/)?.[0] ?? ''}${random.pick(ODD_KEYS)}: ${random.pick(ODD_SCALARS)}`);
      break;
    case 8: {
      // Deep flow collections cost YAML ~0.1 ms a level: deep enough to find a recursion, no deeper.
      const depth = random.pick([10, 100, 1_000]);
      lines.splice(at, 0, random.chance(0.5) ? `deep: ${'['.repeat(depth)}${']'.repeat(depth)}` : Array.from({ length: Math.min(depth, 300) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'));
      break;
    }
    case 9:
      lines.splice(at, 0, aliasBomb(random.pick([3, 6, 10, 20])));
      break;
    case 10:
      return text.slice(0, random.int(text.length + 1));
    default: {
      // Characters that YAML or the options refuse: control characters, BOM, document markers.
      const char = random.pick(['\u0000', '\u0007', '\u0085', '\ufeff', '\r', '\t', '---', '...', '%YAML 1.1', '#', '"', "'", '{', '[', '&', '*', '!', '|', '>', '@', '`']);
      const column = random.int(line.length + 1);
      lines[at] = `${line.slice(0, column)}${char}${line.slice(column)}`;
    }
  }
  return lines.join(random.chance(0.95) ? '\n' : '\r\n');
}

function mutatedConfig(random: Random): string {
  let text = random.pick(FIXTURES);
  // At least one change: the fixtures as they are are config.test.ts's.
  const changes = random.pick([1, 1, 2, 3, 5]);
  for (let i = 0; i < changes; i++) text = mutateYaml(text, random);
  return text;
}

test(`parseConfig: ${FUZZ_RUNS} mutated configurations give a Config or a ConfigError, quickly`, { timeout: FUZZ_TIMEOUT_MS }, async () => {
  const outcomes = { config: 0, refused: 0 };
  await fuzz(
    'config',
    mutatedConfig,
    (text) => {
      const started = performance.now();
      try {
        const config = parseConfig(text, 'fuzz.yaml', BASE_DIR);
        assert.equal(typeof config, 'object');
        outcomes.config++;
      } catch (error) {
        assert.ok(error instanceof ConfigError, `threw ${(error as Error).stack}`);
        assert.ok(error.details.length > 0, 'a ConfigError naming no problem');
        outcomes.refused++;
      }
      const took = performance.now() - started;
      assert.ok(took < 2_000, `took ${Math.round(took)} ms`);
    },
    (text) => JSON.stringify(text),
  );
  process.stderr.write(`config fuzz: ${JSON.stringify(outcomes)}\n`);
});
