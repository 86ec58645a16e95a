/**
 * The code's layers, kept: every import goes to the importer's layer or one below it
 * (scripts/layers.ts has the order and why), and no files or folders import each other in a circle.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cycles, folderCycles, importGraph, layerOf, violations } from '../../scripts/layers.js';

const graph = importGraph();

test('every file of src/ and connectors/ has a layer', () => {
  assert.deepEqual([...graph.keys()].filter((file) => layerOf(file) === undefined), []);
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
