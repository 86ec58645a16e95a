import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the embedded default keeps its state (broker, dev token); git-ignored. */
export function trustwireHome(): string {
  return resolve(process.env.TRUSTWIRE_HOME ?? join(PROJECT_ROOT, '.trustwire'));
}
