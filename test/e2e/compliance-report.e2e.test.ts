/**
 * The HTML compliance report in a real browser: Debian's headless Chromium (installed with
 * apt-get when missing, see scripts/ensure-chromium.ts), driven by playwright-core. It checks
 * what a person reading the report sees, on screen and printed.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildReport, hostDrillDown } from '../../src/reports/report.js';
import { hostHtml, reportHtml } from '../../src/reports/html.js';
import { ensureChromium } from '../../scripts/ensure-chromium.js';
import { buildFleet, FORMULA_NAME, HOSTILE_HTML_NAME, REPORT_NOW, TEMPLATES } from '../fixtures/compliance/fleet.js';

const fleet = buildFleet();
const report = buildReport(fleet.latest, {}, REPORT_NOW, { templates: TEMPLATES });
const drillDown = hostDrillDown(fleet.history('kvm-ams2-03'), { templates: TEMPLATES, now: REPORT_NOW });

const dir = mkdtempSync(join(tmpdir(), 'trustwire-e2e-report-'));
/** Screenshots and PDFs stay after the run, for a person to look at. */
const artifacts = join(tmpdir(), 'trustwire-e2e-artifacts');
mkdirSync(artifacts, { recursive: true });

let context: BrowserContext;
let page: Page;
const dialogs: string[] = [];
const pageErrors: string[] = [];

async function open(html: string, name: string): Promise<void> {
  const file = join(dir, name);
  writeFileSync(file, html);
  await page.emulateMedia({ media: 'screen' });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
}

before(
  async () => {
    const executablePath = ensureChromium((line) => process.stderr.write(`[chromium] ${line}\n`));
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-component-update', '--no-first-run'],
      viewport: { width: 1280, height: 900 },
      offline: true,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  },
  { timeout: 15 * 60_000 }, // a first run installs Chromium
);

after(async () => {
  await context?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the compliance report in Chromium', () => {
  before(() => open(reportHtml(report), 'report.html'));

  it('shows the summary numbers', async () => {
    const value = (metric: string) => page.locator(`[data-metric="${metric}"] .value`).innerText();
    assert.deepEqual(
      [await value('hosts'), await value('compliant'), await value('not-compliant'), await value('trust-gated')],
      ['5', '3', '2', '1'],
    );
    const templates = await page.locator('table.templates tbody tr').allInnerTexts();
    assert.match(templates[0]!, /esxi-8-stig[\s\S]*\b3\s+1\s+2\s+82\.3\s%/);
    assert.match(templates[1]!, /linux-kvm-cis[\s\S]*\b2\s+2\s+0\s+88\.86\s%\s+87\.43\s%/);
  });

  it('has a row per host, each naming its host', async () => {
    const rows = page.locator('table.hosts tbody tr');
    assert.equal(await rows.count(), report.rows.length);
    for (const row of report.rows) {
      const text = await page.locator(`table.hosts tr[data-host-id="${row.hostId}"]`).innerText();
      assert.ok(text.includes(row.hostName!), `${row.hostId}: ${text}`);
    }
  });

  it('marks a non-compliant host in words and in red', async () => {
    const status = page.locator('tr[data-host-id="esx-fra1-12"] .badge');
    assert.equal((await status.innerText()).trim(), '✗ Not compliant');
    assert.equal(await status.evaluate((el) => getComputedStyle(el).color), 'rgb(180, 35, 24)');
    const good = page.locator('tr[data-host-id="esx-fra1-11"] .badge');
    assert.equal((await good.innerText()).trim(), '✓ Compliant');
    const gated = page.locator('tr[data-host-id="esx-fra1-13"] td:nth-child(5)');
    assert.match(await gated.innerText(), /^✗ Not compliant\s+untrusted: trust-gated$/);
  });

  it('shows hostile host names as text and runs nothing', async () => {
    const cell = page.locator('tr[data-host-id="esx-fra1-13"] td').first();
    assert.ok((await cell.innerText()).includes(HOSTILE_HTML_NAME));
    assert.ok((await page.locator('tr[data-host-id="kvm-ams2-04"] td').first().innerText()).includes(FORMULA_NAME));
    assert.equal(await page.locator('script, img, iframe').count(), 0);
    assert.deepEqual([dialogs, pageErrors], [[], []]);
    assert.equal(await page.title(), 'Compliance report');
  });

  it('lists the most failed rules with their references', async () => {
    const first = await page.locator('table.rules tbody tr').first().innerText();
    assert.match(first, /linux-kvm\.sshd-ciphers[\s\S]*medium[\s\S]*2 of 2/);
    assert.match(await page.locator('tr[data-rule-id="esxi-8.account-lock-failures"]').innerText(), /ESXI-80-000005/);
  });

  it('saves a screenshot', async () => {
    const path = join(artifacts, 'compliance-report.png');
    await page.screenshot({ path, fullPage: true });
    assert.ok(statSync(path).size > 10_000);
  });

  it('prints: the table stays, headers repeat, no backgrounds, a PDF of at least one page', async () => {
    await page.emulateMedia({ media: 'print' });
    const hosts = page.locator('table.hosts');
    assert.ok(await hosts.isVisible());
    assert.equal(await hosts.locator('tbody tr').count(), report.rows.length);
    assert.equal(await hosts.locator('thead').evaluate((el) => getComputedStyle(el).display), 'table-header-group');
    assert.equal(await hosts.locator('tbody tr').first().evaluate((el) => getComputedStyle(el).breakInside), 'avoid');
    assert.equal(await page.locator('.card').first().evaluate((el) => getComputedStyle(el).backgroundColor), 'rgba(0, 0, 0, 0)');
    for (const format of ['A4', 'Letter'] as const) {
      const pdf = await page.pdf({ format, preferCSSPageSize: true });
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      const pages = pdf.toString('latin1').match(/\/Type\s*\/Page(?!s)/g)?.length ?? 0;
      assert.ok(pages >= 1, `${format}: ${pages} pages`);
      writeFileSync(join(artifacts, `compliance-report-${format}.pdf`), pdf);
    }
  });
});

describe('a host drill-down in Chromium', () => {
  before(() => open(hostHtml(drillDown, { generatedAt: REPORT_NOW }), 'host.html'));

  it('shows every rule with its expected and actual values, failures first', async () => {
    const rows = page.locator('table.evidence-table tbody tr');
    assert.equal(await rows.count(), 32);
    assert.equal(await rows.first().getAttribute('data-result'), 'fail');
    const grace = await page.locator('tr[data-rule-id="linux-kvm.sshd-login-grace-time"]').innerText();
    assert.match(grace, /fail[\s\S]*sshd\.logingracetime range 1\.\.60[\s\S]*\b120\b[\s\S]*120 is above 60/);
  });

  it('shows the waiver as its approver wrote it', async () => {
    const waiver = await page.locator('tr[data-rule-id="linux-kvm.ip-forward"] .waiver').innerText();
    assert.match(waiver, /design doc NET-212\) <b>approved<\/b>/);
    assert.match(waiver, /approved by platform-security@corp\.example\.net · until 2025-09-30 00:00 UTC/);
  });

  it('shows the score over time', async () => {
    assert.equal(await page.locator('svg.trend circle').count(), 2);
    assert.deepEqual(await page.locator('table.history tbody tr td:nth-child(2)').allInnerTexts(), ['87.43\u00a0%', '90.29\u00a0%']);
    const path = join(artifacts, 'compliance-host.png');
    await page.screenshot({ path, fullPage: true });
    assert.deepEqual([dialogs, pageErrors], [[], []]);
  });
});
