import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadTemplate, loadTemplates, TemplateError, describeTemplateIssue } from '../compliance/load.js';
import { applicableTemplates } from '../compliance/applicability.js';
import { assess } from '../compliance/score.js';
import type { Template } from '../compliance/template.js';
import { prepareEvents } from '../ingest/prepare.js';
import type { EventOf } from '../model/events.js';
import { TrustStatus } from '../model/primitives.js';
import { ValidationError, describeFieldError } from '../model/validation.js';
import { CliError } from './errors.js';
import { parseOptions } from './options.js';

/**
 * `trustwire score [--template ID] [--templates DIR|FILE] [--trust STATUS] [--model M] SNAPSHOT.json`:
 * scores a config snapshot offline, for template authors: every rule with its evidence.
 */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    template: { type: 'string' },
    templates: { type: 'string' },
    trust: { type: 'string', default: 'trusted' },
    model: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new CliError('usage: trustwire score [--template ID] [--templates DIR|FILE] [--trust STATUS] [--model M] [--json] SNAPSHOT.json', 2);
  const trust = TrustStatus.safeParse(values.trust);
  if (!trust.success) throw new CliError(`--trust must be trusted, untrusted or unknown, got ${values.trust}`, 2);

  let templates: Template[];
  try {
    templates = loadTemplates();
    if (values.templates !== undefined) {
      const path = resolve(values.templates);
      const extra = statSync(path).isDirectory() ? loadTemplates(path) : [loadTemplate(path)];
      templates = [...templates.filter((t) => !extra.some((e) => e.id === t.id)), ...extra];
    }
  } catch (error) {
    if (error instanceof TemplateError) throw new CliError(error.issues.map(describeTemplateIssue).join('\n'));
    throw error;
  }

  const file = positionals[0]!;
  let snapshot: EventOf<'config.snapshot'>;
  try {
    const [event] = prepareEvents([{ value: JSON.parse(readFileSync(file, 'utf8')) }]);
    if (event?.type !== 'config.snapshot') throw new CliError(`${file}: a config.snapshot event is needed, got ${event?.type}`);
    snapshot = event;
  } catch (error) {
    if (error instanceof ValidationError) throw new CliError(`${file}: ${error.details.map(describeFieldError).join('; ')}`);
    if (error instanceof SyntaxError) throw new CliError(`${file}: not JSON: ${error.message}`);
    throw error;
  }

  const chosen = values.template !== undefined ? templates.filter((t) => t.id === values.template) : applicableTemplates(snapshot, templates);
  if (chosen.length === 0) {
    throw new CliError(
      values.template !== undefined
        ? `no template ${values.template}; there are: ${templates.map((t) => t.id).join(', ')}`
        : `no template applies to platform ${snapshot.payload.platform}`,
    );
  }
  for (const template of chosen) {
    const result = assess(snapshot, template, {
      trustStatus: trust.data,
      now: snapshot.time,
      ...(values.model !== undefined && { model: values.model as never }),
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      continue;
    }
    const percent = result.maxScore > 0 ? ((100 * result.score) / result.maxScore).toFixed(1) : '0.0';
    process.stdout.write(
      `${template.id} ${template.version} (${result.scoringModel}): ${result.score} of ${result.maxScore} (${percent} %), ` +
        `${result.compliant ? 'compliant' : 'NOT compliant'}${result.trustGate.applied ? ' (untrusted host: gated)' : ''}\n`,
    );
    const c = result.counts;
    process.stdout.write(`  pass ${c.pass}  fail ${c.fail}  error ${c.error}  notapplicable ${c.notapplicable}  notchecked ${c.notchecked}  waived ${c.waived}\n`);
    for (const rule of result.results) {
      if (rule.result === 'pass') continue;
      const evidence = rule.result === 'notapplicable' ? '' : `  expected ${rule.expected ?? '-'}, actual ${rule.actual ?? '(absent)'}`;
      process.stdout.write(`  ${rule.result.toUpperCase().padEnd(13)} ${rule.severity.padEnd(6)} ${rule.ruleId}  ${rule.title}${evidence}\n`);
    }
  }
  return 0;
}
