/**
 * The code's layers, kept: every import goes to the importer's layer or one below it
 * (scripts/layers.ts has the order and why), no files or folders import each other in a circle, and
 * none imports the tooling under scripts/ (src/cli alone may import scripts/kafka/, the local broker),
 * which itself imports only src's base and paths.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cycles, folderCycles, importGraph, layerOf, violations } from '../../scripts/layers.js';

const graph = importGraph();

test('every file of src/ and connectors/ has a layer', () => {
  assert.deepEqual([...graph.keys()].filter((file) => !file.startsWith('scripts/kafka/') && layerOf(file) === undefined), []);
});

test('no import runs against the layers', () => {
  assert.deepEqual(violations(graph).map((v) => `${v.from} (${v.fromLayer}) imports ${v.to} (${v.toLayer})`), []);
});

test('no import cycle between files or between folders', () => {
  assert.deepEqual(cycles(graph), []);
  assert.deepEqual(folderCycles(graph), []);
});

test('the check sees an upward import and a cycle when there is one', () => {
  const bad = new Map([
    ['src/kafka/client.ts', ['src/config/schema.ts']],
    ['src/config/schema.ts', ['src/kafka/client.ts']],
  ]);
  assert.deepEqual(violations(bad).map((v) => [v.fromLayer, v.toLayer]), [['kafka', 'service']]);
  assert.deepEqual(cycles(bad), [['src/config/schema.ts', 'src/kafka/client.ts']]);
});

test('the check sees an import of scripts/ from src/ or connectors/, and lets src/cli import scripts/kafka/ alone', () => {
  const bad = new Map([
    ['src/service.ts', ['scripts/kafka/broker.ts']],
    ['connectors/syslog/index.ts', ['scripts/kafka/certificates.ts']],
    ['src/cli/start.ts', ['scripts/kafka/broker.ts', 'scripts/test.ts']],
    ['src/cli/options.ts', ['scripts/kafka/broker.ts']],
  ]);
  assert.deepEqual(violations(bad).map((v) => `${v.from} (${v.fromLayer}) imports ${v.to} (${v.toLayer})`), [
    'connectors/syslog/index.ts (connectors) imports scripts/kafka/certificates.ts (scripts)',
    'src/cli/start.ts (cli) imports scripts/test.ts (scripts)',
    'src/service.ts (service) imports scripts/kafka/broker.ts (scripts)',
  ]);
});

test('the check sees the local broker tooling import src/ beyond its base and paths.ts', () => {
  const bad = new Map([
    ['scripts/kafka/broker.ts', ['src/errors.ts', 'src/embedded/paths.ts', 'src/kafka/client.ts']],
    ['scripts/kafka/cluster.ts', ['scripts/kafka/broker.ts', 'src/log.ts']],
  ]);
  assert.deepEqual(violations(bad).map((v) => `${v.from} -> ${v.to} (${v.fromLayer} -> ${v.toLayer})`), ['scripts/kafka/broker.ts -> src/kafka/client.ts (scripts -> kafka)']);
  assert.ok(graph.has('scripts/kafka/broker.ts'), 'the tooling is in the graph the repository is checked on');
});
