import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  applicableTemplates,
  loadTemplate,
  loadTemplates,
  parseTemplate,
  SEVERITY_WEIGHTS,
  TemplateError,
  type TemplateIssue,
} from '../../src/compliance/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/compliance/', import.meta.url));

/** The issues a template is refused with. */
function refusal(run: () => unknown): TemplateIssue[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof TemplateError, `expected a TemplateError, got ${String(error)}`);
    return [...error.issues];
  }
  assert.fail('the template was accepted');
}

/** A template of one rule, the rule's YAML lines given (indented by the caller as list items). */
function oneRule(rule: string, extra = ''): string {
  return `id: t\nversion: "1"\ntitle: T\nplatforms: [{ id: esxi-8 }]\nthreshold: 90\n${extra}rules:\n${rule}`;
}

const RULE = (fields: string) =>
  `  - id: r1\n    title: R\n    severity: medium\n    rationale: why\n    remediation: how\n${fields
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')}\n`;

describe('bundled templates', () => {
  const templates = loadTemplates();
  const byId = new Map(templates.map((t) => [t.id, t]));

  it('loads every bundled template', () => {
    assert.deepEqual(
      templates.map((t) => t.id),
      ['esxi-8-stig', 'linux-kvm-cis'],
    );
  });

  it('holds at least 30 ESXi STIG rules, each with its STIG id', () => {
    const esxi = byId.get('esxi-8-stig');
    assert.ok(esxi);
    assert.equal(esxi.rules.length, 44);
    for (const rule of esxi.rules) {
      const stig = rule.references.filter((r) => r.type === 'stig');
      assert.equal(stig.length, 1, `${rule.id} has one STIG id`);
      assert.match(stig[0]!.id, /^ESXI-80-\d{6}$/);
    }
  });

  it('gives the ESXi rules the STIG severities (CAT I high, CAT III low)', () => {
    const esxi = byId.get('esxi-8-stig')!;
    const severity = (stigId: string) => esxi.rules.filter((r) => r.references.some((ref) => ref.id === stigId)).map((r) => r.severity);
    assert.deepEqual(severity('ESXI-80-000014'), ['high']);
    assert.deepEqual(severity('ESXI-80-000133'), ['high']);
    assert.deepEqual(severity('ESXI-80-000161'), ['high']);
    assert.deepEqual(severity('ESXI-80-000213'), ['low']);
    assert.deepEqual(severity('ESXI-80-000193'), ['medium', 'medium']);
  });

  it('holds at least 20 Linux KVM rules, CIS references naming their benchmark', () => {
    const kvm = byId.get('linux-kvm-cis');
    assert.ok(kvm);
    assert.equal(kvm.rules.length, 32);
    const cis = kvm.rules.flatMap((r) => r.references).filter((r) => r.type === 'cis');
    assert.ok(cis.length >= 20);
    for (const ref of cis) assert.ok(ref.type === 'cis' && ref.benchmark.startsWith('CIS Red Hat Enterprise Linux'));
  });

  it('weighs rules by severity: high 10, medium 5, low 1', () => {
    assert.deepEqual(SEVERITY_WEIGHTS, { high: 10, medium: 5, low: 1 });
    for (const template of templates) for (const rule of template.rules) assert.equal(rule.weight, SEVERITY_WEIGHTS[rule.severity]);
  });

  it('renders the expected value as the evidence line of each rule', () => {
    const esxi = byId.get('esxi-8-stig')!;
    const text = (id: string) => esxi.rules.find((r) => r.id === id)?.expectedText;
    assert.equal(text('esxi-8.account-lock-failures'), 'Security.AccountLockFailures eq 3');
    assert.equal(text('esxi-8.shell-timeout'), 'UserVars.ESXiShellTimeOut range 1..600');
    assert.equal(text('esxi-8.ssh-stopped'), 'service TSM-SSH running eq false');
    assert.equal(text('esxi-8.ntpd-startup'), 'service ntpd startupPolicy eq on');
    assert.equal(text('esxi-8.vib-acceptance'), 'software.acceptance.level in [VMwareCertified, VMwareAccepted, PartnerSupported]');
    assert.equal(text('esxi-8.syslog-remote'), 'Syslog.global.logHost exists');
  });

  it('picks the templates whose platform takes the snapshot', () => {
    const snapshot = (platform: string, platformVersion?: string) => ({ payload: { platform, platformVersion, collectedAt: 0, settings: {}, services: [] } });
    assert.deepEqual(
      applicableTemplates(snapshot('esxi-8', '8.0.3'), templates).map((t) => t.id),
      ['esxi-8-stig'],
    );
    assert.deepEqual(
      applicableTemplates(snapshot('linux-kvm'), templates).map((t) => t.id),
      ['linux-kvm-cis'],
    );
    assert.deepEqual(applicableTemplates(snapshot('hyper-v'), templates), []);
  });
});

