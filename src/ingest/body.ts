import { FieldErrorList, ValidationError } from '../model/validation.js';
import { DEFAULT_INGEST_LIMITS, scanDocument, withinLimits, type IngestLimits } from './limits.js';

/** One item of an ingest body, with the NDJSON line it came from. */
export interface BodyItem {
  value: unknown;
  line?: number;
}

export type BodyFormat = 'json' | 'ndjson' | 'auto';

const INVALID = 'invalid request';
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body's text, or a ValidationError naming the first byte that is not UTF-8. Decoding
 * with replacement would store U+FFFD in place of what the caller sent, a host id (the Kafka
 * key) included. A leading byte order mark is dropped.
 */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    const offset = invalidUtf8At(bytes);
    const line = lineAt(bytes, offset);
    throw new ValidationError(INVALID, [
      { path: '(body)', message: `not UTF-8: the byte 0x${bytes[offset]?.toString(16).padStart(2, '0') ?? '??'} at offset ${offset} (line ${line}) does not begin a well-formed character` },
    ]);
  }
}

/**
 * Splits an ingest body into items: one JSON event, a JSON array of events, or NDJSON (one
 * event a line, blank lines ignored). `auto` (the CLI's) takes JSON when the whole text parses
 * as JSON, NDJSON otherwise. Syntax errors name the line; the first MAX_FIELD_ERRORS problems
 * are listed and parsing stops there. Every document is held to `limits` before it is returned.
 */
export function parseBody(text: string, format: BodyFormat, limits: IngestLimits = DEFAULT_INGEST_LIMITS): BodyItem[] {
  if (text.trim() === '') throw new ValidationError(INVALID, [{ path: '(body)', message: 'body is empty' }]);
  if (format === 'json' || (format === 'auto' && looksLikeOneJsonDocument(text))) {
    const parsed = parseJson(text, INVALID, '(body)');
    if (!Array.isArray(parsed)) return [{ value: withinLimits(parsed, limits, INVALID) }];
    if (parsed.length === 0) throw new ValidationError(INVALID, [{ path: '(body)', message: 'the array holds no event' }]);
    // Each event's problems by its index, as prepareEvents names them.
    const errors = new FieldErrorList();
    const batch = parsed.length > 1;
    for (let index = 0; index < parsed.length && !errors.full; index++) scanDocument(parsed[index], errors, limits, batch ? { index } : {});
    errors.throwIfAny(INVALID);
    return parsed.map((value) => ({ value }));
  }
  const items: BodyItem[] = [];
  const errors = new FieldErrorList();
  const lines = text.split('\n');
  let i = 0;
  for (; i < lines.length && !errors.full; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      errors.add({ path: '(line)', line: i + 1, message: `not JSON: ${(error as Error).message}` });
      continue;
    }
    if (scanDocument(value, errors, limits, { line: i + 1 })) items.push({ value, line: i + 1 });
  }
  errors.throwIfAny(INVALID, i < lines.length ? `checking stopped there: lines ${i + 1}-${lines.length} were not checked` : undefined);
  return items;
}

/** One JSON document held to `limits`, or a ValidationError saying why not (empty, where the syntax breaks, what exceeds a limit). */
export function parseJsonDocument(text: string, limits: IngestLimits = DEFAULT_INGEST_LIMITS): unknown {
  if (text.trim() === '') throw new ValidationError(INVALID, [{ path: '(body)', message: 'body is empty' }]);
  return withinLimits(parseJson(text, INVALID, '(body)'), limits, INVALID);
}

/** JSON text (a body; a field holding JSON text, as Keylime's `msg`), or a ValidationError `what` at `path` saying where the syntax breaks. */
export function parseJson(text: string, what: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(what, [{ path, message: `not JSON: ${(error as Error).message}` }]);
  }
}

function looksLikeOneJsonDocument(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Offset of the first byte that does not begin a well-formed UTF-8 sequence (RFC 3629). */
function invalidUtf8At(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    if (lead < 0x80) {
      i++;
      continue;
    }
    // The continuation bytes a lead byte wants, and the range the first of them must fall in
    // (which refuses overlong forms, surrogates and code points past U+10FFFF).
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) length = 1;
    else if (lead >= 0xe0 && lead <= 0xef) {
      length = 2;
      if (lead === 0xe0) low = 0xa0;
      if (lead === 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 3;
      if (lead === 0xf0) low = 0x90;
      if (lead === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k <= length; k++) {
      const byte = bytes[i + k];
      if (byte === undefined || byte < (k === 1 ? low : 0x80) || byte > (k === 1 ? high : 0xbf)) return i;
    }
    i += length + 1;
  }
  return bytes.length;
}

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}
