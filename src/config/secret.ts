import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';

const REDACTED = '[redacted]';
/** A token, password or PEM key is a few kilobytes: a secret file past this is a mistake (`{file: /dev/zero}`), not a secret. */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;
const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * A secret value (token, password, key). Every way of turning it into text — String(),
 * JSON.stringify, util.inspect, pino — prints `[redacted]`; only `reveal()` gives the value,
 * at the one place that hands it to the wire.
 */
export class Secret {
  readonly #value: string;
  /** Where the value came from, safe to print: `env:NAME`, `file:/path` or `inline`. */
  readonly origin: string;

  constructor(value: string, origin: string) {
    this.#value = value;
    this.origin = origin;
  }

  reveal(): string {
    return this.#value;
  }

  /** Compares in constant time, so a token check does not leak how much of a guess was right. */
  equals(candidate: string): boolean {
    // Hashing first gives equal lengths, which timingSafeEqual needs, and hides the length.
    return timingSafeEqual(sha256(this.#value), sha256(candidate));
  }

  toString(): string {
    return REDACTED;
  }
  toJSON(): string {
    return REDACTED;
  }
  [inspect.custom](): string {
    return `Secret(${this.origin})`;
  }
}

/**
 * A secret in the configuration: `{env: NAME}` or `{file: PATH}` (preferred: the value stays out
 * of the file), or an inline string. Resolved while the configuration is parsed, so a missing
 * variable or unreadable file is an error with the option's path, before anything starts.
 */
export function secretField(baseDir: () => string) {
  return z
    .union([
      z.string().min(1),
      z.strictObject({ env: z.string().min(1).describe('name of the environment variable holding the secret') }),
      z.strictObject({ file: z.string().min(1).describe('path of a file holding the secret (trailing newline ignored)') }),
    ])
    .transform((ref, ctx) => {
      if (typeof ref === 'string') return new Secret(ref, 'inline');
      if ('env' in ref) {
        const value = process.env[ref.env];
        if (value === undefined || value === '') {
          ctx.addIssue({ code: 'custom', message: `environment variable ${ref.env} is not set` });
          return z.NEVER;
        }
        return new Secret(value, `env:${ref.env}`);
      }
      const path = isAbsolute(ref.file) ? ref.file : resolve(baseDir(), ref.file);
      try {
        const value = readBoundedFile(path, MAX_SECRET_FILE_BYTES).replace(/\r?\n$/, '');
        if (value === '') {
          ctx.addIssue({ code: 'custom', message: `secret file ${path} is empty` });
          return z.NEVER;
        }
        return new Secret(value, `file:${path}`);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `cannot read secret file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}` });
        return z.NEVER;
      }
    })
    .meta({ secret: true });
}

/** A file's text, read through a bound: a device or a huge file fails with EFBIG instead of filling the memory. */
function readBoundedFile(path: string, maxBytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes + 1);
    let size = 0;
    for (let read = -1; read !== 0 && size <= maxBytes; size += read) read = readSync(fd, buffer, size, buffer.length - size, null);
    if (size > maxBytes) throw Object.assign(new Error(`larger than ${maxBytes} bytes`), { code: `EFBIG (larger than ${maxBytes} bytes)` });
    return buffer.toString('utf8', 0, size);
  } finally {
    closeSync(fd);
  }
}

let optionsBaseDir = process.cwd();

/** Runs `work` with relative secret files in connector options resolved against `dir` (the configuration's folder). */
export function withSecretBaseDir<T>(dir: string, work: () => T): T {
  const previous = optionsBaseDir;
  optionsBaseDir = dir;
  try {
    return work();
  } finally {
    optionsBaseDir = previous;
  }
}

/** The folder a connector's relative option paths resolve against, while its options are parsed. */
export function connectorOptionsBaseDir(): string {
  return optionsBaseDir;
}

/** A secret option of a connector's configSchema: `{env}`, `{file}` or inline; prints as [redacted]. */
export function secretOption() {
  return secretField(() => optionsBaseDir);
}
