import type { z } from 'zod';
import { TrustwireError } from '../errors.js';

/** One reason an input was refused, with the path of the field it concerns. */
export interface FieldError {
  path: string;
  message: string;
  /** Which item of a batch (0-based), when the input held several. */
  index?: number;
  /** The NDJSON line (1-based) the item came from. */
  line?: number;
}

/**
 * The most problems one refusal lists; the rest are counted in a last detail whose path is
 * MORE_PATH. A garbage body then gets a small answer, and the parser can stop early.
 */
export const MAX_FIELD_ERRORS = 100;
export const MORE_PATH = '(more)';

// What one detail may take of an answer: 101 details stay under 64 KiB.
const MAX_PATH_LENGTH = 200;
const MAX_MESSAGE_LENGTH = 300;
/** Map keys longer than this are cut in paths; a key is the caller's text, of any length. */
const MAX_SEGMENT_LENGTH = 64;

/** C0, DEL and C1: invisible in a terminal or a SIEM's table, and able to forge lines there. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
const PLAIN_SEGMENT = /^[^\u0000-\u001f\u007f-\u009f"[\]]+$/;

/** Index of the first C0, DEL or C1 character in `text`, or -1. */
export function controlCharacterAt(text: string): number {
  // test() first: no match object for the text that has none, nearly all of it.
  return CONTROL_CHARACTER.test(text) ? CONTROL_CHARACTER.exec(text)!.index : -1;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether `text` holds no lone surrogate: ES2024's String#isWellFormed, which the ES2022 typings lack. */
export function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Index of the first lone surrogate in `text`, or -1. A JSON `\ud800` escape makes one; it is
 * no Unicode character, and written as UTF-8 (the Kafka key, Avro) it becomes U+FFFD.
 */
export function loneSurrogateAt(text: string): number {
  return isWellFormed(text) ? -1 : (LONE_SURROGATE.exec(text)?.index ?? -1);
}

/** `U+0000`: how messages name a character. */
export function codePoint(text: string, at: number): string {
  return `U+${(text.codePointAt(at) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * A caller's text quoted for a message: JSON-escaped (C1 and DEL too, which JSON leaves
 * raw), and cut to `max` characters, so an answer neither echoes a megabyte nor carries a
 * control character to whoever reads it.
 */
export function quoted(text: string, max = MAX_SEGMENT_LENGTH): string {
  const cut = text.length <= max ? text : `${text.slice(0, max)}…`;
  return JSON.stringify(cut).replace(CONTROL_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A value named in a message: strings quoted and cut, containers by their kind (never walked). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return quoted(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? `an array of ${value.length}` : 'an object';
}

/** `['payload', 'flavors', 0, 'pcrIndex']` → `payload.flavors[0].pcrIndex`; odd keys as `["a\u0000"]`. */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const text = String(key);
      if (text.length > MAX_SEGMENT_LENGTH || !PLAIN_SEGMENT.test(text) || loneSurrogateAt(text) >= 0) out += `[${quoted(text)}]`;
      else out += out === '' ? text : `.${text}`;
    }
  }
  return out === '' ? '(root)' : out;
}

/** Every issue of a failed parse, each naming its field; unrecognized keys get a path of their own. */
export function fieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push({ path: formatPath([...issue.path, key], prefix), message: 'unknown field' });
    } else if (issue.code === 'invalid_key') {
      // zod's own message ("Invalid key in record") hides why.
      out.push({ path: formatPath(issue.path, prefix), message: `invalid key: ${issue.issues.map((inner) => inner.message).join('; ')}` });
    } else {
      out.push({ path: formatPath(issue.path, prefix), message: issue.message });
    }
  }
  return out;
}

/** What a refusal leaves out: problems found but not listed, and input not looked at. */
export interface Unlisted {
  /** Problems found beyond those listed. */
  problems?: number;
  /** What was not checked once the list was full, e.g. `lines 120-15000 were not checked`. */
  notChecked?: string;
}

/**
 * Thrown where input is refused; carries its field errors (the first MAX_FIELD_ERRORS, and a
 * count of the rest), never a partial verdict.
 */
export class ValidationError extends TrustwireError {
  /** At most MAX_FIELD_ERRORS, then one MORE_PATH detail counting the rest. */
  readonly details: readonly FieldError[];
  /** The verdict without the details, e.g. `invalid event`. */
  readonly summary: string;
  readonly #listed: readonly FieldError[];
  readonly #unlisted: Unlisted;
  constructor(summary: string, details: readonly FieldError[], unlisted: Unlisted = {}) {
    const listed = details.slice(0, MAX_FIELD_ERRORS).map(clipped);
    const rest: Unlisted = { ...unlisted, problems: (unlisted.problems ?? 0) + details.length - listed.length };
    const more = moreDetail(rest);
    const all = more === undefined ? listed : [...listed, more];
    super(`${summary}: ${all.map(describeFieldError).join('; ')}`);
    this.name = 'ValidationError';
    this.summary = summary;
    this.details = all;
    this.#listed = listed;
    this.#unlisted = rest;
  }

  /** The same refusal with every listed path rewritten, e.g. placed in the document it came in. */
  withPaths(rewrite: (path: string) => string): ValidationError {
    return new ValidationError(
      this.summary,
      this.#listed.map((detail) => ({ ...detail, path: rewrite(detail.path) })),
      this.#unlisted,
    );
  }
}

function clipped(error: FieldError): FieldError {
  if (error.path.length <= MAX_PATH_LENGTH && error.message.length <= MAX_MESSAGE_LENGTH) return error;
  return { ...error, path: clip(error.path, MAX_PATH_LENGTH), message: clip(error.message, MAX_MESSAGE_LENGTH) };
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function moreDetail({ problems = 0, notChecked }: Unlisted): FieldError | undefined {
  const parts = [problems > 0 ? `${problems.toLocaleString('en-US')} more problem${problems === 1 ? '' : 's'} not listed` : undefined, notChecked];
  const message = parts.filter((part) => part !== undefined).join('; ');
  return message === '' ? undefined : { path: MORE_PATH, message };
}

/**
 * Field errors gathered up to MAX_FIELD_ERRORS, the rest only counted: whoever fills it
 * stops looking once it is `full`, so refusing garbage costs no more than refusing a typo.
 */
export class FieldErrorList {
  readonly #listed: FieldError[] = [];
  #unlisted = 0;

  add(error: FieldError): void {
    if (this.#listed.length < MAX_FIELD_ERRORS) this.#listed.push(error);
    else this.#unlisted++;
  }

  get full(): boolean {
    return this.#listed.length >= MAX_FIELD_ERRORS;
  }

  /** Problems found so far, listed or not. */
  get count(): number {
    return this.#listed.length + this.#unlisted;
  }

  /** Throws the ValidationError of what was gathered, if anything was. */
  throwIfAny(summary: string | ((count: number) => string), notChecked?: string): void {
    if (this.count === 0) return;
    throw new ValidationError(typeof summary === 'string' ? summary : summary(this.count), this.#listed, {
      problems: this.#unlisted,
      ...(notChecked !== undefined && { notChecked }),
    });
  }
}

/** `line 3: payload.status: Invalid option ...` — the form people read in a terminal. */
export function describeFieldError(error: FieldError): string {
  const where = error.line !== undefined ? `line ${error.line}: ` : error.index !== undefined ? `[${error.index}] ` : '';
  return `${where}${error.path}: ${error.message}`;
}
