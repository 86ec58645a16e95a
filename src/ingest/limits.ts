/**
 * What one ingest document may hold, and the scan that holds it to that. The scan runs on the
 * parsed JSON (V8's JSON.parse does not recurse) before anything that does recurse — zod, the
 * adapters, JSON.stringify of a stable id — so no input can overflow the stack; and it refuses
 * keys that JavaScript objects treat as their prototype, which zod would silently drop.
 */
import { codePoint, controlCharacterAt, FieldErrorList, formatPath, isWellFormed, loneSurrogateAt, quoted, type FieldError } from '../model/validation.js';

export interface IngestLimits {
  /** Containers (objects, arrays) inside one another; the document itself is level 1. */
  maxDepth: number;
  /** Characters (UTF-16 units) of one string, keys included. */
  maxStringLength: number;
  /** Keys of one object. */
  maxKeysPerObject: number;
}

export const DEFAULT_INGEST_LIMITS: Readonly<IngestLimits> = {
  // A HVS report, the deepest document taken, is 10 levels deep.
  maxDepth: 32,
  maxStringLength: 64 * 1024,
  // An ESXi host's advanced settings, a config.snapshot's largest map, are ~1,500.
  maxKeysPerObject: 10_000,
};

/** Keys that name an object's prototype machinery: `obj[key] = v` does not store them as data. */
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Where a scanned document sits: its NDJSON line, its index in a batch, the path leading to it. */
export interface ScanOrigin {
  path?: readonly PropertyKey[];
  line?: number;
  index?: number;
}

interface Container {
  value: object;
  depth: number;
  parent: Container | undefined;
  key: PropertyKey | undefined;
}

/**
 * Adds to `errors` every way `document` exceeds `limits` or holds a key refused anywhere
 * (`__proto__`, `constructor`, `prototype`; control characters) or a string that is not
 * Unicode (a lone surrogate). One pass with an explicit stack; stops once `errors` is full.
 * Returns whether it found nothing. It runs on every event ingested: the checks a valid
 * document passes are inlined, the rest (`Refusals`) only runs on what fails them.
 */
export function scanDocument(document: unknown, errors: FieldErrorList, limits: IngestLimits = DEFAULT_INGEST_LIMITS, origin: ScanOrigin = {}): boolean {
  const before = errors.count;
  const refuse = new Refusals(errors, limits, origin);
  const maxString = limits.maxStringLength;
  if (typeof document === 'string' && (document.length > maxString || !isWellFormed(document))) refuse.text(document, undefined, undefined, 'the text');
  if (typeof document !== 'object' || document === null) return errors.count === before;
  const stack: Container[] = [{ value: document, depth: 1, parent: undefined, key: undefined }];
  while (stack.length > 0 && !errors.full) {
    const container = stack.pop()!;
    if (container.depth > limits.maxDepth) {
      refuse.at(container.parent, container.key, `nested more than ${limits.maxDepth} levels deep`);
      continue;
    }
    const depth = container.depth + 1;
    if (Array.isArray(container.value)) {
      const items = container.value;
      for (let i = 0; i < items.length; i++) {
        const item: unknown = items[i];
        if (typeof item === 'string') {
          if (item.length > maxString || !isWellFormed(item)) refuse.text(item, container, i, 'the text');
        } else if (typeof item === 'object' && item !== null) stack.push({ value: item, depth, parent: container, key: i });
      }
      continue;
    }
    const object = container.value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length > limits.maxKeysPerObject) {
      refuse.at(container.parent, container.key, `has ${thousands(keys.length)} keys; at most ${thousands(limits.maxKeysPerObject)}`);
      continue;
    }
    for (const key of keys) {
      if (!isPlainKey(key, maxString) && refuse.key(key, container)) continue;
      const value = object[key];
      if (typeof value === 'string') {
        if (value.length > maxString || !isWellFormed(value)) refuse.text(value, container, key, 'the text');
      } else if (typeof value === 'object' && value !== null) stack.push({ value, depth, parent: container, key });
    }
  }
  return errors.count === before;
}

/** The refusals of one scan, each naming its place. */
class Refusals {
  constructor(
    private readonly errors: FieldErrorList,
    private readonly limits: IngestLimits,
    private readonly origin: ScanOrigin,
  ) {}

  at(container: Container | undefined, key: PropertyKey | undefined, message: string): void {
    const error: FieldError = { path: formatPath(pathOf(container, key, this.origin.path)), message };
    if (this.origin.line !== undefined) error.line = this.origin.line;
    if (this.origin.index !== undefined) error.index = this.origin.index;
    this.errors.add(error);
  }

  /** A string too long, or not Unicode. */
  text(text: string, container: Container | undefined, key: PropertyKey | undefined, what: string): void {
    if (text.length > this.limits.maxStringLength) {
      this.at(container, key, `${what} is ${thousands(text.length)} characters long; at most ${thousands(this.limits.maxStringLength)}`);
      return;
    }
    const surrogate = loneSurrogateAt(text);
    if (surrogate >= 0) this.at(container, key, `${what} holds a lone surrogate (${codePoint(text, surrogate)} at index ${surrogate}): not Unicode text`);
  }

  /** A key `isPlainKey` did not pass; whether its value is to be skipped (a prototype key's). */
  key(key: string, container: Container): boolean {
    if (PROTOTYPE_KEYS.has(key)) {
      this.at(container, key, `${quoted(key)} is not allowed as a key: JavaScript objects take it for their prototype, and would drop it`);
      return true;
    }
    const control = controlCharacterAt(key);
    if (control >= 0) this.at(container, key, `the key holds a control character (${codePoint(key, control)} at index ${control}): keys must be printable`);
    else this.text(key, container, key, 'the key');
    return false;
  }
}

/**
 * A key surely fine: not too long, not a prototype key, no C0, DEL, C1 or surrogate (a pair,
 * which is fine, goes the slow way). A loop beats a regex on the short keys events have.
 */
function isPlainKey(key: string, maxLength: number): boolean {
  const length = key.length;
  if (length > maxLength) return false;
  for (let i = 0; i < length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return key !== '__proto__' && key !== 'constructor' && key !== 'prototype';
}

const thousands = (n: number) => n.toLocaleString('en-US');

/** `document` if it keeps to `limits`; else a ValidationError `what` naming each place it does not. */
export function withinLimits<T>(document: T, limits: IngestLimits, what: string, origin: ScanOrigin = {}): T {
  const errors = new FieldErrorList();
  scanDocument(document, errors, limits, origin);
  errors.throwIfAny(what);
  return document;
}

/** The path of `key` in `container`, from the document's root, after `prefix`. */
function pathOf(container: Container | undefined, key: PropertyKey | undefined, prefix: readonly PropertyKey[] = []): PropertyKey[] {
  const path: PropertyKey[] = key === undefined ? [] : [key];
  for (let at = container; at?.key !== undefined; at = at.parent) path.push(at.key);
  return [...prefix, ...path.reverse()];
}
