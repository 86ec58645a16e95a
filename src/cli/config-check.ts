import { inspect } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { CliError } from './errors.js';

/** `trustwire config check FILE`: every problem with its option path, or the settled config. */
export async function run(args: string[]): Promise<number> {
  const [sub, file, ...rest] = args;
  if (sub !== 'check' || file === undefined || rest.length > 0) throw new CliError('usage: trustwire config check FILE', 2);
  try {
    const config = loadConfig(file);
    // Secrets print as Secret(env:NAME): where they come from, never what they are.
    process.stdout.write(`${file}: ok\n${inspect(config, { depth: 10, colors: false })}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
