/**
 * Text limits shared by the formats. Every cut lands on a user-perceived character boundary
 * (an extended grapheme cluster: `ä` written as `a` + U+0308, a flag, a ZWJ family emoji stay
 * whole), so a truncated value never ends in half a character, half a UTF-8 sequence or a
 * lone surrogate. Values are cut BEFORE any escaping, so an escape sequence is never cut.
 *
 * Two measures, each where the spec it serves counts that way:
 * - `truncateChars`: UTF-16 code units (JavaScript's `length`, which is also Java's
 *   `String.length()`, the measure of the Java-based ArcSight and QRadar parsers). A
 *   character outside the BMP (most emoji) counts 2, so a value never exceeds a limit a
 *   consumer counts in code points or in UTF-16 units.
 * - `truncateUtf8`: bytes of the UTF-8 encoding, for limits in octets (syslog message sizes).
 *
 * Both return the input unchanged (no copy) when it fits; only an over-long value pays for
 * the boundary search.
 */

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
const encoder = new TextEncoder();

/** The largest grapheme boundary at or before `cut` (a UTF-16 index that is not inside a surrogate pair). */
function graphemeBoundary(value: string, cut: number): number {
  if (cut <= 0 || cut >= value.length) return Math.max(0, Math.min(cut, value.length));
  const segment = graphemes.segment(value).containing(cut);
  if (segment === undefined || segment.index === cut) return cut;
  // Inside a cluster: back off to its start, unless the cluster alone is longer than the limit
  // (a pathological run of combining marks); then the code point boundary has to do.
  return segment.index > 0 ? segment.index : cut;
}

/** At most `max` UTF-16 code units of `value`, cut at a character boundary. */
export function truncateChars(value: string, max: number): string {
  if (value.length <= max) return value;
  if (max <= 0) return '';
  let cut = max;
  const code = value.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1; // never keep a high surrogate without its pair
  return value.slice(0, graphemeBoundary(value, cut));
}

/** Bytes of `value` in UTF-8 (lone surrogates count as U+FFFD, 3 bytes, as they are encoded). */
export function utf8Length(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** At most `maxBytes` bytes of `value` once UTF-8 encoded, cut at a character boundary. */
export function truncateUtf8(value: string, maxBytes: number): string {
  // Every UTF-16 code unit encodes to at most 3 bytes: a short string fits without measuring.
  if (value.length * 3 <= maxBytes) return value;
  if (maxBytes <= 0) return '';
  if (utf8Length(value) <= maxBytes) return value;
  // encodeInto writes whole code points only and reports how many UTF-16 units it consumed.
  const { read } = encoder.encodeInto(value, new Uint8Array(maxBytes));
  return value.slice(0, graphemeBoundary(value, read));
}
