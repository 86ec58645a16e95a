import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { applicableTemplates, assess, loadTemplates, Waiver } from '../../src/compliance/index.js';
import { CanonicalEvent, type EventOf } from '../../src/model/events.js';

function fixture(name: string): EventOf<'config.snapshot'> {
  const event = CanonicalEvent.parse(JSON.parse(readFileSync(new URL(`../fixtures/compliance/${name}`, import.meta.url), 'utf8')));
  assert.equal(event.type, 'config.snapshot');
  return event as EventOf<'config.snapshot'>;
}

const templates = loadTemplates();
const NOW = Date.UTC(2025, 2, 24, 10, 0, 0);

function assessFixture(name: string, options: Partial<Parameters<typeof assess>[2]> = {}) {
  const snapshot = fixture(name);
  const [template, ...others] = applicableTemplates(snapshot, templates);
  assert.ok(template, `a template applies to ${name}`);
  assert.deepEqual(others, []);
  return assess(snapshot, template, { trustStatus: 'trusted', now: NOW, ...options });
}

/** Rule id → result, for the rules whose result is not `pass`. */
function notPassing(assessment: ReturnType<typeof assess>): Record<string, string> {
  return Object.fromEntries(assessment.results.filter((r) => r.result !== 'pass').map((r) => [r.ruleId, r.result]));
}

describe('esxi-8-stig on a hardened ESXi 8.0.3 host', () => {
  const a = assessFixture('esxi-8-hardened.json');

  it('passes every rule but the pre-8.0.3 TLS check, which does not apply', () => {
    assert.deepEqual(notPassing(a), { 'esxi-8.tls-protocols': 'notapplicable' });
    assert.deepEqual(a.counts, { pass: 43, fail: 0, error: 0, notapplicable: 1, notchecked: 0, waived: 0 });
  });

  it('scores 100 and is compliant', () => {
    assert.deepEqual([a.score, a.maxScore, a.scoreWithoutWaivers, a.compliant], [100, 100, 100, true]);
  });

  it('applies the 8.0.3 TLS profile rule', () => {
    const profile = a.results.find((r) => r.ruleId === 'esxi-8.tls-profile');
    assert.deepEqual(profile, {
      ruleId: 'esxi-8.tls-profile',
      title: 'The ESXi host must use the NIST_2024 TLS server profile',
      severity: 'medium',
      result: 'pass',
      expected: 'system.tls.server.profile eq NIST_2024',
      actual: 'NIST_2024',
    });
  });
});

describe('esxi-8-stig on a default ESXi 8.0.2 install', () => {
  const a = assessFixture('esxi-8-default-install.json');

  it('fails the 24 settings a fresh install leaves open, the TLS profile rule not applying to 8.0.2', () => {
    // Read off the fixture against each rule's expected value:
    assert.deepEqual(notPassing(a), {
      'esxi-8.account-lock-failures': 'fail', //   5, not 3
      'esxi-8.lockdown-mode': 'fail', //           lockdownDisabled
      'esxi-8.password-quality': 'fail', //        the default policy string
      'esxi-8.password-history': 'fail', //        0 < 5
      'esxi-8.shell-interactive-timeout': 'fail', // 0, outside 1..900
      'esxi-8.require-secure-boot': 'fail', //     false
      'esxi-8.secure-boot-enabled': 'fail', //     false
      'esxi-8.account-unlock-time': 'fail', //     120, not 900
      'esxi-8.audit-storage-capacity': 'fail', //  4, not 100
      'esxi-8.syslog-remote': 'fail', //           "" (empty: not set)
      'esxi-8.ntp-servers': 'fail', //             [] (empty)
      'esxi-8.ntpd-running': 'fail', //            stopped
      'esxi-8.ntpd-startup': 'fail', //            off
      'esxi-8.shell-timeout': 'fail', //           0, outside 1..600
      'esxi-8.bpdu-filter': 'fail', //             0
      'esxi-8.mem-eager-zero': 'fail', //          0
      'esxi-8.password-max-days': 'fail', //       99999
      'esxi-8.cim-stopped': 'fail', //             sfcbd-watchdog running
      'esxi-8.audit-enabled': 'fail', //           false
      'esxi-8.audit-remote': 'fail', //            false
      'esxi-8.syslog-log-level': 'fail', //        error
      'esxi-8.esx-admins-group': 'fail', //        ESX Admins
      'esxi-8.exec-installed-only': 'fail', //     false
      'esxi-8.tls-profile': 'notapplicable', //    needs ≥ 8.0.3
      'esxi-8.bmc-network-disabled': 'fail', //    1
    });
    assert.deepEqual(a.counts, { pass: 19, fail: 24, error: 0, notapplicable: 1, notchecked: 0, waived: 0 });
  });

  it('scores 100 × 106 / 226 = 46.9 under the default model', () => {
    // Counted: 43 rules. Weights: 3 high (ssh-fips, vib-acceptance, tls-protocols) 30 + 1 low (tps-salting) 1
    // + 39 medium 195 = 226. Failed: 24 medium = 120. Passed: 226 − 120 = 106. 10600 / 226 = 46.902... → 46.9
    assert.deepEqual([a.score, a.maxScore, a.compliant], [46.9, 100, false]);
  });

  it('scores 19 of 43 flat-unweighted and 106 of 226 flat', () => {
    const unweighted = assessFixture('esxi-8-default-install.json', { model: 'flat-unweighted' });
    assert.deepEqual([unweighted.score, unweighted.maxScore], [19, 43]);
    const flat = assessFixture('esxi-8-default-install.json', { model: 'flat' });
    assert.deepEqual([flat.score, flat.maxScore], [106, 226]);
  });

  it('keeps the failing evidence a reviewer needs', () => {
    const byId = new Map(a.results.map((r) => [r.ruleId, r]));
    assert.deepEqual(byId.get('esxi-8.syslog-remote'), {
      ruleId: 'esxi-8.syslog-remote',
      title: 'The ESXi host must send its logs to a remote syslog server',
      severity: 'medium',
      result: 'fail',
      expected: 'Syslog.global.logHost exists',
      actual: '""',
      message: 'Syslog.global.logHost is empty',
    });
    assert.equal(byId.get('esxi-8.shell-timeout')?.message, '0 is below 1');
    assert.equal(byId.get('esxi-8.ntpd-startup')?.expected, 'service ntpd startupPolicy eq on');
  });
});

