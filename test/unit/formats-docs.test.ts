import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FORMATS_DOC, regenerate } from '../../src/formats/docs.js';

test('docs/formats.md shows the mapping tables the code runs on (node --import tsx src/formats/docs.ts rewrites them)', () => {
  const text = readFileSync(FORMATS_DOC, 'utf8');
  assert.equal(regenerate(text), text);
});

test('a docs file without a generated section is refused', () => {
  assert.throws(() => regenerate('# Formats\n'), /lacks the generated sections/);
});
