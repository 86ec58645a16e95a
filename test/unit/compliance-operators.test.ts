import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assess, parseTemplate } from '../../src/compliance/index.js';
import type { EventOf } from '../../src/model/events.js';

type Settings = EventOf<'config.snapshot'>['payload']['settings'];
type Services = EventOf<'config.snapshot'>['payload']['services'];

function snapshot(settings: Settings, services: Services = []): EventOf<'config.snapshot'> {
  return {
    id: '0195a2c4-1e00-7a31-9c4e-2f6d8b1a0f01',
    type: 'config.snapshot',
    time: 1_742_810_400_000,
    ingestTime: 1_742_810_400_000,
    source: { system: 'config-collector', vendor: 'trustwire', product: 'test' },
    host: { id: 'h1', pool: 'p1' },
    severity: 1,
    payload: { platform: 'test-os', platformVersion: '1.0', collectedAt: 1_742_810_400_000, settings, services },
  };
}

/** The result of one rule (its YAML fields given) on a host with these settings and services. */
function check(ruleFields: Record<string, unknown>, settings: Settings, services: Services = []) {
  const rule = Object.entries({ id: 'r', title: 'R', severity: 'medium', rationale: 'why', remediation: 'how', ...ruleFields })
    .map(([key, value]) => `    ${key}: ${JSON.stringify(value)}`)
    .join('\n');
  const template = parseTemplate(`id: t\nversion: "1"\ntitle: T\nplatforms: [{ id: test-os }]\nthreshold: 50\nrules:\n  -\n${rule}\n`);
  const [result] = assess(snapshot(settings, services), template, { trustStatus: 'trusted', now: 0 }).results;
  const { result: kind, actual, message } = result!;
  return { result: kind, actual, message };
}

describe('eq and neq', () => {
  const eq = { setting: 'a', operator: 'eq', expected: 3 };

  it('passes on the same number and fails on another', () => {
    assert.deepEqual(check(eq, { a: 3 }), { result: 'pass', actual: '3', message: undefined });
    assert.deepEqual(check(eq, { a: 5 }), { result: 'fail', actual: '5', message: undefined });
  });

  it('compares booleans and strings by type, never by text', () => {
    assert.equal(check({ setting: 'a', operator: 'eq', expected: false }, { a: false }).result, 'pass');
    assert.equal(check({ setting: 'a', operator: 'eq', expected: 'info' }, { a: 'info' }).result, 'pass');
    assert.equal(check({ setting: 'a', operator: 'eq', expected: 'info' }, { a: 'Info' }).result, 'fail');
  });

  it('errs when the value is of another type than the expected one', () => {
    assert.deepEqual(check(eq, { a: '3' }), { result: 'error', actual: '3', message: 'a is a string; eq needs a number' });
    assert.deepEqual(check({ setting: 'a', operator: 'eq', expected: false }, { a: 'false' }), {
      result: 'error',
      actual: 'false',
      message: 'a is a string; eq needs a boolean',
    });
  });

  it('compares lists as sets: order and repeats do not matter', () => {
    const rule = { setting: 'a', operator: 'eq', expected: ['ntp1', 'ntp2'] };
    assert.equal(check(rule, { a: ['ntp2', 'ntp1'] }).result, 'pass');
    assert.equal(check(rule, { a: ['ntp1', 'ntp1', 'ntp2'] }).result, 'pass');
    assert.equal(check(rule, { a: ['ntp1'] }).result, 'fail');
  });

  it('neq passes on any other value of the same type and fails on the value', () => {
    const rule = { setting: 'a', operator: 'neq', expected: 'ESX Admins' };
    assert.equal(check(rule, { a: 'fra1-admins' }).result, 'pass');
    assert.equal(check(rule, { a: '' }).result, 'pass');
    assert.equal(check(rule, { a: 'ESX Admins' }).result, 'fail');
    assert.equal(check(rule, { a: 0 }).result, 'error');
  });
});

