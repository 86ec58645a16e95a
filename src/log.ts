import { pino, type Logger } from 'pino';
import { redactUrlCredentials } from './config/redact.js';

export type { Logger };

/**
 * One JSON-lines logger for the whole service. Secrets are Secret objects that print as
 * `[redacted]`; the redact paths catch the raw header forms a request log could carry, and
 * credentials in URLs (`user:password@`, `?apikey=`) are redacted from messages and fields.
 */
export function createLogger(level = 'info', destination: 1 | 2 | NodeJS.WritableStream = 1): Logger {
  return pino(
    {
      level,
      base: { service: 'trustwire' },
      redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.token', '*.password'], censor: '[redacted]' },
      hooks: {
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) if (typeof args[i] === 'string') args[i] = redactUrlCredentials(args[i] as string);
          method.apply(this, args);
        },
      },
      formatters: { log: redactFields },
    },
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: destination === 2 }) : destination,
  );
}

/** URL credentials out of a log line's fields, two levels deep (where errors and causes sit). */
function redactFields(object: Record<string, unknown>, depth = 0): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    const value = object[key];
    let redacted: unknown = value;
    if (typeof value === 'string') redacted = redactUrlCredentials(value);
    else if (value instanceof Error) {
      if (`${value.message}${value.stack ?? ''}`.includes('://')) redacted = { type: value.name, message: redactUrlCredentials(value.message), stack: redactUrlCredentials(value.stack ?? '') };
    } else if (depth < 1 && value !== null && typeof value === 'object' && !Array.isArray(value)) redacted = redactFields(value as Record<string, unknown>, depth + 1);
    if (redacted !== value) (out ??= { ...object })[key] = redacted;
  }
  return out ?? object;
}

/** For tools and tests that want no log output. */
export const silentLogger: Logger = pino({ level: 'silent' });
