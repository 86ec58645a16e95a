import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { formatPath } from '../model/validation.js';
import { Template } from './template.js';
import { TrustwireError } from '../errors.js';

/** The templates shipped with trustwire. */
export const BUNDLED_TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

/** One reason a template was refused. */
export interface TemplateIssue {
  file: string;
  /** 1-based line in the file, when the problem has a place. */
  line?: number;
  /** The id of the rule concerned, when the problem is inside a rule that has one. */
  ruleId?: string;
  /** `rules[3].operator`, `(root)`, `(file)`. */
  path: string;
  message: string;
}

/** A template (or a set of them) that cannot be used; every problem named by file, line, rule and field. */
export class TemplateError extends TrustwireError {
  override name = 'TemplateError';
  constructor(readonly issues: readonly TemplateIssue[]) {
    super(issues.map(describeTemplateIssue).join('\n'));
  }
}

/** `templates/x.yaml:14: rule esxi-8.mob: rules[7].expected: eq needs ...`. */
export function describeTemplateIssue(issue: TemplateIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  const rule = issue.ruleId === undefined ? '' : ` rule ${issue.ruleId}:`;
  return `${where}:${rule} ${issue.path}: ${issue.message}`;
}

/** Parses and validates a template held in memory (the file name is for messages). */
export function parseTemplate(text: string, file = '(inline)'): Template {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter: lines });
  if (doc.errors.length > 0) {
    throw new TemplateError(
      doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0]?.line,
        path: '(yaml)',
        // The line is given apart; keep the first sentence, not the code frame.
        message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
      })),
    );
  }
  const data: unknown = doc.toJS();
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new TemplateError([{ file, line: 1, path: '(root)', message: 'must be a mapping with id, version, title, platforms, threshold and rules' }]);
  }

  // Duplicate ids are found on the raw rules, so that they are reported with the other problems.
  const issues = duplicateRuleIds(data, file, doc, lines);
  const result = Template.safeParse(data, { error: (issue) => (issue.input === undefined ? 'required' : undefined) });
  if (!result.success) issues.push(...zodIssues(result.error, data, file, doc, lines));
  if (issues.length > 0 || !result.success) throw new TemplateError(issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0)));
  return result.data;
}

/** Loads one template file. */
export function loadTemplate(file: string): Template {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TemplateError([{ file: path, path: '(file)', message: `cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }]);
  }
  return parseTemplate(text, path);
}

/**
 * Loads every `*.yaml` / `*.yml` in a folder (the bundled templates by default), in file-name
 * order. Problems in all files are collected and thrown together, as is a template id used twice.
 */
export function loadTemplates(dir: string = BUNDLED_TEMPLATES_DIR): Template[] {
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(dir, entry.name))
    .sort();
  const templates: Template[] = [];
  const issues: TemplateIssue[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    try {
      const template = loadTemplate(file);
      const first = seen.get(template.id);
      if (first !== undefined) {
        issues.push({ file, path: 'id', message: `template id ${template.id} is already used by ${basename(first)}` });
        continue;
      }
      seen.set(template.id, file);
      templates.push(template);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length > 0) throw new TemplateError(issues);
  return templates;
}

// ---- issue locations -----------------------------------------------------------------------

function duplicateRuleIds(data: object, file: string, doc: Document, lines: LineCounter): TemplateIssue[] {
  const rules = (data as { rules?: unknown }).rules;
  if (!Array.isArray(rules)) return [];
  const first = new Map<string, number>();
  const issues: TemplateIssue[] = [];
  rules.forEach((rule, index) => {
    const id = ruleIdAt(rules, index);
    if (id === undefined) return;
    const at = first.get(id);
    if (at === undefined) {
      first.set(id, index);
      return;
    }
    const path = ['rules', index, 'id'];
    issues.push({ file, line: lineOf(doc, lines, path), ruleId: id, path: formatPath(path), message: `duplicate rule id: rules[${at}] has it already` });
  });
  return issues;
}

function zodIssues(error: z.ZodError, data: object, file: string, doc: Document, lines: LineCounter): TemplateIssue[] {
  const rules = (data as { rules?: unknown }).rules;
  const out: TemplateIssue[] = [];
  for (const issue of error.issues) {
    const paths = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
    const message = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
    for (const path of paths) {
      const ruleIndex = path[0] === 'rules' && typeof path[1] === 'number' ? path[1] : undefined;
      const ruleId = ruleIndex !== undefined && Array.isArray(rules) ? ruleIdAt(rules, ruleIndex) : undefined;
      out.push({ file, line: lineOf(doc, lines, path), ruleId, path: formatPath(path), message });
    }
  }
  return out;
}

function ruleIdAt(rules: readonly unknown[], index: number): string | undefined {
  const id = (rules[index] as { id?: unknown } | null | undefined)?.id;
  return typeof id === 'string' ? id : undefined;
}

/** The line of the node at `path`, or of its nearest ancestor that exists (a missing field: its rule). */
function lineOf(doc: Document, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
    if (range !== undefined) return lines.linePos(range[0]).line;
  }
  return undefined;
}
