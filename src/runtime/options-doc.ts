/**
 * A connector's options as documentation: one row per option, read from the JSON Schema that
 * `z.toJSONSchema` makes of its configSchema, so the declaration that parses the options is the
 * one that documents them (descriptions, defaults, examples, secrets).
 */
import { z } from 'zod';

export interface OptionRow {
  /** Dotted path under `options:`, e.g. `auth.token`. */
  path: string;
  type: string;
  required: boolean;
  /** Set when the schema has a default. */
  default?: unknown;
  description?: string;
  examples?: unknown[];
  secret: boolean;
  /** For a field of one variant of a union: the discriminating value, e.g. `auth.type: bearer`. */
  when?: string;
  /** An object holding other options, documented by its children. */
  group: boolean;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  default?: unknown;
  description?: string;
  examples?: unknown[];
  secret?: boolean;
}

const SAFE_INT = 9007199254740991;

/** Every option of a configSchema, in declaration order, nested objects flattened to dotted paths. */
export function optionRows(schema: z.ZodType): OptionRow[] {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    // zod drops the examples of a transforming schema (a secret option) in input mode; they are inputs here.
    override: ({ zodSchema, jsonSchema }) => {
      const examples = z.globalRegistry.get(zodSchema)?.examples;
      if (examples !== undefined && jsonSchema.examples === undefined) jsonSchema.examples = examples as unknown[];
    },
  }) as JsonSchema;
  const rows: OptionRow[] = [];
  walkObject(json, '', rows, undefined);
  return rows;
}

function walkObject(node: JsonSchema, prefix: string, rows: OptionRow[], when: string | undefined): void {
  const required = new Set(node.required ?? []);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    walk(child, prefix === '' ? key : `${prefix}.${key}`, required.has(key), rows, when);
  }
}

function walk(node: JsonSchema, path: string, required: boolean, rows: OptionRow[], when: string | undefined): void {
  const row: OptionRow = { path, type: typeName(node), required, secret: node.secret === true, group: false };
  if (node.default !== undefined) row.default = node.default;
  if (node.description !== undefined) row.description = node.description;
  if (node.examples !== undefined) row.examples = node.examples;
  if (when !== undefined) row.when = when;
  if (row.secret) {
    rows.push(row);
    return;
  }
  if (node.properties !== undefined && node.additionalProperties === false) {
    row.group = true;
    row.type = 'object';
    rows.push(row);
    walkObject(node, path, rows, when);
    return;
  }
  const variants = tagged(node, path);
  if (variants !== undefined) {
    row.group = true;
    row.type = `object, by ${variants.tag}`;
    rows.push(row);
    walk(variants.tagSchema, `${path}.${variants.tag}`, true, rows, when);
    for (const [i, variant] of variants.members.entries()) {
      const variantWhen = `${path}.${variants.tag}: ${variants.values[i]}`;
      const inner = { ...variant, properties: Object.fromEntries(Object.entries(variant.properties ?? {}).filter(([key]) => key !== variants.tag)) };
      walkObject(inner, path, rows, variantWhen);
    }
    return;
  }
  rows.push(row);
}

/** A union of objects told apart by one constant field (`type: bearer`), or undefined. */
function tagged(node: JsonSchema, path: string): { tag: string; values: string[]; members: JsonSchema[]; tagSchema: JsonSchema } | undefined {
  const members = node.oneOf ?? node.anyOf;
  if (members === undefined || members.length < 2 || !members.every((m) => m.properties !== undefined)) return undefined;
  const first = members[0]!.properties!;
  const tag = Object.keys(first).find((key) => members.every((m) => m.properties![key]?.const !== undefined));
  if (tag === undefined) return undefined;
  const values = members.map((m) => String(m.properties![tag]!.const));
  const tagSchema: JsonSchema = { enum: values, description: `which kind of \`${path}\` this is; each has the options marked with it` };
  if (node.default !== undefined && typeof node.default === 'object' && node.default !== null) {
    tagSchema.default = (node.default as Record<string, unknown>)[tag];
  }
  tagSchema.examples = values.slice(0, 2);
  return { tag, values, members, tagSchema };
}

