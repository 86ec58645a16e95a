/**
 * Keeping a connector's credentials out of what the runtime writes: its log lines, its errors
 * (retries, status, dead-letter headers). The secrets come from the connector's parsed options —
 * every Secret, and the credentials written into URLs — so no connector lists its own: the
 * runner (and the conformance kit, which stands in for it) guards every connector the same way.
 */
import { inspect } from 'node:util';
import { isCredentialParameter, redactUrlCredentials } from '../config/redact.js';
import { Secret } from '../config/secret.js';
import type { Logger } from '../log.js';
import type { SendResult, SinkConnector, SinkContext } from './contract.js';

const REDACTED = '[redacted]';
/** A credential written after its scheme, whichever option it came from (`Basic dXNlcjpwYXNz`, `Bearer …`, `Splunk …`). */
const SCHEMED_CREDENTIAL = /\b(Basic|Bearer|Splunk)(\s+)[A-Za-z0-9+/=._~-]{8,}/g;

/** The credential values of parsed options, with the forms they travel in (URL-encoded, base64, `user:password` in base64). */
export function secretsOfOptions(options: unknown): string[] {
  const found = new Set<string>();
  const add = (value: string) => {
    if (value.length < 3) return; // a one- or two-letter "secret" would redact half of every message
    found.add(value);
    found.add(encodeURIComponent(value));
    found.add(Buffer.from(value).toString('base64'));
  };
  const seen = new Set<unknown>();
  const walk = (value: unknown) => {
    if (value instanceof Secret) return add(value.reveal());
    if (typeof value === 'string') {
      if (value.includes('://')) urlSecrets(value).forEach(add);
      return;
    }
    if (value === null || typeof value !== 'object' || seen.has(value)) return;
    seen.add(value);
    const record = value as Record<string, unknown>;
    // `username` beside a Secret `password`: Basic auth sends the two together, in base64.
    const user = typeof record.username === 'string' ? record.username : undefined;
    if (user !== undefined && record.password instanceof Secret) add(`${user}:${record.password.reveal()}`);
    for (const item of Array.isArray(value) ? value : Object.values(record)) walk(item);
  };
  walk(options);
  return [...found];
}

function urlSecrets(text: string): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [];
  }
  const out: string[] = [];
  if (url.password !== '') out.push(decodeURIComponent(url.password), `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`);
  for (const [name, value] of url.searchParams) if (value !== '' && isCredentialParameter(name)) out.push(value);
  return out;
}

/** Replaces every credential value in a text; longer values first, so a value containing another goes whole. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) if (secret !== '') out = out.replaceAll(secret, '[redacted]');
  return out;
}

/** Replaces every secret, longer values first (so a value containing another goes whole), then URL credentials and schemed tokens. */
export class Scrubber {
  readonly #secrets: readonly string[];

  constructor(secrets: readonly string[]) {
    this.#secrets = [...new Set(secrets)].filter((secret) => secret !== '').sort((a, b) => b.length - a.length);
  }

  static of(options: unknown): Scrubber {
    return new Scrubber(secretsOfOptions(options));
  }

  text(text: string): string {
    return redactUrlCredentials(scrub(text, this.#secrets)).replace(SCHEMED_CREDENTIAL, `$1$2${REDACTED}`);
  }

  /** The error, scrubbed in place (its class stays: callers test `instanceof`): message, stack, and its causes. */
  error<E>(error: E, depth = 0): E {
    if (!(error instanceof Error)) return error;
    const clean = this.text(error.message);
    if (clean !== error.message) error.message = clean;
    if (error.stack !== undefined) error.stack = this.text(error.stack);
    if (error.cause !== undefined) {
      if (depth < 3 && error.cause instanceof Error) this.error(error.cause, depth + 1);
      else if (this.text(inspect(error.cause)) !== inspect(error.cause)) error.cause = REDACTED;
    }
    return error;
  }

  /** Every error a result carries, scrubbed. */
  result<R extends SendResult>(result: R): R {
    if (result.kind === 'retry' || result.kind === 'permanent') this.error(result.error);
    else if (result.kind === 'partial') for (const failure of result.failed.values()) this.error(failure);
    return result;
  }

  /** A logger whose every line is scrubbed: messages, fields, errors in fields, and its children's. */
  logger(logger: Logger): Logger {
    const scrubbed = (value: unknown, depth: number): unknown => {
      if (typeof value === 'string') return this.text(value);
      if (value instanceof Error) return this.error(value);
      if (depth > 3 || value === null || typeof value !== 'object' || value instanceof Secret) return value;
      if (Array.isArray(value)) return value.map((item) => scrubbed(item, depth + 1));
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubbed(item, depth + 1)]));
    };
    return new Proxy(logger, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        if (property === 'child') return (...args: unknown[]) => this.logger((value as (...a: unknown[]) => Logger).apply(target, args.map((arg) => scrubbed(arg, 0))));
        if (['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(String(property))) {
          return (...args: unknown[]) => (value as (...a: unknown[]) => void).apply(target, args.map((arg) => scrubbed(arg, 0)));
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
  }
}

/** The connector as the runtime runs it: the context's logger scrubbed, every error it answers or throws scrubbed. */
export function guardSecrets(connector: SinkConnector, scrubber: Scrubber): SinkConnector {
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw scrubber.error(error);
    }
  };
  return {
    start: (ctx: SinkContext) => guarded(() => connector.start({ ...ctx, logger: scrubber.logger(ctx.logger) })),
    send: (batch, signal) => guarded(async () => scrubber.result(await connector.send(batch, signal))),
    stop: () => guarded(() => connector.stop()),
  };
}