describe('in', () => {
  const rule = { setting: 'a', operator: 'in', expected: ['PartnerSupported', 'VMwareAccepted', 'VMwareCertified'] };

  it('passes on a member and fails on anything else', () => {
    assert.equal(check(rule, { a: 'VMwareAccepted' }).result, 'pass');
    assert.equal(check(rule, { a: 'CommunitySupported' }).result, 'fail');
  });

  it('takes a list value when every element is a member, naming the others', () => {
    const ciphers = { setting: 'a', operator: 'in', expected: ['aes256-ctr', 'aes128-ctr'] };
    assert.equal(check(ciphers, { a: ['aes128-ctr', 'aes256-ctr'] }).result, 'pass');
    assert.deepEqual(check(ciphers, { a: ['aes128-ctr', 'aes256-cbc', '3des-cbc'] }), {
      result: 'fail',
      actual: '[aes128-ctr, aes256-cbc, 3des-cbc]',
      message: 'not allowed: [aes256-cbc, 3des-cbc]',
    });
  });

  it('errs on a value of another type than the members', () => {
    assert.deepEqual(check(rule, { a: 2 }), { result: 'error', actual: '2', message: 'a is a number; in needs a string' });
    assert.equal(check({ setting: 'a', operator: 'in', expected: [1, 2] }, { a: ['1'] }).result, 'error');
  });
});

describe('regex', () => {
  const rule = { setting: 'a', operator: 'regex', expected: '^ssl://' };

  it('passes when the pattern matches the string (searched, anchored only as written)', () => {
    assert.equal(check(rule, { a: 'ssl://log.example.net:1514' }).result, 'pass');
    assert.equal(check(rule, { a: 'tcp://log.example.net:514' }).result, 'fail');
    assert.equal(check({ setting: 'a', operator: 'regex', expected: 'ssl' }, { a: 'tcp://ssl-relay:514' }).result, 'pass');
  });

  it('errs on a number or a list: a regex reads text', () => {
    assert.deepEqual(check(rule, { a: 1514 }), { result: 'error', actual: '1514', message: 'a is a number; regex needs a string' });
    assert.equal(check(rule, { a: ['ssl://x'] }).result, 'error');
  });
});

describe('min, max and range', () => {
  it('min is inclusive', () => {
    const rule = { setting: 'a', operator: 'min', expected: 5 };
    assert.equal(check(rule, { a: 5 }).result, 'pass');
    assert.equal(check(rule, { a: 24 }).result, 'pass');
    assert.deepEqual(check(rule, { a: 4 }), { result: 'fail', actual: '4', message: '4 is below 5' });
  });

  it('max is inclusive', () => {
    const rule = { setting: 'a', operator: 'max', expected: 4 };
    assert.equal(check(rule, { a: 4 }).result, 'pass');
    assert.deepEqual(check(rule, { a: 6 }), { result: 'fail', actual: '6', message: '6 is above 4' });
  });

  it('range is inclusive at both ends', () => {
    const rule = { setting: 'a', operator: 'range', expected: [1, 600] };
    assert.equal(check(rule, { a: 1 }).result, 'pass');
    assert.equal(check(rule, { a: 600 }).result, 'pass');
    assert.deepEqual(check(rule, { a: 0 }), { result: 'fail', actual: '0', message: '0 is below 1' });
    assert.deepEqual(check(rule, { a: 601 }), { result: 'fail', actual: '601', message: '601 is above 600' });
  });

  it('errs on a numeric string rather than guessing', () => {
    assert.deepEqual(check({ setting: 'a', operator: 'min', expected: 5 }, { a: '5' }), { result: 'error', actual: '5', message: 'a is a string; min needs a number' });
    assert.equal(check({ setting: 'a', operator: 'range', expected: [1, 2] }, { a: true }).result, 'error');
  });
});

