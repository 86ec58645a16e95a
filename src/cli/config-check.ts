import { inspect } from 'node:util';
import { complianceSettings } from '../compliance/settings.js';
import { describeTemplateIssue, TemplateError } from '../compliance/load.js';
import { configBaseDir, ConfigError, loadConfig } from '../config/load.js';
import { ConnectorRefused, loadConnector } from '../runtime/registry.js';
import { CliError } from './errors.js';

/**
 * `trustwire config check FILE`: every problem with its option path — the file's own, each
 * connector's options against its schema, and the hardening templates it names — or the
 * settled configuration, secrets shown by where they come from.
 */
export async function run(args: string[]): Promise<number> {
  const [sub, file, ...rest] = args;
  if (sub !== 'check' || file === undefined || rest.length > 0) throw new CliError('usage: trustwire config check FILE', 2);
  let config;
  try {
    config = loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const problems: string[] = [];
  for (const [index, settings] of config.connectors.entries()) {
    try {
      await loadConnector(settings, `connectors[${index}]`, configBaseDir(config));
    } catch (error) {
      problems.push(`${file}: ${error instanceof ConnectorRefused ? `${error.path}: ${error.reason}` : (error as Error).message}`);
    }
  }
  try {
    complianceSettings(config);
  } catch (error) {
    problems.push(...(error instanceof TemplateError ? error.issues.map(describeTemplateIssue) : [`${file}: compliance: ${(error as Error).message}`]));
  }
  if (problems.length > 0) {
    process.stderr.write(`${problems.join('\n')}\n`);
    return 1;
  }
  // Secrets print as Secret(env:NAME): where they come from, never what they are.
  process.stdout.write(`${file}: ok\n${inspect(config, { depth: 10, colors: false })}\n`);
  return 0;
}