describe('broken template files', () => {
  const load = (name: string) => refusal(() => loadTemplate(join(FIXTURES, name)));

  it('refuses an unknown operator, naming file, line, rule and the operators there are', () => {
    const [issue, ...more] = load('bad-unknown-operator.yaml');
    assert.deepEqual(more, []);
    assert.ok(issue!.file.endsWith('bad-unknown-operator.yaml'));
    assert.equal(issue!.line, 19);
    assert.equal(issue!.ruleId, 'esxi-8.password-history');
    assert.equal(issue!.path, 'rules[1].operator');
    assert.equal(issue!.message, 'unknown operator "gte": expected one of eq, neq, in, regex, min, max, range, exists, absent');
  });

  it('refuses a regular expression that does not compile', () => {
    const [issue, ...more] = load('bad-regex.yaml');
    assert.deepEqual(more, []);
    assert.deepEqual({ ...issue, file: undefined }, {
      file: undefined,
      line: 12,
      ruleId: 'esxi-8.syslog-tls',
      path: 'rules[0].expected',
      message: 'invalid regular expression: /^(ssl:///: Unterminated group',
    });
  });

  it('refuses a duplicate rule id, pointing at the second and naming the first', () => {
    const [issue, ...more] = load('bad-duplicate-id.yaml');
    assert.deepEqual(more, []);
    assert.deepEqual({ ...issue, file: undefined }, {
      file: undefined,
      line: 24,
      ruleId: 'esxi-8.ssh-stopped',
      path: 'rules[2].id',
      message: 'duplicate rule id: rules[0] has it already',
    });
  });

  it('refuses a rule without a required field, at the rule', () => {
    const [issue, ...more] = load('bad-missing-field.yaml');
    assert.deepEqual(more, []);
    assert.deepEqual({ ...issue, file: undefined }, { file: undefined, line: 8, ruleId: 'linux-kvm.aslr', path: 'rules[0].severity', message: 'required' });
  });

  it('refuses an expected value of the wrong type for its operator', () => {
    const [issue, ...more] = load('bad-expected-type.yaml');
    assert.deepEqual(more, []);
    assert.deepEqual({ ...issue, file: undefined }, {
      file: undefined,
      line: 12,
      ruleId: 'linux-kvm.sshd-max-auth-tries',
      path: 'rules[0].expected',
      message: 'max needs a number, not a string ("4")',
    });
  });

  it('says it all in the error message, one line per problem', () => {
    assert.throws(
      () => loadTemplate(join(FIXTURES, 'bad-regex.yaml')),
      /bad-regex\.yaml:12: rule esxi-8\.syslog-tls: rules\[0\]\.expected: invalid regular expression/,
    );
  });

  it('refuses a folder holding a broken template, with every problem of every file', () => {
    const issues = refusal(() => loadTemplates(FIXTURES));
    assert.deepEqual(issues.map((i) => i.file.split('/').pop()).sort(), [
      'bad-duplicate-id.yaml',
      'bad-expected-type.yaml',
      'bad-missing-field.yaml',
      'bad-regex.yaml',
      'bad-unknown-operator.yaml',
    ]);
  });

  it('refuses two files with the same template id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'trustwire-templates-'));
    try {
      const text = oneRule(RULE('setting: a\noperator: exists'));
      writeFileSync(join(dir, 'a.yaml'), text);
      writeFileSync(join(dir, 'b.yml'), text);
      const [issue, ...more] = refusal(() => loadTemplates(dir));
      assert.deepEqual(more, []);
      assert.ok(issue!.file.endsWith('b.yml'));
      assert.equal(issue!.message, 'template id t is already used by a.yaml');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file that cannot be read', () => {
    const [issue] = refusal(() => loadTemplate(join(FIXTURES, 'no-such-template.yaml')));
    assert.equal(issue!.path, '(file)');
    assert.equal(issue!.message, 'cannot read: ENOENT');
  });
});

