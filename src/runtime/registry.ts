import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { withSecretBaseDir } from '../config/secret.js';
import { fieldErrors } from '../model/validation.js';
import type { ConnectorDefinition } from './contract.js';
import type { ConnectorInstanceSettings } from './settings.js';
import { TrustwireError } from '../errors.js';

/** The built-in connectors: connectors/ at the repository's root, two folders up from this file. */
const BUILT_IN_DIR = resolve(fileURLToPath(new URL('../../connectors/', import.meta.url)));
const TYPE_NAME = /^[a-z0-9][a-z0-9-]*$/;

/** A connector that cannot start: its name, the option at fault, and why. The others still start. */
export class ConnectorRefused extends TrustwireError {
  override name = 'ConnectorRefused';
  constructor(
    readonly connector: string,
    readonly path: string,
    readonly reason: string,
    /** Further problems of the same connector, each with its option path. */
    readonly more: ReadonlyArray<{ path: string; reason: string }> = [],
  ) {
    super(`connector "${connector}" refused: ${path}: ${reason}${more.map((m) => `; ${m.path}: ${m.reason}`).join('')}`);
  }

  /** Every problem, one `path: reason` each. */
  problems(): string[] {
    return [`${this.path}: ${this.reason}`, ...this.more.map((m) => `${m.path}: ${m.reason}`)];
  }
}

/** The built-in connector types (folders of connectors/ with an index.ts). */
export function builtInTypes(): string[] {
  if (!existsSync(BUILT_IN_DIR)) return [];
  return readdirSync(BUILT_IN_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(resolve(BUILT_IN_DIR, entry.name, 'index.ts')))
    .map((entry) => entry.name)
    .sort();
}

/**
 * Finds a connector by `type` among the built-in ones, or imports it from `module` (a path,
 * relative to the configuration's folder, or an installed package), and checks its options
 * against its own schema. `at` is the instance's path in the configuration, for messages.
 */
export async function loadConnector(
  settings: ConnectorInstanceSettings,
  at: string,
  baseDir: string,
): Promise<{ definition: ConnectorDefinition; options: unknown }> {
  const refuse = (path: string, reason: string) => new ConnectorRefused(settings.name, `${at}.${path}`, reason);
  if ((settings.type === undefined) === (settings.module === undefined)) {
    throw refuse('type', 'give either type (a built-in connector) or module (your own), exactly one');
  }
  let specifier: string;
  if (settings.type !== undefined) {
    const types = builtInTypes();
    if (!TYPE_NAME.test(settings.type) || !types.includes(settings.type)) {
      throw refuse('type', `no built-in connector ${JSON.stringify(settings.type)}; there are: ${types.join(', ')}`);
    }
    specifier = pathToFileURL(resolve(BUILT_IN_DIR, settings.type, 'index.ts')).href;
  } else {
    const module = settings.module!;
    specifier = module.startsWith('.') || isAbsolute(module) ? pathToFileURL(resolve(baseDir, module)).href : module;
  }

  let exported: unknown;
  try {
    const loaded = (await import(specifier)) as { default?: unknown };
    exported = loaded.default;
  } catch (error) {
    throw refuse(settings.type !== undefined ? 'type' : 'module', `cannot be loaded: ${(error as Error).message.split('\n')[0]}`);
  }
  const definition = asDefinition(exported);
  if (definition === undefined) {
    throw refuse('module', 'does not export a connector: its default export must be defineConnector({ type, summary, configSchema, create })');
  }

  const parsed = withSecretBaseDir(baseDir, () => definition.configSchema.safeParse(settings.options));
  if (!parsed.success) {
    const [first, ...more] = fieldErrors(parsed.error, 'options');
    throw new ConnectorRefused(settings.name, `${at}.${first!.path}`, first!.message, more.map((e) => ({ path: `${at}.${e.path}`, reason: e.message })));
  }
  const tooLong = Object.entries(definition.attemptWaits?.(parsed.data) ?? {})
    .filter(([, ms]) => ms >= settings.timeoutMs)
    .map(([option, ms]) => ({ path: `${at}.options.${option}`, reason: `${ms} ms must be below the instance's timeoutMs (${settings.timeoutMs} ms), which ends a send attempt first` }));
  if (tooLong.length > 0) throw new ConnectorRefused(settings.name, tooLong[0]!.path, tooLong[0]!.reason, tooLong.slice(1));
  return { definition, options: parsed.data };
}

function asDefinition(value: unknown): ConnectorDefinition | undefined {
  const candidate = value as Partial<ConnectorDefinition> | undefined;
  if (
    typeof candidate?.type === 'string' &&
    typeof candidate.create === 'function' &&
    typeof (candidate.configSchema as { safeParse?: unknown } | undefined)?.safeParse === 'function'
  ) {
    return candidate as ConnectorDefinition;
  }
  return undefined;
}