describe('linux-kvm-cis on a RHEL 9 KVM host', () => {
  const a = assessFixture('linux-kvm.json');

  it('fails forwarding, martian logging and four sshd settings, passes the rest', () => {
    assert.deepEqual(notPassing(a), {
      'linux-kvm.ip-forward': 'fail', //            1 (a NAT network)
      'linux-kvm.log-martians': 'fail', //          0
      'linux-kvm.sshd-password-auth': 'fail', //    yes
      'linux-kvm.sshd-max-auth-tries': 'fail', //   6 > 4
      'linux-kvm.sshd-login-grace-time': 'fail', // 120, outside 1..60
      'linux-kvm.sshd-ciphers': 'fail', //          aes256-cbc is not allowed
    });
    assert.deepEqual(a.counts, { pass: 26, fail: 6, error: 0, notapplicable: 0, notchecked: 0, waived: 0 });
  });

  it('passes the libvirt rules on a host without the plain TCP socket or a verify override', () => {
    const byId = new Map(a.results.map((r) => [r.ruleId, r]));
    assert.equal(byId.get('linux-kvm.libvirt-no-plain-tcp')?.message, 'service libvirtd-tcp.socket is not in the snapshot; the template accepts its absence');
    assert.equal(byId.get('linux-kvm.libvirt-tls-verify')?.result, 'pass');
  });

  it('scores 100 × 153 / 175 = 87.43, compliant at threshold 85', () => {
    // Weights: 20 medium 100 + 7 high 70 + 5 low 5 = 175. Failed: ip-forward 5, log-martians 1,
    // password-auth 5, max-auth-tries 5, login-grace-time 1, ciphers 5 = 22. 15300 / 175 = 87.428... → 87.43
    assert.deepEqual([a.score, a.maxScore, a.compliant], [87.43, 100, true]);
  });

  it('takes the documented forwarding exception as a pool waiver: 100 × 158 / 175 = 90.29', () => {
    const nat = Waiver.parse({
      ruleId: 'linux-kvm.ip-forward',
      scope: { pool: 'tcp-silver-ams2' },
      justification: 'libvirt NAT networks for the tenant build farm (design doc NET-212)',
      expiresAt: '2025-09-30T00:00:00Z',
      approvedBy: 'platform-security@corp.example.net',
    });
    const waived = assessFixture('linux-kvm.json', { waivers: [nat] });
    // 15300 + 500 = 15800 / 175 = 90.285... → 90.29
    assert.deepEqual([waived.score, waived.scoreWithoutWaivers, waived.counts.waived], [90.29, 87.43, 1]);
  });

  it('is not compliant once attestation says the host is untrusted', () => {
    const gated = assessFixture('linux-kvm.json', { trustStatus: 'untrusted' });
    assert.deepEqual([gated.score, gated.compliant, gated.trustGate.applied], [87.43, false, true]);
  });
});

describe('the event fixture of the contract', () => {
  it('scores the config.snapshot fixture against the ESXi template', () => {
    const snapshot = CanonicalEvent.parse(JSON.parse(readFileSync(new URL('../../src/kit/events/config.snapshot.json', import.meta.url), 'utf8')));
    assert.equal(snapshot.type, 'config.snapshot');
    if (snapshot.type !== 'config.snapshot') return;
    const [template] = applicableTemplates(snapshot, templates);
    const a = assess(snapshot, template!, { trustStatus: 'trusted', now: NOW });
    const byId = new Map(a.results.map((r) => [r.ruleId, r.result]));
    assert.equal(byId.get('esxi-8.ssh-stopped'), 'fail'); //            TSM-SSH running
    assert.equal(byId.get('esxi-8.shell-timeout'), 'fail'); //          0
    assert.equal(byId.get('esxi-8.account-lock-failures'), 'fail'); //  5
    assert.equal(byId.get('esxi-8.mob-disabled'), 'pass');
    assert.equal(byId.get('esxi-8.cim-stopped'), 'fail'); //            sfcbd-watchdog not reported
    assert.equal(a.compliant, false);
  });
});
