import { ValidationError, type FieldError } from '../model/validation.js';

/** One item of an ingest body, with the NDJSON line it came from. */
export interface BodyItem {
  value: unknown;
  line?: number;
}

export type BodyFormat = 'json' | 'ndjson' | 'auto';

/**
 * Splits an ingest body into items: one JSON event, a JSON array of events, or NDJSON (one
 * event a line, blank lines ignored). `auto` (the CLI's) takes JSON when the whole text parses
 * as JSON, NDJSON otherwise. Syntax errors name the line.
 */
export function parseBody(text: string, format: BodyFormat): BodyItem[] {
  if (format === 'json' || (format === 'auto' && looksLikeOneJsonDocument(text))) {
    const parsed = parseJsonDocument(text);
    if (Array.isArray(parsed)) {
      if (parsed.length === 0) throw new ValidationError('invalid request', [{ path: '(body)', message: 'the array holds no event' }]);
      return parsed.map((value) => ({ value }));
    }
    return [{ value: parsed }];
  }
  if (text.trim() === '') throw new ValidationError('invalid request', [{ path: '(body)', message: 'body is empty' }]);
  const items: BodyItem[] = [];
  const errors: FieldError[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    try {
      items.push({ value: JSON.parse(line), line: i + 1 });
    } catch (error) {
      errors.push({ path: '(line)', line: i + 1, message: `not JSON: ${(error as Error).message}` });
    }
  }
  if (errors.length > 0) throw new ValidationError('invalid request', errors);
  return items;
}

/** One JSON document, or a ValidationError saying why not (empty, or where the syntax breaks). */
export function parseJsonDocument(text: string): unknown {
  if (text.trim() === '') throw new ValidationError('invalid request', [{ path: '(body)', message: 'body is empty' }]);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError('invalid request', [{ path: '(body)', message: `not JSON: ${(error as Error).message}` }]);
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
