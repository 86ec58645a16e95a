import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvField, REPORT_CSV_COLUMNS, RULES_CSV_COLUMNS } from '../../src/reports/csv.js';
import { escapeHtml } from '../../src/reports/html.js';
import { bandOf, buildReport, hostDrillDown, reportJson, type ComplianceReport, type ReportRow } from '../../src/reports/report.js';
import { reportCsv, reportRulesCsv } from '../../src/reports/csv.js';
import { hostHtml, reportHtml } from '../../src/reports/html.js';
import { ASSESSED_AT, buildFleet, FORMULA_NAME, HOSTILE_HTML_NAME, REPORT_NOW, TEMPLATES, type Assessment } from '../fixtures/compliance/fleet.js';

const fleet = buildFleet();
const report = buildReport(fleet.latest, {}, REPORT_NOW, { templates: TEMPLATES });
const rowOf = (r: ComplianceReport, hostId: string) => r.rows.find((row) => row.hostId === hostId)!;

/** RFC 4180: records end in CRLF, fields are quoted when they hold "",", CR or LF, quotes doubled. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i += 1;
      } else {
        field += c;
        i += 1;
      }
    } else if (c === '"') {
      assert.equal(field, '', `a quote inside an unquoted field at ${i}`);
      quoted = true;
      i += 1;
    } else if (c === ',') {
      record.push(field);
      field = '';
      i += 1;
    } else if (c === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i += 2;
    } else {
      assert.notEqual(c, '\n', `a bare LF at ${i}: records end in CRLF`);
      assert.notEqual(c, '\r', `a bare CR at ${i}`);
      field += c;
      i += 1;
    }
  }
  assert.equal(quoted, false, 'an unterminated quoted field');
  assert.deepEqual([record, field], [[], ''], 'the last record ends in CRLF');
  return records;
}

function withoutBom(csv: string): string {
  assert.ok(csv.startsWith('\uFEFF'), 'a UTF-8 byte order mark first, for Excel');
  return csv.slice(1);
}

describe('the fleet summary', () => {
  it('counts hosts assessed, compliant, not compliant and trust-gated', () => {
    assert.deepEqual(
      { ...report.summary, waivers: undefined },
      { hosts: 5, compliant: 3, notCompliant: 2, trustGated: 1, assessments: 5, waivers: undefined },
    );
  });

  it('never counts the untrusted host compliant, though it scores 100', () => {
    const gated = rowOf(report, 'esx-fra1-13');
    assert.deepEqual([gated.percent, gated.band, gated.compliant, gated.status, gated.trustStatus], [100, '90-100', false, 'gated', 'untrusted']);
  });

  it('puts the assessments in score bands by percent of the maximum', () => {
    // 100, 100 (gated), 90.29 | 87.43 | — | 46.9
    assert.deepEqual(
      report.bands.map((b) => [b.band, b.assessments]),
      [
        ['90-100', 3],
        ['75-90', 1],
        ['50-75', 0],
        ['0-50', 1],
      ],
    );
    assert.deepEqual([bandOf(90), bandOf(89.99), bandOf(75), bandOf(50), bandOf(49.99), bandOf(0)], ['90-100', '75-90', '75-90', '50-75', '0-50', '0-50']);
  });

  it('averages each template over its hosts, with and without waivers', () => {
    assert.deepEqual(report.templates, [
      {
        templateId: 'esxi-8-stig',
        title: 'VMware vSphere 8.0 ESXi (DISA STIG)',
        versions: ['1.0.0'],
        hosts: 3,
        compliant: 1,
        notCompliant: 2,
        trustGated: 1,
        averagePercent: 82.3, // (100 + 46.9 + 100) / 3
        averagePercentWithoutWaivers: 82.3,
      },
      {
        templateId: 'linux-kvm-cis',
        title: 'Linux KVM hypervisor (CIS-style)',
        versions: ['1.0.0'],
        hosts: 2,
        compliant: 2,
        notCompliant: 0,
        trustGated: 0,
        averagePercent: 88.86, // (90.29 + 87.43) / 2
        averagePercentWithoutWaivers: 87.43, // (87.43 + 87.43) / 2
      },
    ]);
  });

  it('lists the rules failing on the most hosts first, then the most severe, then by id', () => {
    assert.deepEqual(
      report.worstRules.slice(0, 6).map((r) => [r.ruleId, r.severity, r.failingHosts]),
      [
        ['linux-kvm.sshd-ciphers', 'medium', 2],
        ['linux-kvm.sshd-max-auth-tries', 'medium', 2],
        ['linux-kvm.sshd-password-auth', 'medium', 2],
        ['linux-kvm.log-martians', 'low', 2],
        ['linux-kvm.sshd-login-grace-time', 'low', 2],
        ['esxi-8.account-lock-failures', 'medium', 1],
      ],
    );
    assert.equal(report.worstRules.length, 10, 'ten by default');
  });

  it('names the STIG and CIS references of a failing rule from its template', () => {
    const all = buildReport(fleet.latest, {}, REPORT_NOW, { templates: TEMPLATES, worstRules: Infinity });
    const lock = all.worstRules.find((r) => r.ruleId === 'esxi-8.account-lock-failures')!;
    assert.deepEqual(lock.references.slice(0, 2), [
      { type: 'stig', id: 'ESXI-80-000005' },
      { type: 'vuln', id: 'V-258728' },
    ]);
    const tries = all.worstRules.find((r) => r.ruleId === 'linux-kvm.sshd-max-auth-tries')!;
    assert.deepEqual(tries.references, [{ type: 'cis', id: '5.2.16', benchmark: 'CIS Red Hat Enterprise Linux 9 Benchmark v1.0.0' }]);
    // Without templates, no references (an assessment does not carry them), and nothing else changes.
    const bare = buildReport(fleet.latest, {}, REPORT_NOW);
    assert.deepEqual(bare.worstRules[0]!.references, []);
    assert.deepEqual(bare.rows, report.rows);
  });

  it('counts a waived failure apart from the failing hosts', () => {
    const all = buildReport(fleet.latest, {}, REPORT_NOW, { worstRules: Infinity });
    const forwarding = all.worstRules.find((r) => r.ruleId === 'linux-kvm.ip-forward')!;
    assert.deepEqual([forwarding.failingHosts, forwarding.failingHostIds, forwarding.waivedHosts, forwarding.assessedHosts], [1, ['kvm-ams2-04'], 1, 2]);
    assert.equal(all.worstRules.length, 24 + 6, 'every rule failing somewhere: 24 on the default ESXi, 6 on the KVM hosts');
  });

  it('says which waivers end soon and which have lapsed since the assessment', () => {
    assert.deepEqual(report.summary.waivers, { applied: 1, horizonDays: 30, expiringSoon: 1, lapsed: 0 });
    const later = buildReport(fleet.latest, {}, Date.UTC(2025, 9, 1), {});
    assert.deepEqual(later.summary.waivers, { applied: 1, horizonDays: 30, expiringSoon: 0, lapsed: 1 });
    const earlier = buildReport(fleet.latest, {}, ASSESSED_AT, {});
    assert.equal(earlier.summary.waivers.expiringSoon, 0);
  });
});

describe('the rows', () => {
  it('has one row per host × template, by host id', () => {
    assert.deepEqual(
      report.rows.map((r) => [r.hostId, r.templateId, r.percent, r.status]),
      [
        ['esx-fra1-11', 'esxi-8-stig', 100, 'compliant'],
        ['esx-fra1-12', 'esxi-8-stig', 46.9, 'noncompliant'],
        ['esx-fra1-13', 'esxi-8-stig', 100, 'gated'],
        ['kvm-ams2-03', 'linux-kvm-cis', 90.29, 'compliant'],
        ['kvm-ams2-04', 'linux-kvm-cis', 87.43, 'compliant'],
      ],
    );
  });

  it('says who, what template, how it scored and what fails', () => {
    const kvm = rowOf(report, 'kvm-ams2-03');
    const assessment = fleet.latest.find((a) => a.host.id === 'kvm-ams2-03')!;
    assert.deepEqual(kvm, {
      hostId: 'kvm-ams2-03',
      hostName: 'kvm-ams2-03.dc.example.net',
      pool: 'tcp-silver-ams2',
      templateId: 'linux-kvm-cis',
      templateVersion: '1.0.0',
      scoringModel: 'urn:xccdf:scoring:default',
      score: 90.29,
      maxScore: 100,
      percent: 90.29,
      scoreWithoutWaivers: 87.43,
      percentWithoutWaivers: 87.43,
      band: '90-100',
      compliant: true,
      status: 'compliant',
      trustStatus: 'trusted',
      trustGated: false,
      assessedAt: ASSESSED_AT + 180_000,
      counts: { pass: 26, fail: 6, error: 0, notapplicable: 0, notchecked: 0, waived: 1 },
      failingRuleIds: ['linux-kvm.log-martians', 'linux-kvm.sshd-password-auth', 'linux-kvm.sshd-max-auth-tries', 'linux-kvm.sshd-login-grace-time', 'linux-kvm.sshd-ciphers'],
      waivedRuleIds: ['linux-kvm.ip-forward'],
      eventId: assessment.id,
      snapshotEventId: assessment.payload.snapshotEventId,
    });
    assert.equal(rowOf(report, 'esx-fra1-12').failingRuleIds.length, 24);
  });

  it('takes the latest assessment of each host and template when given the whole history', () => {
    assert.ok(fleet.all.length > fleet.latest.length);
    const fromHistory = buildReport([...fleet.all].reverse(), {}, REPORT_NOW, { templates: TEMPLATES });
    assert.deepEqual(fromHistory, report);
  });

  it('filters by template, pool and time', () => {
    const kvm = buildReport(fleet.latest, { template: 'linux-kvm-cis' }, REPORT_NOW);
    assert.deepEqual(
      kvm.rows.map((r) => r.hostId),
      ['kvm-ams2-03', 'kvm-ams2-04'],
    );
    assert.deepEqual([kvm.summary.hosts, kvm.summary.compliant, kvm.templates.length, kvm.filters], [2, 2, 1, { template: 'linux-kvm-cis' }]);

    const gold = buildReport(fleet.latest, { pool: 'tcp-gold-fra1' }, REPORT_NOW);
    assert.deepEqual([gold.summary.hosts, gold.summary.compliant, gold.summary.trustGated], [3, 1, 1]);

    const recent = buildReport(fleet.all, { since: ASSESSED_AT + 120_000 }, REPORT_NOW);
    assert.deepEqual(
      recent.rows.map((r) => r.hostId),
      ['esx-fra1-13', 'kvm-ams2-03', 'kvm-ams2-04'],
    );
    const none = buildReport(fleet.latest, { pool: 'nowhere' }, REPORT_NOW);
    assert.deepEqual([none.summary.hosts, none.rows, none.worstRules, none.bands.every((b) => b.assessments === 0)], [0, [], [], true]);
  });

  it('is JSON that parses back to itself', () => {
    assert.deepEqual(JSON.parse(reportJson(report)), report);
  });
});

describe('a host drill-down', () => {
  const drill = hostDrillDown(fleet.history('kvm-ams2-03'), { templates: TEMPLATES, now: REPORT_NOW });
  const [kvm] = drill.templates;

  it('shows the host and each template it was assessed against', () => {
    assert.deepEqual(drill.host, { id: 'kvm-ams2-03', name: 'kvm-ams2-03.dc.example.net', ip: '10.60.2.3', pool: 'tcp-silver-ams2' });
    assert.deepEqual(
      drill.templates.map((t) => [t.templateId, t.percent, t.compliant]),
      [['linux-kvm-cis', 90.29, true]],
    );
  });

  it('keeps every rule with its result, expected and actual values', () => {
    assert.equal(kvm!.rules.length, 32);
    const grace = kvm!.rules.find((r) => r.ruleId === 'linux-kvm.sshd-login-grace-time')!;
    assert.deepEqual(
      { result: grace.result, expected: grace.expected, actual: grace.actual, references: grace.references },
      { result: 'fail', expected: 'sshd.logingracetime range 1..60', actual: '120', references: [{ type: 'cis', id: '5.2.19', benchmark: 'CIS Red Hat Enterprise Linux 9 Benchmark v1.0.0' }] },
    );
    assert.ok(grace.remediation !== undefined && grace.remediation.length > 0);
  });

  it('shows the waiver behind a waived failure: justification, expiry, approver', () => {
    const forwarding = kvm!.rules.find((r) => r.ruleId === 'linux-kvm.ip-forward')!;
    assert.equal(forwarding.result, 'fail');
    assert.deepEqual(forwarding.waiver, {
      justification: 'libvirt NAT networks for the tenant build farm (design doc NET-212) <b>approved</b>',
      expiresAt: Date.UTC(2025, 8, 30),
      approvedBy: 'platform-security@corp.example.net',
    });
    assert.equal(forwarding.waiverLapsed, false);
    const lapsed = hostDrillDown(fleet.history('kvm-ams2-03'), { now: Date.UTC(2025, 9, 1) });
    assert.equal(lapsed.templates[0]!.rules.find((r) => r.ruleId === 'linux-kvm.ip-forward')!.waiverLapsed, true);
  });

  it('gives the score over time, oldest first', () => {
    assert.deepEqual(
      kvm!.history.map((p) => [p.time, p.score, p.maxScore, p.compliant]),
      [
        [ASSESSED_AT - 7 * 86_400_000 + 60_000, 87.43, 100, true],
        [ASSESSED_AT + 180_000, 90.29, 100, true],
      ],
    );
    const esx = hostDrillDown(fleet.history('esx-fra1-12')).templates[0]!;
    assert.deepEqual(
      esx.history.map((p) => [p.percent, p.compliant]),
      [
        [100, true],
        [46.9, false],
      ],
    );
    assert.equal(esx.drift?.newlyFailing.length, 24);
  });

  it('reads what the compliance view keeps: older assessments without their rules, the latest twice', () => {
    const history = fleet.history('kvm-ams2-03');
    const viewShaped: Assessment[] = [...history.map((a) => ({ ...a, payload: { ...a.payload, results: [] } })), history[history.length - 1]!];
    assert.deepEqual(hostDrillDown(viewShaped, { templates: TEMPLATES, now: REPORT_NOW }), drill);
  });

  it('refuses no assessments, or several hosts', () => {
    assert.throws(() => hostDrillDown([]), RangeError);
    assert.throws(() => hostDrillDown(fleet.latest), /several hosts/);
  });
});

describe('the CSV report', () => {
  const csv = reportCsv(report);
  const [header, ...records] = parseCsv(withoutBom(csv));

  it('starts with a byte order mark and a header row, and ends each record in CRLF', () => {
    assert.ok(csv.startsWith('\uFEFFhost_id,host_name,pool,template_id,'));
    assert.deepEqual(header, [...REPORT_CSV_COLUMNS]);
    assert.equal(csv.split('\r\n').length, report.rows.length + 2);
  });

  it('parses back to one record per host × template with the report values', () => {
    const expected = (r: ReportRow) => [
      r.hostId,
      r.hostName === FORMULA_NAME ? `'${FORMULA_NAME}` : (r.hostName ?? ''),
      r.pool ?? '',
      r.templateId,
      r.templateVersion,
      r.scoringModel,
      String(r.score),
      String(r.maxScore),
      String(r.percent),
      String(r.scoreWithoutWaivers),
      String(r.percentWithoutWaivers),
      r.band,
      r.status,
      String(r.compliant),
      r.trustStatus,
      String(r.trustGated),
      new Date(r.assessedAt).toISOString(),
      ...[r.counts.pass, r.counts.fail, r.counts.error, r.counts.notapplicable, r.counts.notchecked, r.counts.waived].map(String),
      r.failingRuleIds.join(' '),
      r.waivedRuleIds.join(' '),
      r.eventId,
    ];
    assert.deepEqual(records, report.rows.map(expected));
  });

  it('keeps a hostile host name as one text cell, quotes doubled', () => {
    const row = records.find((r) => r[0] === 'esx-fra1-13')!;
    assert.equal(row[1], HOSTILE_HTML_NAME);
    assert.ok(csv.includes(`"<script>alert(""owned"")</script>`));
  });

  it('prefixes a cell a spreadsheet would read as a formula with an apostrophe', () => {
    const row = records.find((r) => r[0] === 'kvm-ams2-04')!;
    assert.equal(row[1], `'${FORMULA_NAME}`);
    for (const start of ['=', '+', '-', '@', '\t', '\r']) assert.ok(csvField(`${start}1+1`).replace(/^"/, '').startsWith(`'${start}`), JSON.stringify(start));
    assert.deepEqual([csvField('a=b'), csvField(0), csvField(-1), csvField(true), csvField(undefined)], ['a=b', '0', '-1', 'true', '']);
  });

  it('has a header row only when no host is in the report', () => {
    assert.equal(reportCsv(buildReport([], {}, REPORT_NOW)), `\uFEFF${REPORT_CSV_COLUMNS.join(',')}\r\n`);
  });
});

describe('the per-rule CSV', () => {
  const drills = [hostDrillDown(fleet.history('kvm-ams2-03'), { templates: TEMPLATES }), hostDrillDown(fleet.history('kvm-ams2-04'), { templates: TEMPLATES })];
  const [header, ...records] = parseCsv(withoutBom(reportRulesCsv(drills)));
  const column = (name: (typeof RULES_CSV_COLUMNS)[number]) => header!.indexOf(name);

  it('has one record per rule of each host, with the evidence', () => {
    assert.deepEqual(header, [...RULES_CSV_COLUMNS]);
    assert.equal(records.length, 64);
    const grace = records.find((r) => r[0] === 'kvm-ams2-03' && r[column('rule_id')] === 'linux-kvm.sshd-login-grace-time')!;
    assert.deepEqual(
      ['result', 'expected', 'actual', 'message', 'references'].map((c) => grace[column(c as (typeof RULES_CSV_COLUMNS)[number])]),
      ['fail', 'sshd.logingracetime range 1..60', '120', '120 is above 60', 'CIS 5.2.19 (CIS Red Hat Enterprise Linux 9 Benchmark v1.0.0)'],
    );
  });

  it('gives the waiver in its own columns', () => {
    const forwarding = records.find((r) => r[0] === 'kvm-ams2-03' && r[column('rule_id')] === 'linux-kvm.ip-forward')!;
    assert.deepEqual(
      [forwarding[column('waived')], forwarding[column('waiver_expires_at')], forwarding[column('waiver_approved_by')]],
      ['true', '2025-09-30T00:00:00.000Z', 'platform-security@corp.example.net'],
    );
    const unwaived = records.find((r) => r[0] === 'kvm-ams2-04' && r[column('rule_id')] === 'linux-kvm.ip-forward')!;
    assert.deepEqual([unwaived[column('waived')], unwaived[column('waiver_justification')]], ['false', '']);
    assert.equal(unwaived[1], `'${FORMULA_NAME}`);
  });
});

describe('the HTML report', () => {
  const html = reportHtml(report, { hostHref: (id) => `/v1/compliance/hosts/${encodeURIComponent(id)}?format=html` });

  it('shows hostile host names as text', () => {
    assert.ok(html.includes(escapeHtml(HOSTILE_HTML_NAME)));
    assert.ok(html.includes('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#39;quoted&#39;'));
    assert.doesNotMatch(html, /<script|<img|onerror=alert\(1\)>/i);
  });

  it('has a row for every host × template, non-compliant ones marked', () => {
    for (const row of report.rows) {
      const tr = new RegExp(`<tr class="${row.status}" data-host-id="${row.hostId}" data-template="${row.templateId}" data-status="${row.status}">[\\s\\S]*?</tr>`).exec(html);
      assert.ok(tr, `a row for ${row.hostId}`);
      assert.match(tr[0], row.compliant ? /✓<\/span> Compliant/ : /✗<\/span> Not compliant/);
      if (row.trustGated) assert.match(tr[0], /untrusted: trust-gated/);
    }
    assert.match(html, /href="\/v1\/compliance\/hosts\/esx-fra1-12\?format=html"/);
  });

  it('puts the summary first, then the hosts, then the most failed rules', () => {
    const at = (text: string) => html.indexOf(text);
    assert.ok(at('data-metric="hosts"') < at('<h2>Hosts</h2>') && at('<h2>Hosts</h2>') < at('<h2>Most failed rules</h2>'));
    assert.match(html, /data-metric="compliant"><div class="label">Compliant<\/div><div class="value">3</);
    assert.match(html, /data-metric="trust-gated"><div class="label">Trust-gated<\/div><div class="value">1</);
    assert.match(html, /<td class="num">82.3&nbsp;%<\/td>/);
    assert.match(html, /<tr data-rule-id="linux-kvm.sshd-max-auth-tries">[\s\S]*?CIS 5.2.16/);
  });

  it('is self-contained and prints with repeated table headers and whole rows', () => {
    assert.doesNotMatch(html, /<link|<script|<img|<iframe|<object|@import|url\(/i);
    assert.doesNotMatch(html, /\s(?:src|href)="(?:[a-z]+:)?\/\//i, 'no external URL');
    assert.match(html, /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'/);
    assert.match(html, /@media print/);
    assert.match(html, /thead \{ display: table-header-group; \}/);
    assert.match(html, /tr \{ break-inside: avoid; page-break-inside: avoid; \}/);
    assert.match(html, /@page \{ margin: 14mm 12mm; \}/);
  });
});

describe('the HTML drill-down', () => {
  it('shows every rule with its evidence and the waiver, escaped', () => {
    const drill = hostDrillDown(fleet.history('kvm-ams2-03'), { templates: TEMPLATES, now: REPORT_NOW });
    const html = hostHtml(drill, { generatedAt: REPORT_NOW });
    assert.equal(html.match(/<tr class="[a-z]+" data-rule-id=/g)?.length, 32);
    assert.ok(html.includes('design doc NET-212) &lt;b&gt;approved&lt;/b&gt;'));
    assert.match(html, /data-rule-id="linux-kvm.sshd-login-grace-time" data-result="fail">[\s\S]*?sshd.logingracetime range 1..60[\s\S]*?>120</);
    // Failing rules come first: the first rule row is a failure.
    assert.match(html, /<tr class="noncompliant" data-rule-id="linux-kvm.log-martians"/);
    assert.ok(html.indexOf('data-result="fail"') < html.indexOf('data-result="pass"'));
  });

  it('escapes a hostile host name in the title and heading', () => {
    const html = hostHtml(hostDrillDown(fleet.history('esx-fra1-13')));
    assert.doesNotMatch(html, /<script|<img/i);
    assert.ok(html.includes(`<title>Host compliance: ${escapeHtml(HOSTILE_HTML_NAME)}</title>`));
    assert.match(html, /✗<\/span> Not compliant<\/span><\/div><div class="sub"><strong class="gate">untrusted when assessed: trust-gated/);
  });
});
