import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Secret } from '../config/secret.js';
import { trustwireHome } from './paths.js';

/**
 * The embedded default's ingest token: made once, kept in `.trustwire/dev-token` (mode 0600),
 * never printed: instructions point at the file instead.
 */
export function devTokenFile(): string {
  return join(trustwireHome(), 'dev-token');
}

export function ensureDevToken(): Secret {
  const file = devTokenFile();
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  }
  return new Secret(readFileSync(file, 'utf8').trim(), `file:${file}`);
}
