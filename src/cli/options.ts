import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { localKafkaStatus } from '../../scripts/kafka/broker.js';
import { CliError } from './errors.js';

/** parseArgs with usage errors turned into exit code 2. */
export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
}

/**
 * The configuration a client command (emit, tail) uses, with brokers settled: `--brokers`, then
 * the configuration's, then the local broker when it runs.
 */
export function clientConfig(values: { config?: string | undefined; brokers?: string | undefined }): Config {
  return settleBrokers(loadConfig(values.config), values.brokers);
}

export function settleBrokers(config: Config, brokers: string | undefined): Config {
  if (brokers !== undefined) config.kafka.brokers = brokers.split(',').map((b) => b.trim()).filter(Boolean);
  if (config.kafka.brokers.length === 0) {
    const local = localKafkaStatus();
    if (!local.running) {
      throw new CliError('no brokers configured and the local broker is not running: start it with `npm start` (or `npm run kafka -- start`), or pass --brokers');
    }
    config.kafka.brokers = local.brokers;
  }
  return config;
}