describe('exists and absent', () => {
  const exists = { setting: 'a', operator: 'exists' };
  const absent = { setting: 'a', operator: 'absent' };

  it('exists passes on any present, non-empty value, 0 and false included', () => {
    assert.equal(check(exists, { a: 'ssl://log:1514' }).result, 'pass');
    assert.equal(check(exists, { a: 0 }).result, 'pass');
    assert.equal(check(exists, { a: false }).result, 'pass');
    assert.equal(check(exists, { a: ['ntp1'] }).result, 'pass');
  });

  it('exists fails on a missing, empty string or empty list value, saying which', () => {
    assert.deepEqual(check(exists, {}), { result: 'fail', actual: undefined, message: 'a is not in the snapshot' });
    assert.deepEqual(check(exists, { a: '' }), { result: 'fail', actual: '""', message: 'a is empty' });
    assert.deepEqual(check(exists, { a: [] }), { result: 'fail', actual: '[]', message: 'a is empty' });
  });

  it('absent passes on a missing or empty value and fails on a set one', () => {
    assert.equal(check(absent, {}).result, 'pass');
    assert.equal(check(absent, { a: '' }).result, 'pass');
    assert.deepEqual(check(absent, { a: '10.1.1.5' }), { result: 'fail', actual: '10.1.1.5', message: undefined });
  });
});

describe('a setting missing from the snapshot', () => {
  it('fails a value check by default, as an OVAL object that does not exist', () => {
    assert.deepEqual(check({ setting: 'a', operator: 'eq', expected: 3 }, { b: 3 }), { result: 'fail', actual: undefined, message: 'a is not in the snapshot' });
  });

  it('is notchecked when the template says the setting may not be collected', () => {
    assert.deepEqual(check({ setting: 'a', operator: 'min', expected: 3, whenMissing: 'notchecked' }, {}), {
      result: 'notchecked',
      actual: undefined,
      message: 'a is not in the snapshot; the template leaves it unchecked when not collected',
    });
  });

  it('passes when the template accepts its absence', () => {
    assert.deepEqual(check({ setting: 'a', operator: 'eq', expected: 0, whenMissing: 'pass' }, {}), {
      result: 'pass',
      actual: undefined,
      message: 'a is not in the snapshot; the template accepts its absence',
    });
  });

  it('does not count a setting set to an empty string as missing', () => {
    assert.deepEqual(check({ setting: 'a', operator: 'eq', expected: '' }, { a: '' }), { result: 'pass', actual: '""', message: undefined });
  });
});

describe('service rules', () => {
  const services: Services = [
    { name: 'TSM-SSH', running: true, startupPolicy: 'off' },
    { name: 'snmpd', running: false },
  ];

  it('check running (the default property) and startupPolicy', () => {
    assert.deepEqual(check({ setting: 'service:TSM-SSH', operator: 'eq', expected: false }, {}, services), {
      result: 'fail',
      actual: 'true',
      message: undefined,
    });
    assert.equal(check({ setting: 'service:TSM-SSH', property: 'startupPolicy', operator: 'eq', expected: 'off' }, {}, services).result, 'pass');
    assert.equal(check({ setting: 'service:TSM-SSH', property: 'startupPolicy', operator: 'in', expected: ['on', 'automatic'] }, {}, services).result, 'fail');
  });

  it('fails a service that is not reported, and a property the collector left out', () => {
    assert.deepEqual(check({ setting: 'service:ntpd', operator: 'eq', expected: true }, {}, services), {
      result: 'fail',
      actual: undefined,
      message: 'service ntpd is not in the snapshot',
    });
    assert.deepEqual(check({ setting: 'service:snmpd', property: 'startupPolicy', operator: 'eq', expected: 'off' }, {}, services), {
      result: 'fail',
      actual: undefined,
      message: 'service snmpd has no startupPolicy in the snapshot',
    });
  });

  it('absent passes on a service that is not installed', () => {
    assert.equal(check({ setting: 'service:telnet.socket', operator: 'absent' }, {}, services).result, 'pass');
    assert.equal(check({ setting: 'service:TSM-SSH', operator: 'absent' }, {}, services).result, 'fail');
  });
});