function typeName(node: JsonSchema): string {
  if (node.secret === true) return 'secret';
  if (node.enum !== undefined) return node.enum.map((value) => JSON.stringify(value)).join(' | ');
  if (node.const !== undefined) return JSON.stringify(node.const);
  const members = node.anyOf ?? node.oneOf;
  if (members !== undefined) return members.map(typeName).join(' or ');
  switch (node.type) {
    case 'string':
      return node.format === 'uri' ? 'URL' : node.format !== undefined ? `string (${node.format})` : 'string';
    case 'integer':
    case 'number': {
      const name = node.type;
      const min = node.minimum ?? node.exclusiveMinimum;
      const max = node.maximum;
      const bounds = [min !== undefined && min !== -SAFE_INT ? `≥ ${min}` : '', max !== undefined && max !== SAFE_INT ? `≤ ${max}` : ''].filter(Boolean);
      return bounds.length > 0 ? `${name} (${bounds.join(', ')})` : name;
    }
    case 'boolean':
      return 'boolean';
    case 'array':
      return `list of ${node.items === undefined ? 'any' : typeName(node.items)}`;
    case 'object':
      return typeof node.additionalProperties === 'object' ? `map of name → ${typeName(node.additionalProperties)}` : 'object';
    default:
      return Array.isArray(node.type) ? node.type.join(' or ') : 'any';
  }
}

const SECRET_NAME = /(token|password|passwd|secret|api[-_]?key|credential)/i;

/**
 * Where a configSchema falls short of the connector rules: an option without a description or
 * an example, or a secret-sounding option not declared with secretOption().
 */
export function optionProblems(schema: z.ZodType): string[] {
  const problems: string[] = [];
  for (const row of optionRows(schema)) {
    if (row.description === undefined || row.description.trim() === '') problems.push(`${row.path} has no description (.describe())`);
    if (!row.group && (row.examples === undefined || row.examples.length === 0)) problems.push(`${row.path} has no example (.meta({ examples: [...] }))`);
    const last = row.path.split('.').pop()!;
    if (!row.secret && !row.group && SECRET_NAME.test(last)) problems.push(`${row.path} looks like a secret but is not declared with secretOption()`);
  }
  return problems;
}

/** A table cell: pipes escaped, one line, and `<` outside code spans escaped so `<path>` is not taken for HTML. */
const cell = (text: string) =>
  text
    .replaceAll('|', '\\|')
    .replaceAll('\n', ' ')
    .split('`')
    .map((part, i) => (i % 2 === 0 ? part.replaceAll('<', '&lt;').replaceAll('>', '&gt;') : part))
    .join('`');
const code = (value: unknown) => `\`${JSON.stringify(value)}\``;

/** The options as a Markdown table: option, type, default, description, and (unless left out) example. */
export function optionsTable(schema: z.ZodType, { examples = true }: { examples?: boolean } = {}): string {
  const lines = examples
    ? ['| option | type | default | description | example |', '| --- | --- | --- | --- | --- |']
    : ['| option | type | default | description |', '| --- | --- | --- | --- |'];
  for (const row of optionRows(schema)) {
    const type = row.secret ? 'secret: `{env: NAME}`, `{file: PATH}` or inline' : cell(row.type);
    const fallback = row.default !== undefined ? code(row.default) : row.required ? '*required*' : 'absent';
    const description = [row.when !== undefined ? `(when \`${row.when}\`)` : '', row.description ?? ''].filter(Boolean).join(' ');
    const cells = [`\`${row.path}\``, type, fallback, cell(description)];
    if (examples) cells.push((row.examples?.map(code).join(', ') ?? '').replaceAll('|', '\\|'));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

export const OPTIONS_START = '<!-- options:start -->';
export const OPTIONS_END = '<!-- options:end -->';

/** The text with the part between `start` and `end` (markers kept) replaced by a generated `body`; throws when a marker is missing. */
export function withGeneratedSection(text: string, start: string, end: string, body: string, source: string): string {
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to === -1 || to < from) throw new Error(`no ${start} … ${end} section`);
  const generated = [start, `<!-- generated from ${source} by scripts/connector-docs.ts; edit that, then run: node --import tsx scripts/connector-docs.ts -->`, '', body, '', end];
  return text.slice(0, from) + generated.join('\n') + text.slice(to + end.length);
}

/** A connector README with its options section rewritten from the schema. */
export function withOptionsSection(readme: string, schema: z.ZodType, source = 'config.ts'): string {
  return withGeneratedSection(readme, OPTIONS_START, OPTIONS_END, optionsTable(schema), source);
}
