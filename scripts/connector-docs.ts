/**
 * Rewrites the options section of every built-in connector's README from its configSchema
 * (between `<!-- options:start -->` and `<!-- options:end -->`), and the shared settings of
 * connectors/README.md from the runtime's (`<!-- settings:start -->` … `end`), so the docs are
 * the schemas.
 *
 *   node --import tsx scripts/connector-docs.ts           rewrite what is out of date
 *   node --import tsx scripts/connector-docs.ts --check   list what is out of date, exit 1 if any
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../src/embedded/paths.js';
import type { ConnectorDefinition } from '../src/runtime/contract.js';
import { optionsTable, withGeneratedSection, withOptionsSection } from '../src/runtime/options-doc.js';
import { ConnectorInstanceSettings } from '../src/runtime/settings.js';

const CONNECTORS = join(PROJECT_ROOT, 'connectors');

export interface ConnectorReadme {
  type: string;
  path: string;
  current: string;
  rendered: string;
}

/** Every connector folder's README, and the guide, as it is and as the schemas say it should be. */
export async function connectorReadmes(): Promise<ConnectorReadme[]> {
  const out: ConnectorReadme[] = [];
  const guide = join(CONNECTORS, 'README.md');
  const text = readFileSync(guide, 'utf8');
  const shared = optionsTable(ConnectorInstanceSettings.omit({ options: true }), { examples: false });
  out.push({
    type: '(guide)',
    path: guide,
    current: text,
    rendered: withGeneratedSection(text, '<!-- settings:start -->', '<!-- settings:end -->', shared, 'src/runtime/settings.ts'),
  });
  for (const entry of readdirSync(CONNECTORS, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const index = join(CONNECTORS, entry.name, 'index.ts');
    if (!entry.isDirectory() || !existsSync(index)) continue;
    const path = join(CONNECTORS, entry.name, 'README.md');
    const definition = ((await import(pathToFileURL(index).href)) as { default: ConnectorDefinition }).default;
    const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
    out.push({ type: entry.name, path, current, rendered: withOptionsSection(current, definition.configSchema) });
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const readme of await connectorReadmes()) {
    if (readme.current === readme.rendered) continue;
    stale++;
    const shown = relative(PROJECT_ROOT, readme.path);
    if (check) process.stderr.write(`${shown}: options section out of date\n`);
    else {
      writeFileSync(readme.path, readme.rendered);
      process.stdout.write(`rewrote ${shown}\n`);
    }
  }
  if (check && stale > 0) process.exitCode = 1;
}
