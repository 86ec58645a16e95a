import assert from 'node:assert/strict';
import { test } from 'node:test';
import { truncateChars, truncateUtf8, utf8Length } from '../../src/formats/text.js';

const graphemes = (value: string) => [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(value)].map((s) => s.segment);

// ä precomposed and as a + combining diaeresis, CJK, an emoji with a skin tone, a flag, a ZWJ family.
const MIXED = 'aä\u0061\u0308中文👍🏽🇩🇪👨‍👩‍👧z';

test('a value within the limit is returned as it is', () => {
  assert.equal(truncateChars('abc', 3), 'abc');
  assert.equal(truncateUtf8('ä中', 5), 'ä中');
  assert.equal(truncateChars('', 0), '');
});

test('a character cut counts UTF-16 units and keeps whole user-perceived characters', () => {
  for (let max = 0; max <= MIXED.length; max++) {
    const cut = truncateChars(MIXED, max);
    assert.ok(cut.length <= max, `${max}: ${cut}`);
    assert.ok(MIXED.startsWith(cut));
    const kept = graphemes(cut);
    assert.deepEqual(kept, graphemes(MIXED).slice(0, kept.length), `${max}: ${cut}`);
  }
});

test('a byte cut keeps at most the budget of UTF-8 and whole user-perceived characters', () => {
  for (let max = 0; max <= utf8Length(MIXED); max++) {
    const cut = truncateUtf8(MIXED, max);
    assert.ok(utf8Length(cut) <= max, `${max}: ${cut}`);
    assert.equal(Buffer.from(cut).toString(), cut);
    const kept = graphemes(cut);
    assert.deepEqual(kept, graphemes(MIXED).slice(0, kept.length), `${max}: ${cut}`);
  }
});

test('a cluster longer than the limit is cut at a code point, never inside a surrogate pair', () => {
  const zalgo = `e${'\u0301'.repeat(20)}`;
  assert.equal(truncateChars(zalgo, 5), zalgo.slice(0, 5));
  assert.equal(truncateChars('👍👍', 3), '👍');
  assert.equal(truncateChars('👍', 1), '');
});
