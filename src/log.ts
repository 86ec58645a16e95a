import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * One JSON-lines logger for the whole service. Secrets are Secret objects that print as
 * `[redacted]`; the redact paths catch the raw header forms a request log could carry.
 */
export function createLogger(level = 'info', destination: 1 | 2 = 1): Logger {
  return pino(
    {
      level,
      base: { service: 'trustwire' },
      redact: { paths: ['req.headers.authorization', 'headers.authorization', '*.token', '*.password'], censor: '[redacted]' },
    },
    pino.destination({ fd: destination, sync: destination === 2 }),
  );
}

/** For tools and tests that want no log output. */
export const silentLogger: Logger = pino({ level: 'silent' });
