import { inspect } from 'node:util';
import { redactUrlCredentials } from '../config/redact.js';
import { checkConfiguration } from './check.js';
import { CliError } from './errors.js';

/**
 * `trustwire config check FILE`: every problem with its option path — the file's own, each
 * connector's options against its schema, and the hardening templates it names, all in one
 * run — or the settled configuration, secrets shown by where they come from.
 */
export async function run(args: string[]): Promise<number> {
  const [sub, file, ...rest] = args;
  if (sub !== 'check' || file === undefined || rest.length > 0) throw new CliError('usage: trustwire config check FILE', 2);
  const { config, problems, shown } = await checkConfiguration(file);
  if (config === undefined) {
    process.stderr.write(`${redactUrlCredentials(problems.join('\n'))}\n`);
    return 1;
  }
  // Secrets print as Secret(env:NAME): where they come from, never what they are; URLs lose their credentials.
  process.stdout.write(`${file}: ok\n${redactUrlCredentials(inspect(shown, { depth: 10, colors: false }))}\n`);
  return 0;
}
