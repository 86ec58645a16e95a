import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeUtf8, parseBody } from '../../src/ingest/body.js';
import { formatPath, MAX_FIELD_ERRORS, MORE_PATH, ValidationError } from '../../src/model/validation.js';

function refusal(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error;
  }
  assert.fail('not refused');
}

describe('decodeUtf8', () => {
  test('well-formed UTF-8 of every length decodes, a byte order mark dropped', () => {
    assert.equal(decodeUtf8(Buffer.from('\ufeffa é 中 👍', 'utf8')), 'a é 中 👍');
  });

  const bad: Array<[string, number[]]> = [
    ['a byte no character starts with', [0xff]],
    ['a lone continuation byte', [0x80]],
    ['an overlong NUL', [0xc0, 0x80]],
    ['an overlong slash of three bytes', [0xe0, 0x80, 0xaf]],
    ['a surrogate', [0xed, 0xa0, 0x80]],
    ['past U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a sequence cut by ASCII', [0xe2, 0x28, 0xa1]],
    ['a sequence cut by the end', [0xe2, 0x82]],
  ];
  for (const [name, bytes] of bad) {
    test(`${name}: refused at the offset of its first byte, with the line`, () => {
      const body = Buffer.concat([Buffer.from('{"a":\n"é'), Buffer.from(bytes), Buffer.from('"}')]);
      const error = refusal(() => decodeUtf8(body));
      assert.equal(error.details[0]!.path, '(body)');
      assert.match(error.details[0]!.message, new RegExp(`the byte 0x${bytes[0]!.toString(16)} at offset 9 \\(line 2\\)`));
    });
  }
});

describe('parseBody', () => {
  test('an NDJSON line over a limit is refused with its line', () => {
    const error = refusal(() => parseBody(`{"a":1}\n${'['.repeat(40)}${']'.repeat(40)}\n`, 'ndjson'));
    assert.equal(error.details[0]!.line, 2);
    assert.match(error.details[0]!.message, /more than 32 levels/);
  });

  test('limits can be set: a smaller depth', () => {
    const error = refusal(() => parseBody('{"a":{"b":{"c":1}}}', 'json', { maxDepth: 2, maxStringLength: 10, maxKeysPerObject: 10 }));
    assert.deepEqual(error.details, [{ path: 'a.b', message: 'nested more than 2 levels deep' }]);
  });

  test('an array of events names an event by its index, as validation does', () => {
    const error = refusal(() => parseBody('[{"ok":1},{"__proto__":{}}]', 'json'));
    assert.deepEqual(error.details, [{ path: '__proto__', index: 1, message: '"__proto__" is not allowed as a key: JavaScript objects take it for their prototype, and would drop it' }]);
  });
});

describe('refusals stay small', () => {
  test('past MAX_FIELD_ERRORS, one last detail counts the rest', () => {
    const details = Array.from({ length: 250 }, (_, i) => ({ path: `f${i}`, message: 'bad' }));
    const error = new ValidationError('invalid request', details);
    assert.equal(error.details.length, MAX_FIELD_ERRORS + 1);
    assert.deepEqual(error.details.at(-1), { path: MORE_PATH, message: '150 more problems not listed' });
  });

  test('a long path or message is cut', () => {
    const error = new ValidationError('invalid request', [{ path: 'p'.repeat(10_000), message: 'm'.repeat(10_000) }]);
    assert.ok(error.details[0]!.path.length <= 200);
    assert.ok(error.details[0]!.message.length <= 300);
  });

  test('a key that is empty, long or holds control characters is quoted and escaped in a path', () => {
    assert.equal(formatPath(['payload', 'assetTags', 'a\u0000\u0085']), 'payload.assetTags["a\\u0000\\u0085"]');
    assert.equal(formatPath(['settings', '']), 'settings[""]');
    assert.equal(formatPath(['settings', 'x'.repeat(100)]), `settings["${'x'.repeat(64)}…"]`);
    assert.equal(formatPath(['payload', 'settings', 'Net.TcpipHeapMax']), 'payload.settings.Net.TcpipHeapMax');
  });
});