describe('template validation', () => {
  /** The messages (by path) a one-rule template with these rule fields is refused with. */
  const problems = (fields: string, extra = '') =>
    refusal(() => parseTemplate(oneRule(RULE(fields), extra), 'inline.yaml')).map((i) => `${i.path}: ${i.message}`);

  it('accepts each operator with a value of its type', () => {
    const template = parseTemplate(
      oneRule(
        [
          RULE('setting: a\noperator: eq\nexpected: 1').replace('r1', 'eq'),
          RULE('setting: a\noperator: neq\nexpected: [x, y]').replace('r1', 'neq'),
          RULE('setting: a\noperator: in\nexpected: [1, 2]').replace('r1', 'in'),
          RULE('setting: a\noperator: regex\nexpected: "^a+$"').replace('r1', 'regex'),
          RULE('setting: a\noperator: min\nexpected: 1.5').replace('r1', 'min'),
          RULE('setting: a\noperator: max\nexpected: -3').replace('r1', 'max'),
          RULE('setting: a\noperator: range\nexpected: [1, 1]').replace('r1', 'range'),
          RULE('setting: a\noperator: exists').replace('r1', 'exists'),
          RULE('setting: a\noperator: absent').replace('r1', 'absent'),
        ].join(''),
      ),
    );
    assert.deepEqual(
      template.rules.map((r) => r.operator),
      ['eq', 'neq', 'in', 'regex', 'min', 'max', 'range', 'exists', 'absent'],
    );
  });

  it('refuses eq with a mapping, and in with an empty or mixed list', () => {
    assert.deepEqual(problems('setting: a\noperator: eq\nexpected: { x: 1 }'), ['rules[0].expected: eq needs a string, number, boolean or list of strings, not a mapping']);
    assert.deepEqual(problems('setting: a\noperator: in\nexpected: []'), ['rules[0].expected: in needs a non-empty list, not a list ([])']);
    assert.deepEqual(problems('setting: a\noperator: in\nexpected: [1, "1"]'), [
      'rules[0].expected: in needs members of one type (all strings, all numbers or all booleans)',
    ]);
  });

  it('refuses regex with a number, range out of order and range of one number', () => {
    assert.deepEqual(problems('setting: a\noperator: regex\nexpected: 5'), ['rules[0].expected: regex needs a pattern string, not a number (5)']);
    assert.deepEqual(problems('setting: a\noperator: range\nexpected: [600, 1]'), ['rules[0].expected: range low 600 is above high 1']);
    assert.deepEqual(problems('setting: a\noperator: range\nexpected: 600'), ['rules[0].expected: range needs [low, high] (two numbers), not a number (600)']);
  });

  it('refuses a missing expected value, and one given to exists', () => {
    assert.deepEqual(problems('setting: a\noperator: min'), ['rules[0].expected: required for operator min']);
    assert.deepEqual(problems('setting: a\noperator: exists\nexpected: 1'), ['rules[0].expected: exists takes no expected value']);
  });

  it('refuses whenMissing on exists and absent, which decide absence themselves', () => {
    assert.deepEqual(problems('setting: a\noperator: absent\nwhenMissing: pass'), [
      'rules[0].whenMissing: absent decides itself what a missing setting means; whenMissing does not apply',
    ]);
  });

  it('checks service rules: operator, property values, and property only on services', () => {
    assert.deepEqual(problems('setting: service:TSM\noperator: min\nexpected: 1'), [
      "rules[0].expected: a service's running is checked with eq, neq, in, exists or absent, not min",
    ]);
    assert.deepEqual(problems('setting: service:TSM\noperator: eq\nexpected: "false"'), ['rules[0].expected: running is true or false, not "false"']);
    assert.deepEqual(problems('setting: service:TSM\nproperty: startupPolicy\noperator: eq\nexpected: enabled'), [
      'rules[0].expected: startupPolicy is on, off, automatic, not "enabled"',
    ]);
    assert.deepEqual(problems('setting: a\nproperty: running\noperator: eq\nexpected: true'), ['rules[0].property: only a service:<name> setting has a property']);
    assert.deepEqual(problems('setting: "service:"\noperator: exists'), ['rules[0].setting: service: needs a service name, e.g. service:TSM-SSH']);
  });

  it('refuses a rule platform the template does not cover', () => {
    assert.deepEqual(problems('setting: a\noperator: exists\nplatforms: [{ id: esxi-7 }]'), [
      "rules[0].platforms[0].id: esxi-7 is not one of the template's platforms (esxi-8): the rule could never apply",
    ]);
  });

  it('refuses versions YAML reads as numbers, rather than turning 1.10 into 1.1', () => {
    const text = oneRule(RULE('setting: a\noperator: exists')).replace('version: "1"', 'version: 1.10');
    assert.deepEqual(
      refusal(() => parseTemplate(text)).map((i) => `${i.path}: ${i.message}`),
      ['version: must be a string, YAML read 1.1: quote the version'],
    );
    assert.deepEqual(problems('setting: a\noperator: exists\nplatforms: [{ id: esxi-8, minVersion: 8.0 }]'), [
      'rules[0].platforms[0].minVersion: must be a string, YAML read 8: quote the version',
    ]);
  });

  it('checks references: known types, STIG and CIS id forms, the CIS benchmark named', () => {
    assert.deepEqual(problems('setting: a\noperator: exists\nreferences: [{ type: iso, id: "27001" }]'), [
      'rules[0].references[0].type: unknown reference type "iso": expected stig, vuln, cis, cci, nist or url',
    ]);
    assert.deepEqual(problems('setting: a\noperator: exists\nreferences: [{ type: stig, id: ESXI-80-5 }]'), [
      'rules[0].references[0].id: must be a STIG id such as ESXI-80-000005',
    ]);
    assert.deepEqual(problems('setting: a\noperator: exists\nreferences: [{ type: cis, id: 3.3.8 }]'), ['rules[0].references[0].benchmark: required']);
  });

  it('refuses unknown fields and unknown scoring models', () => {
    assert.deepEqual(problems('setting: a\noperator: exists\nseverty: high'), ['rules[0].severty: unknown field']);
    assert.deepEqual(problems('setting: a\noperator: exists', 'scoringModel: urn:xccdf:scoring:best\n'), [
      'scoringModel: unknown scoring model "urn:xccdf:scoring:best": expected one of urn:xccdf:scoring:default, urn:xccdf:scoring:flat, urn:xccdf:scoring:flat-unweighted, urn:xccdf:scoring:absolute (or default, flat, flat-unweighted, absolute)',
    ]);
  });

  it('reports every problem of a template at once, in file order', () => {
    const text = oneRule(
      RULE('setting: a\noperator: gte\nexpected: 1') + RULE('setting: b\noperator: regex\nexpected: "("') + RULE('setting: c\noperator: exists'),
    );
    const issues = refusal(() => parseTemplate(text, 'many.yaml'));
    assert.deepEqual(
      issues.map((i) => [i.line, i.ruleId, i.path]),
      [
        [13, 'r1', 'rules[0].operator'],
        [15, 'r1', 'rules[1].id'],
        [22, 'r1', 'rules[1].expected'],
        [23, 'r1', 'rules[2].id'],
      ],
    );
  });

  it('refuses YAML with a key given twice, with its line', () => {
    const [issue] = refusal(() => parseTemplate('id: a\nid: b\n', 'dup.yaml'));
    assert.equal(issue!.line, 2);
    assert.equal(issue!.path, '(yaml)');
    assert.match(issue!.message, /unique/i);
  });

  it('refuses a document that is not a mapping', () => {
    assert.deepEqual(refusal(() => parseTemplate('- a\n- b\n')).map((i) => i.message), [
      'must be a mapping with id, version, title, platforms, threshold and rules',
    ]);
  });
});
