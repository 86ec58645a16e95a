import { dirname, resolve } from 'node:path';
import { describeTemplateIssue, TemplateError } from '../compliance/load.js';
import { complianceSettingsOf } from '../config/compliance.js';
import { configBaseDir, ConfigError, loadConfig } from '../config/load.js';
import { configSchema, type Config } from '../config/schema.js';
import { ConnectorRefused, loadConnector } from '../runtime/registry.js';
import { ConnectorInstanceSettings } from '../runtime/settings.js';
import { CliError } from './errors.js';

export interface CheckedConfiguration {
  /** The settled configuration, when the file itself is valid. */
  config?: Config;
  /** Every problem, `FILE: option.path: reason`, the file's own and each connector's and template's. */
  problems: string[];
  /**
   * The configuration to show a person: each connector's options as its own schema parsed
   * them, so an inline secret there is a Secret (printed by origin), not the raw text.
   */
  shown?: unknown;
}

/**
 * Checks a configuration file whole: the file against its schema, then each connector's options
 * against the connector's own schema, then the hardening templates it names. A mistake in one
 * part never hides the others: an operator fixes everything in one round.
 */
export async function checkConfiguration(file: string | undefined): Promise<CheckedConfiguration> {
  const name = file ?? '(defaults)';
  let config: Config | undefined;
  let document: Record<string, unknown> | undefined;
  const problems: string[] = [];
  try {
    config = loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.message.split('\n'));
    document = error.document;
  }
  const baseDir = config !== undefined ? configBaseDir(config) : file !== undefined ? dirname(resolve(file)) : process.cwd();

  // Connectors: from the settled configuration, or each entry that parses on its own.
  const entries: unknown[] = config?.connectors ?? (Array.isArray(document?.connectors) ? document.connectors : []);
  const parsedOptions: unknown[] = [];
  for (const [index, entry] of entries.entries()) {
    const settings = config !== undefined ? (entry as ConnectorInstanceSettings) : ConnectorInstanceSettings.safeParse(entry).data;
    if (settings === undefined) continue; // its own errors are listed above
    try {
      parsedOptions[index] = (await loadConnector(settings, `connectors[${index}]`, baseDir)).options;
    } catch (error) {
      if (error instanceof ConnectorRefused) problems.push(...error.problems().map((problem) => `${name}: ${problem}`));
      else problems.push(`${name}: connectors[${index}]: ${(error as Error).message}`);
    }
  }

  const compliance = config?.compliance ?? configSchema(baseDir).shape.compliance.safeParse(document?.compliance ?? {}).data;
  if (compliance !== undefined) {
    try {
      complianceSettingsOf(compliance, baseDir);
    } catch (error) {
      problems.push(...(error instanceof TemplateError ? error.issues.map(describeTemplateIssue) : [`${name}: ${(error as Error).message}`]));
    }
  }
  if (config === undefined || problems.length > 0) return { problems };
  return { config, problems, shown: { ...config, connectors: config.connectors.map((connector, index) => ({ ...connector, options: parsedOptions[index] })) } };
}

/** The configuration a long-running command starts with, or a CliError listing every problem. */
export async function checkedConfig(file: string | undefined): Promise<Config> {
  const { config, problems } = await checkConfiguration(file);
  if (config === undefined) throw new CliError(`the configuration cannot be used:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return config;
}
