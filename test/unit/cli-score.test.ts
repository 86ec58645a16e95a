import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const score = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'score', ...args], { encoding: 'utf8' });

test('`trustwire score` scores a snapshot offline, listing every rule that did not pass with its evidence', () => {
  const result = score('test/fixtures/compliance/esxi-8-default-install.json');
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^esxi-8-stig .*: 46\.9 of 100 \(46\.9 %\), NOT compliant/);
  assert.match(result.stdout, /pass 19 {2}fail 24 {2}error 0 {2}notapplicable 1/);
  assert.match(result.stdout, /FAIL +medium esxi-8\.password-history .*expected Security\.PasswordHistory min 5, actual 0/);
});

test('`trustwire score --trust untrusted --json`: the trust gate, as the assessment payload', () => {
  const result = score('--trust', 'untrusted', '--json', 'test/fixtures/compliance/esxi-8-hardened.json');
  const assessment = JSON.parse(result.stdout);
  assert.equal(assessment.compliant, false);
  assert.deepEqual(assessment.trustGate, { applied: true, trustStatus: 'untrusted' });
});

test('`trustwire score --templates` refuses a broken template with its file, rule and reason', () => {
  const result = score('--templates', 'test/fixtures/compliance/bad-unknown-operator.yaml', 'test/fixtures/compliance/esxi-8-hardened.json');
  assert.equal(result.status, 1);
  assert.match(result.stderr, /bad-unknown-operator\.yaml:\d+: rule .*: rules\[\d+\]\.operator: unknown operator/);
});

test('`trustwire score` on something that is not a config snapshot says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'trustwire-score-'));
  try {
    const file = join(dir, 'x.json');
    writeFileSync(file, JSON.stringify({ type: 'config.snapshot', time: 'yesterday' }));
    const result = score(file);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /x\.json: time: must be epoch milliseconds/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
