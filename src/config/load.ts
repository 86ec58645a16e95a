import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { fieldErrors, type FieldError } from '../model/validation.js';
import type { DeadLetterSettings } from '../runtime/replay.js';
import { configSchema, topicNames, type Config } from './schema.js';
import { TrustwireError } from '../errors.js';

/** A configuration that cannot be used; every problem named by file and option path. */
export class ConfigError extends TrustwireError {
  override name = 'ConfigError';
  constructor(
    readonly file: string,
    readonly details: readonly FieldError[],
    /** The document as read, when it was readable YAML: checks of its parts (connectors, templates) go on from it. */
    readonly document?: Record<string, unknown>,
  ) {
    super(details.map((d) => `${file}: ${d.path}: ${d.message}`).join('\n'));
  }
}

/** Parses and validates a configuration held in memory (the file name is for messages). */
export function parseConfig(text: string, file = '(inline)', baseDir = process.cwd()): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({ path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: e.message.split('\n')[0] ?? e.message })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (error) {
    // An alias without its anchor, or aliases past maxAliasCount (a "billion laughs" bomb).
    throw new ConfigError(file, [{ path: '(root)', message: (error as Error).message }]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(file, [{ path: '(root)', message: 'must be a mapping of options' }]);
  }
  const result = schemaFor(baseDir).safeParse(data);
  if (!result.success) throw new ConfigError(file, fieldErrors(result.error), data as Record<string, unknown>);
  BASE_DIRS.set(result.data, baseDir);
  return result.data;
}

const BASE_DIRS = new WeakMap<Config, string>();

/** The schema is a large zod tree: built once per folder it resolves paths against, not per parse. */
const SCHEMAS = new Map<string, ReturnType<typeof configSchema>>();
function schemaFor(baseDir: string): ReturnType<typeof configSchema> {
  let schema = SCHEMAS.get(baseDir);
  if (schema === undefined) SCHEMAS.set(baseDir, (schema = configSchema(baseDir)));
  return schema;
}

/** The folder relative paths in a configuration are resolved against (its file's folder). */
export function configBaseDir(config: Config): string {
  return BASE_DIRS.get(config) ?? process.cwd();
}

/** Loads a YAML configuration file; without one, every option takes its default. */
export function loadConfig(file?: string): Config {
  if (file === undefined) return parseConfig('{}', '(defaults)');
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [{ path: '(file)', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }]);
  }
  return parseConfig(text, path, dirname(path));
}

/** The dead-letter settings of a configuration: its topic, group prefix and connectors. */
export function deadLetterSettings(config: Config): DeadLetterSettings {
  return { connectors: config.connectors, topic: topicNames(config.kafka).dlq, groupPrefix: config.kafka.groupPrefix };
}
