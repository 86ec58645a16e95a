/**
 * The import graph of src/, connectors/ and scripts/kafka/, held to the layers the code is built in: each file
 * imports only from its own layer or the ones below it, and no files import each other in a
 * circle, and none imports from scripts/. `npm run layers` prints what breaks the order;
 * test/unit/layers.test.ts fails on it.
 *
 *   base        src/log.ts, src/errors.ts, src/config/{secret,redact,pem}.ts: what every layer may use
 *   model       src/model: the event contract
 *   formats     src/formats: encodings of events (CEF, LEEF, JSON, ePO XML, syslog, Avro framing)
 *   kafka       src/kafka: the only code that talks to Kafka
 *   core        src/ingest, src/processor, src/compliance (scoring), src/reports, src/runtime, src/activity
 *   connectors  connectors/<name>: sinks, written against the runtime; src/kit, the conformance kit that proves them
 *   api         src/api, src/dashboard
 *   service     src/service.ts, src/config (the application's configuration, composing every
 *               layer's settings), src/embedded (the embedded default's dev token and simulated
 *               pool), the public entries src/index.ts, src/connector.ts
 *   cli         src/cli
 *
 * scripts/ is the developer's and the test suite's tooling, not the application: no file of src/
 * or connectors/ imports from it, but src/cli, which may import scripts/kafka/ (the local Kafka
 * broker that `npm start`'s embedded default runs). That tooling itself imports only src's base
 * layer and src/embedded/paths.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAYERS = ['base', 'model', 'formats', 'kafka', 'core', 'connectors', 'api', 'service', 'cli'] as const;
export type Layer = (typeof LAYERS)[number];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The layer of a file, by its path from the repository root. */
export function layerOf(path: string): Layer | undefined {
  if (['src/log.ts', 'src/errors.ts', 'src/config/secret.ts', 'src/config/redact.ts', 'src/config/pem.ts'].includes(path)) return 'base';
  if (path.startsWith('src/model/')) return 'model';
  if (path.startsWith('src/formats/')) return 'formats';
  if (path.startsWith('src/kafka/')) return 'kafka';
  if (['src/ingest/', 'src/processor/', 'src/compliance/', 'src/reports/', 'src/runtime/', 'src/activity/'].some((folder) => path.startsWith(folder))) return 'core';
  if (path.startsWith('connectors/') || path.startsWith('src/kit/')) return 'connectors';
  if (path.startsWith('src/api/') || path.startsWith('src/dashboard/')) return 'api';
  if (['src/service.ts', 'src/index.ts', 'src/connector.ts'].includes(path) || path.startsWith('src/config/') || path.startsWith('src/embedded/')) return 'service';
  if (path.startsWith('src/cli/')) return 'cli';
  return undefined;
}

function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir))) {
    const path = join(dir, entry);
    if (statSync(join(ROOT, path)).isDirectory()) found.push(...sourceFiles(path));
    else if (/\.(ts|js)$/.test(entry) && !entry.endsWith('.d.ts')) found.push(path);
  }
  return found;
}

/** Every relative import of every file: file → the files it imports (static and dynamic, type-only included). */
export function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sourceFiles('src'), ...sourceFiles('connectors'), ...sourceFiles('scripts/kafka')]) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets = new Set<string>();
    for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const specifier = match[1] ?? match[2]!;
      const target = relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts');
      targets.add(target);
    }
    graph.set(file, [...targets]);
  }
  return graph;
}

export interface Violation {
  from: string;
  to: string;
  /** 'scripts': the local broker tooling, which may import only src's base (and paths.ts). */
  fromLayer: Layer | 'scripts';
  /** 'scripts': an import of the tooling under scripts/, above every layer. */
  toLayer: Layer | 'scripts';
}

/** Whether a file of src/ or connectors/ may import `to` under scripts/: src/cli may import scripts/kafka/, nothing else may. */
export function mayImportScript(from: string, to: string): boolean {
  return layerOf(from) === 'cli' && to.startsWith('scripts/kafka/');
}

/** What the local broker tooling (scripts/kafka/) may import of src/: the base layer, and where the project's files live. */
export function toolingMayImport(to: string): boolean {
  return layerOf(to) === 'base' || to === 'src/embedded/paths.ts';
}

/** Imports from a layer above the importer's, imports of scripts/ (but src/cli's of scripts/kafka/), and the tooling's imports of src/ beyond its base. */
export function violations(graph: Map<string, string[]>): Violation[] {
  const found: Violation[] = [];
  for (const [from, targets] of graph) {
    if (from.startsWith('scripts/kafka/')) {
      for (const to of targets) if (to.startsWith('src/') && !toolingMayImport(to)) found.push({ from, to, fromLayer: 'scripts', toLayer: layerOf(to) ?? 'scripts' });
      continue;
    }
    const fromLayer = layerOf(from);
    if (fromLayer === undefined) continue;
    for (const to of targets) {
      if (to.startsWith('scripts/')) {
        if (!mayImportScript(from, to)) found.push({ from, to, fromLayer, toLayer: 'scripts' });
        continue;
      }
      const toLayer = layerOf(to);
      if (toLayer !== undefined && LAYERS.indexOf(toLayer) > LAYERS.indexOf(fromLayer)) found.push({ from, to, fromLayer, toLayer });
    }
  }
  return found.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
}

/** Files in a circle of imports (each cycle once, as the list of its files). */
export function cycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components: any component of two or more files is a cycle.
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    indices.set(node, index);
    low.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!indices.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, indices.get(next)!));
    }
    if (low.get(node) === indices.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!indices.has(node)) visit(node);
  return found;
}

/** Folders of the core layer that import each other in a circle (ingest → processor → ingest). */
export function folderCycles(graph: Map<string, string[]>): string[][] {
  // A folder is the first two segments (src/kafka, connectors/syslog), a file at src/ its own;
  // src/config holds base files and the service's configuration: two nodes, by layer.
  const folderOf = (path: string) => `${path.split('/').slice(0, 2).join('/')}${path.startsWith('src/config/') ? ` (${layerOf(path)})` : ''}`;
  const folders = new Map<string, string[]>();
  for (const [from, targets] of graph) {
    const source = folderOf(from);
    const set = new Set(folders.get(source) ?? []);
    for (const to of targets) if (folderOf(to) !== source) set.add(folderOf(to));
    folders.set(source, [...set]);
  }
  return cycles(folders);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const graph = importGraph();
  const against = violations(graph);
  for (const v of against) console.log(`${v.from} (${v.fromLayer}) imports ${v.to} (${v.toLayer})`);
  const circles = cycles(graph);
  for (const circle of circles) console.log(`cycle: ${circle.join(' ↔ ')}`);
  const folderCircles = folderCycles(graph);
  for (const circle of folderCircles) console.log(`folder cycle: ${circle.join(' ↔ ')}`);
  console.log(`${graph.size} files: ${against.length} imports against the layers, ${circles.length} file cycles, ${folderCircles.length} folder cycles`);
  process.exitCode = against.length + circles.length + folderCircles.length > 0 ? 1 : 0;
}
