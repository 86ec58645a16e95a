/**
 * The browser the e2e tests drive: Debian's own `chromium` package, installed with apt-get when
 * /usr/bin/chromium is missing. Nothing is downloaded from anywhere else (no `npx playwright
 * install`): the browser comes from the distribution's signed archive, like rsyslog for the
 * syslog tests. `fonts-liberation` (a Recommends of chromium, skipped by --no-install-recommends)
 * is installed with it, so a minimal machine renders text rather than empty boxes.
 *
 *   node --import tsx scripts/ensure-chromium.ts     # install it ahead of the tests (root)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const PACKAGES = ['chromium', 'fonts-liberation'];

/**
 * The path of Debian's Chromium, installing it first when it is not there. apt-get needs root;
 * a failed install is retried once after `apt-get update` (a fresh image has no package lists).
 */
export function ensureChromium(onProgress: (line: string) => void = () => {}): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM_PATH} is missing and installing it needs root: run  sudo apt-get install -y ${PACKAGES.join(' ')}`);
  }
  const aptGet = (args: string[]) =>
    spawnSync('apt-get', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 64 * 1024 * 1024 });
  const install = ['install', '-y', '--no-install-recommends', ...PACKAGES];
  onProgress(`installing ${PACKAGES.join(', ')} with apt-get`);
  let result = aptGet(install);
  if (result.status !== 0) {
    onProgress('apt-get install failed; running apt-get update and trying again');
    aptGet(['update']);
    result = aptGet(install);
  }
  if (result.status !== 0 || !existsSync(CHROMIUM_PATH)) {
    throw new Error(`could not install chromium with apt-get (exit ${result.status ?? result.signal}):\n${result.stderr || result.error?.message || ''}`);
  }
  return CHROMIUM_PATH;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const path = ensureChromium((line) => process.stderr.write(`${line}\n`));
  process.stdout.write(`${path}\n`);
}
