/**
 * The trust dashboard in a real browser: Debian's headless Chromium (scripts/ensure-chromium.ts)
 * driven by playwright-core, against the whole service on the real broker. A pool's morning is
 * played over HTTP ingest; then a host turns untrusted and an admin is denied while the page is
 * open, and the page must show it without a reload. It checks what an operator sees and what a
 * keyboard and screen-reader user can reach. Screenshots are kept under
 * `<tmpdir>/trustwire-e2e-artifacts/dashboard-*.png`.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { apiToken } from '../../src/api/auth.js';
import { DASHBOARD_CSP, DASHBOARD_FILES } from '../../src/api/dashboard.js';
import { Secret } from '../../src/config/secret.js';
import { silentLogger } from '../../src/log.js';
import { startService, type RunningService } from '../../src/service.js';
import { ensureChromium } from '../../scripts/ensure-chromium.js';
import { eventually } from '../helpers/eventually.js';
import { ingestFixture, readFixture } from '../helpers/fixtures.js';
import { dropTopics, testConfig } from '../helpers/kafka.js';

const READ = 'dashboard-reader-5e1f';
const INGEST = 'collector-only-9a0c';
const HOSTILE = '<img src=x onerror=alert(document.domain)>';
const POOL_A = 'tcp-gold-fra1';
const POOL_B = 'tcp-silver-ams2';
const PCR0 = { name: 'PcrValueMismatchSHA256', description: 'PCR 0 does not match the platform flavor', pcrIndex: 0, pcrBank: 'SHA256', expected: 'a1'.repeat(32), actual: 'b2'.repeat(32) };

const config = testConfig();
config.compliance.waivers = [
  { ruleId: 'esxi-8.password-history', scope: { hostId: 'esx-01' }, justification: 'legacy vault integration, tracked in CHG-5120', expiresAt: Date.UTC(2099, 0, 1), approvedBy: 'ciso@example.net' },
];
const artifacts = join(tmpdir(), 'trustwire-e2e-artifacts');
mkdirSync(artifacts, { recursive: true });

let service: RunningService;
let base: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const dialogs: string[] = [];
const pageErrors: string[] = [];
/** What the browser refused under the Content-Security-Policy: nothing, or the page relies on what it forbids. */
const refused: string[] = [];

// ---- the scenario, over HTTP ingest -----------------------------------------------------------

let clock = Date.now() - 20 * 60_000;
async function post(event: Record<string, unknown>): Promise<string> {
  clock = Math.max(clock + 1000, Date.now() - 20 * 60_000);
  const response = await fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${INGEST}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...event, time: clock }),
  });
  assert.equal(response.status, 202, await response.clone().text());
  return ((await response.json()) as { ids: string[] }).ids[0]!;
}

const attestation = (id: string, name: string, pool: string, status: 'trusted' | 'untrusted', faults: object[] = []) => {
  const fixture = ingestFixture('trust.change') as any;
  return {
    ...fixture,
    host: { id, name, pool },
    payload: { ...fixture.payload, previousStatus: undefined, status, assetTags: { country: 'DE', site: 'FRA1', classification: 'pci' }, flavors: [{ kind: 'PLATFORM', trusted: faults.length === 0, faults }] },
  };
};
/** Reporters name the host as they know it: id, name and pool (the feed's pool filter reads them). */
const hostRef = (id: string, pool: string) => ({ id, name: `${id}.dc.example.net`, pool });
const placement = (hostId: string, pool: string, vm: { id: string; name: string; labels: string[] }) => {
  const fixture = ingestFixture('policy.decision') as any;
  return {
    ...fixture,
    host: hostRef(hostId, pool),
    payload: { ...fixture.payload, decisionId: `dec-${vm.id}`, action: 'vm.place', decision: 'permit', resource: { type: 'vm', ...vm, requiredTags: {} }, targetHost: { id: hostId } },
  };
};
const adminAction = (hostId: string, pool: string, user: string, outcome: 'success' | 'denied') => {
  const fixture = ingestFixture('admin.action') as any;
  const error = outcome === 'denied' ? { error: `denied by policy ChangeWindow-Prod: ${user} has no change window for ${hostId}` } : {};
  const { error: _error, ...payload } = fixture.payload;
  return { ...fixture, host: hostRef(hostId, pool), payload: { ...payload, user: { id: user, name: user }, operation: 'host.enterMaintenanceMode', target: { type: 'host', id: hostId }, outcome, ...error } };
};
const snapshot = (name: string, hostId: string, pool: string) => {
  const { id: _id, ingestTime: _t, enrichment: _e, ...event } = JSON.parse(readFixture(`compliance/${name}.json`));
  return { ...event, host: { id: hostId, name: `${hostId}.dc.example.net`, pool } };
};

async function api(path: string): Promise<any> {
  const response = await fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${READ}` } });
  assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
  return response.json();
}

/** Morning: four hosts in two pools attest trusted, VMs are placed, an admin works, two hosts are assessed. */
async function playMorning(): Promise<void> {
  await post(attestation('esx-01', 'esx-01.dc.example.net', POOL_A, 'trusted'));
  await post(attestation('esx-02', 'esx-02.dc.example.net', POOL_A, 'trusted'));
  await post(attestation('kvm-01', 'kvm-01.dc.example.net', POOL_B, 'trusted'));
  await post(attestation('kvm-02', HOSTILE, POOL_B, 'trusted'));
  await post(placement('esx-01', POOL_A, { id: 'vm-ledger', name: 'fin-ledger-db-02', labels: ['sensitive', 'pci'] }));
  await post(placement('kvm-01', POOL_B, { id: 'vm-web', name: 'web-frontend-01', labels: [] }));
  await post(adminAction('esx-02', POOL_A, 'jdoe', 'success'));
  await post(snapshot('esxi-8-default-install', 'esx-01', POOL_A));
  await post(snapshot('esxi-8-hardened', 'esx-02', POOL_A));
  await eventually(
    async () => {
      const overview = await api('/v1/overview');
      return overview.hosts.total === 4 && overview.sensitiveWorkloads.length === 1 && overview.compliance[0]?.hosts === 2 && (await api('/v1/activity')).items.length === 3;
    },
    'the morning in the overview',
    30_000,
    200,
  );
}

// ---- the browser ----------------------------------------------------------------------------

/** The service serves the page itself, at its own origin, beside the API. */
async function dashboardBase(): Promise<string> {
  const shell = await fetch(`${service.url}/`);
  assert.equal(shell.status, 200, 'the service serves the dashboard at /');
  await shell.body?.cancel();
  return service.url;
}

async function newPage(): Promise<Page> {
  const tab = await context.newPage();
  tab.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  tab.on('pageerror', (error) => pageErrors.push(error.message));
  tab.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) refused.push(message.text());
  });
  return tab;
}

async function signIn(tab: Page, token: string): Promise<void> {
  await tab.getByLabel('API token with the read scope').fill(token);
  await tab.keyboard.press('Enter');
}

const card = (tab: Page, metric: string) => tab.locator(`[data-metric="${metric}"] .card-value`);

before(
  async () => {
    service = await startService(config, {
      logger: silentLogger,
      tokens: [apiToken('dashboard', ['read'], { token: new Secret(READ, 'inline') }), apiToken('collector', ['ingest'], { token: new Secret(INGEST, 'inline') })],
    });
    base = await dashboardBase();
    const executablePath = ensureChromium((line) => process.stderr.write(`[chromium] ${line}\n`));
    browser = await chromium.launch({ executablePath, args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // tsx names the functions of a callback given to page.evaluate with a `__name` helper the page lacks.
    await context.addInitScript('window.__name = (fn) => fn');
    page = await newPage();
    await playMorning();
  },
  { timeout: 15 * 60_000 }, // a first run installs Chromium
);

after(async () => {
  await context?.close();
  await browser?.close();
  await service?.close();
  await dropTopics(config);
});

describe('the trust dashboard in Chromium', () => {
  it('serves the page shell without a token, with a Content-Security-Policy, and nothing outside its files', async () => {
    const shell = await fetch(`${base}/`);
    assert.equal(shell.status, 200);
    assert.equal(shell.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(shell.headers.get('content-security-policy'), DASHBOARD_CSP);
    assert.equal(shell.headers.get('cache-control'), 'no-cache');
    const html = await shell.text();
    assert.doesNotMatch(html, /<script>|<script(?![^>]*\bsrc="\/dashboard\/)|<style|\bstyle="|https?:\/\//, 'no inline script or style, no external asset');
    const script = await fetch(`${base}/dashboard/app.js`);
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
    const revalidated = await fetch(`${base}/dashboard/app.js`, { headers: { 'if-none-match': script.headers.get('etag')! } });
    assert.equal(revalidated.status, 304);
    assert.equal((await fetch(`${base}/dashboard/style.css`)).headers.get('content-type'), 'text/css; charset=utf-8');
    for (const path of ['/dashboard/..%2Fapi%2Fdashboard.ts', '/dashboard/%2e%2e%2f%2e%2e%2fpackage.json', '/dashboard/nothing.js', '/dashboard/index.html']) {
      assert.notEqual((await fetch(`${base}${path}`)).status, 200, path);
    }
    assert.equal((await fetch(`${base}/v1/overview`)).status, 401, 'the data needs the token');
    // A module added to src/dashboard but not to the list would be a 404 in the browser.
    assert.deepEqual(readdirSync(new URL('../../src/dashboard/', import.meta.url)).sort(), [...DASHBOARD_FILES].sort());
  });

  it('asks for a token, and says why when one without the read scope is given', async () => {
    await page.goto(`${base}/`);
    const input = page.getByLabel('API token with the read scope');
    assert.equal(await input.getAttribute('type'), 'password');
    assert.match(await page.locator('#login').innerText(), /\.trustwire\/dev-token/);
    assert.ok(await input.evaluate((el) => el === document.activeElement), 'the token field has the focus');
    await signIn(page, INGEST);
    await page.locator('#login-reason').filter({ hasText: 'read scope' }).waitFor();
    assert.ok(await page.locator('#login').isVisible());
    assert.ok(await page.locator('#app').isHidden());
    await page.screenshot({ path: join(artifacts, 'dashboard-login.png'), fullPage: true });
    assert.ok(statSync(join(artifacts, 'dashboard-login.png')).size > 10_000);
  });

  it('shows the fleet: hosts by trust and pool, sensitive workloads, alerts, compliance bands, connectors', async () => {
    await signIn(page, READ);
    await page.locator('#connection[data-state="live"]').waitFor();
    await page.locator('#hosts tbody tr[data-host-id]').nth(3).waitFor();
    const overview = await api('/v1/overview');
    assert.deepEqual(
      await Promise.all(['hosts', 'trusted', 'untrusted', 'unknown', 'open-alerts', 'sensitive-at-risk'].map((metric) => card(page, metric).innerText())),
      ['4', '4', '0', '0', String(overview.alerts.open), '0'],
    );
    const pools = await page.locator('#pools table.visually-hidden tbody tr').allInnerTexts();
    assert.deepEqual(pools.map((row) => row.split('\t')), [[POOL_A, '2', '0', '0', '2'], [POOL_B, '2', '0', '0', '2']]);
    assert.equal(await page.locator('#hosts tbody tr[data-host-id]').count(), 4);
    const sensitive = await page.locator('#sensitive tr[data-vm-id="vm-ledger"]').innerText();
    assert.match(sensitive, /fin-ledger-db-02[\s\S]*sensitive[\s\S]*esx-01\.dc\.example\.net[\s\S]*tcp-gold-fra1[\s\S]*trusted/);
    const bands = await page.locator('#compliance table.visually-hidden tbody tr').allInnerTexts();
    assert.deepEqual(bands.map((row) => row.split('\t')), [['esxi-8-stig', '1', '0', '0', '1', '2']]);
    assert.match(await page.locator('#compliance tr[data-template="esxi-8-stig"]').innerText(), /esxi-8-stig\s+2\s+1\s+1/);
    assert.equal(await page.locator('#activity tbody tr[data-id]').count(), 3);
    assert.match(await page.locator('#alerts').innerText(), /compliance\.below-threshold/);
    assert.match(await page.locator('#connectors').innerText(), /No connector is configured/);
  });

  it('shows a hostile host name as text and runs nothing of it', async () => {
    const row = page.locator('#hosts tr[data-host-id="kvm-02"]');
    assert.ok((await row.innerText()).includes(HOSTILE));
    assert.equal(await page.locator('#app img').count(), 0);
    assert.deepEqual(dialogs, []);
  });

  it('shows a host turning untrusted without a reload, and says so in the live region', async () => {
    await page.evaluate(() => ((window as any).sameDocument = true));
    await post(attestation('esx-01', 'esx-01.dc.example.net', POOL_A, 'untrusted', [PCR0]));
    await card(page, 'untrusted').filter({ hasText: /^1$/ }).waitFor({ timeout: 20_000 });
    await page.locator('#hosts tr[data-host-id="esx-01"][data-trust="untrusted"]').waitFor();
    assert.equal(await card(page, 'trusted').innerText(), '3');
    await card(page, 'sensitive-at-risk').filter({ hasText: /^1$/ }).waitFor();
    await page.locator('#sensitive tr[data-vm-id="vm-ledger"] [data-trust="untrusted"]').waitFor();
    const live = page.locator('#live-log');
    assert.equal(await live.getAttribute('aria-live'), 'polite');
    await live.filter({ hasText: /esx-01\.dc\.example\.net is now untrusted \(1 attestation fault\)/ }).waitFor();
    await page.locator('#alerts tr[data-rule="trust.sensitive-workload-on-untrusted-host"]').waitFor({ timeout: 20_000 });
    assert.equal(await page.evaluate(() => (window as any).sameDocument), true, 'the page was not reloaded');
  });

  it('highlights a denied admin action in the feed as it arrives', async () => {
    await post(adminAction('esx-02', POOL_A, 'mallory', 'denied'));
    const row = page.locator('#activity tr[data-outcome="denied"]');
    await row.waitFor({ timeout: 20_000 });
    assert.equal(await row.getAttribute('data-highlight'), 'true');
    assert.match((await row.getAttribute('class')) ?? '', /\bhighlight\b/);
    assert.match(await row.innerText(), /✗ denied[\s\S]*mallory[\s\S]*host\.enterMaintenanceMode[\s\S]*esx-02[\s\S]*ChangeWindow-Prod/);
    // Once the "new" flash is over, the row keeps its highlight.
    await row.evaluate((el) => el.getAnimations().forEach((animation) => animation.finish()));
    assert.equal(await row.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(253, 236, 234)');
    const success = page.locator('#activity tr[data-outcome="success"]');
    assert.equal(await success.getAttribute('data-highlight'), 'false');
    await page.locator('#live-log').filter({ hasText: /denied — mallory: host\.enterMaintenanceMode on esx-02/ }).waitFor();
    assert.equal(await page.evaluate(() => (window as any).sameDocument), true);
    await page.screenshot({ path: join(artifacts, 'dashboard-overview.png'), fullPage: true });
    assert.ok(statSync(join(artifacts, 'dashboard-overview.png')).size > 10_000);
  });

  it('opens a host by keyboard; its drill-down shows the faults, the sensitive VM at risk, compliance evidence and waivers', async () => {
    await page.locator('#hosts a.host-link[data-host-id="esx-01"]').focus();
    await page.keyboard.press('Enter');
    await page.locator('#host:not([hidden]) [data-section="trust"]').waitFor();
    assert.match(page.url(), /#open=esx-01$/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'host-title', 'the focus moves to the host heading');
    assert.equal(await page.locator('#host-title').innerText(), 'Host esx-01.dc.example.net');

    const fault = await page.locator('[data-section="trust"] table.faults tr[data-fault="PcrValueMismatchSHA256"]').innerText();
    assert.match(fault, /PLATFORM[\s\S]*PcrValueMismatchSHA256[\s\S]*PCR 0 \(SHA256\)/);
    assert.ok(fault.includes(PCR0.expected) && fault.includes(PCR0.actual), fault);
    const history = page.locator('[data-section="trust"] table.trust-history tbody tr');
    assert.equal(await history.count(), 2);
    assert.match(await history.first().innerText(), /trusted[\s\S]*untrusted[\s\S]*intel-secl-hvs[\s\S]*PLATFORM · PcrValueMismatchSHA256 · PCR 0 \(SHA256\)/);
    assert.equal(await page.locator('[data-section="trust"] svg[role="img"] > title').textContent(), 'Trust of esx-01.dc.example.net over time');

    assert.match(await page.locator('[data-section="place"]').innerText(), /country\s+DE[\s\S]*classification\s+pci/);
    const vm = page.locator('[data-section="workloads"] tr[data-vm-id="vm-ledger"]');
    assert.equal(await vm.getAttribute('data-sensitive'), 'true');
    assert.match(await vm.innerText(), /fin-ledger-db-02[\s\S]*sensitive, on a host that is not trusted[\s\S]*sensitive[\s\S]*pci/);

    const template = page.locator('[data-section="compliance"] section[data-template="esxi-8-stig"]');
    // 46.9 % as installed; the waiver of password-history lifts it to 49.12 %, still below the threshold.
    assert.match(await template.locator('dl').innerText(), /Score\s+49\.12 % \(49\.12 of 100\)\s+Without waivers\s+46\.9 %\s+Status\s+✗ not compliant/);
    const rules = template.locator('table.evidence tbody tr');
    assert.ok((await rules.count()) > 20);
    assert.equal(await rules.first().getAttribute('data-result'), 'fail');
    assert.match(await template.locator('tr[data-rule-id="esxi-8.account-lock-failures"]').innerText(), /fail[\s\S]*Security\.AccountLockFailures[\s\S]*\b5\b/);
    assert.match(await template.locator('tr[data-rule-id="esxi-8.password-history"] .waiver').innerText(), /legacy vault integration, tracked in CHG-5120\s+approved by ciso@example\.net · until 2099-01-01 00:00:00 UTC/);
    assert.equal(await template.locator('svg.score-chart > title').textContent(), 'Score of esxi-8-stig over time');
    assert.match(await template.locator('figure.score table.visually-hidden').innerText(), /\t49\.12%\t49\.12 \/ 100\tnot compliant/);

    assert.match(await page.locator('[data-section="alerts"]').innerText(), /trust\.sensitive-workload-on-untrusted-host[\s\S]*open/);
    assert.match(await page.locator('[data-section="activity"]').innerText(), /vm\.place[\s\S]*fin-ledger-db-02/);
    await page.screenshot({ path: join(artifacts, 'dashboard-host.png'), fullPage: true });
    assert.ok(statSync(join(artifacts, 'dashboard-host.png')).size > 10_000);

    await page.locator('#back').click();
    await page.locator('#overview:not([hidden])').waitFor();
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.hostId), 'esx-01', 'back on the overview, the focus returns to the host');
  });

  it('keeps the filters in the URL, and a shared link restores them and the open host', async () => {
    await page.getByLabel('Pool', { exact: true }).selectOption(POOL_A);
    await page.getByLabel('Outcome', { exact: true }).selectOption('denied');
    await page.getByLabel('User', { exact: true }).fill('mallory');
    await page.waitForFunction(() => location.hash.includes('user=mallory'));
    const shared = page.url();
    assert.match(shared, /#pool=tcp-gold-fra1&user=mallory&outcome=denied$/);
    await eventually(async () => (await page.locator('#activity tbody tr[data-id]').count()) === 1, 'the feed to be filtered', 30_000, 200);
    assert.equal(await page.locator('#hosts tbody tr[data-host-id]').count(), 2, 'the host list follows the pool');

    // Another tab (its own session storage): the link asks for the token, then restores the filters.
    const other = await newPage();
    await other.goto(shared);
    await signIn(other, READ);
    await other.locator('#activity tbody tr[data-id]').first().waitFor();
    assert.deepEqual(
      [await other.getByLabel('Pool', { exact: true }).inputValue(), await other.getByLabel('Outcome', { exact: true }).inputValue(), await other.getByLabel('User', { exact: true }).inputValue()],
      [POOL_A, 'denied', 'mallory'],
    );
    assert.deepEqual(await other.locator('#activity tbody tr[data-id]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-outcome'))), ['denied']);

    const withHost = `${base}/#pool=${POOL_A}&outcome=denied&range=24h&open=esx-02`;
    await other.goto(withHost);
    await other.locator('#host:not([hidden]) [data-section="trust"]').waitFor();
    assert.equal(await other.locator('#host-title').innerText(), 'Host esx-02.dc.example.net');
    assert.equal(await other.getByLabel('Time range', { exact: true }).inputValue(), '24h');
    assert.deepEqual(await other.locator('[data-section="activity"] tbody tr[data-id]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-outcome'))), ['denied']);
    await other.close();

    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForFunction(() => location.hash === '' || location.hash === '#');
  });

  it('reaches every control by keyboard, in document order, each with a visible focus', async () => {
    // A fresh load (the token stays in the tab's session): Tab starts at the top of the page.
    await page.reload();
    await page.locator('#hosts tbody tr[data-host-id]').nth(3).waitFor();
    const reached: Array<{ index: number; outline: string; width: number; tag: string }> = [];
    for (let press = 0; press < 300; press++) {
      await page.keyboard.press('Tab');
      const at = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (el === null || el === document.body) return undefined;
        const all = [...document.querySelectorAll('*')];
        const style = getComputedStyle(el);
        return { index: all.indexOf(el), outline: style.outlineStyle, width: Number.parseFloat(style.outlineWidth), tag: `${el.tagName.toLowerCase()}#${el.id}.${el.className}` };
      });
      if (at === undefined) break;
      // A date-time field takes several Tabs (day, month, year, ...): the same element again.
      if (at.index === reached[reached.length - 1]?.index) continue;
      if (reached.some((r) => r.index === at.index)) break;
      reached.push(at);
    }
    const controls = await page.evaluate(() => {
      const all = [...document.querySelectorAll('*')];
      return [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])')]
        .filter((el) => el.getClientRects().length > 0 && !(el as HTMLButtonElement).disabled)
        .map((el) => ({ index: all.indexOf(el), tag: `${el.tagName.toLowerCase()}#${el.id}` }));
    });
    assert.ok(controls.length > 20, `${controls.length} controls`);
    const missing = controls.filter((c) => !reached.some((r) => r.index === c.index));
    assert.deepEqual(missing, [], 'controls Tab never reached');
    const order = reached.map((r) => r.index);
    assert.deepEqual(order, [...order].sort((a, b) => a - b), 'Tab follows the document order');
    assert.equal(reached[0]!.tag.split('.')[0], 'a#', 'the skip link comes first');
    for (const r of reached) assert.ok(r.outline !== 'none' && r.width >= 2, `no visible focus on ${r.tag}`);

    // The skip link takes the focus to the main content.
    await page.locator('a.skip-link').focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'main');
  });

  it('has landmarks, headings, labelled controls, chart alternatives and AA contrast', async () => {
    assert.equal(await page.locator('h1').count(), 1);
    assert.equal(await page.locator('header.site-header').count(), 1);
    assert.equal(await page.getByRole('main').count(), 1);
    assert.equal(await page.getByRole('search').count(), 1);
    assert.ok((await page.locator('#overview h2, #overview h3').count()) >= 8);
    const unlabelled = await page.locator('input, select').evaluateAll((fields) => fields.filter((f) => (f as HTMLInputElement).labels?.length === 0 && !f.getAttribute('aria-label')).map((f) => f.id));
    assert.deepEqual(unlabelled, []);
    const charts = await page.locator('svg[role="img"]').evaluateAll((svgs) =>
      svgs.map((svg) => ({ title: svg.querySelector('title')?.textContent ?? '', labelled: (svg.getAttribute('aria-labelledby') ?? '').split(' ').every((id) => document.getElementById(id) !== null), table: svg.closest('figure')?.querySelector('table.visually-hidden') !== null })),
    );
    assert.ok(charts.length >= 2);
    for (const chart of charts) assert.ok(chart.title !== '' && chart.labelled && chart.table, JSON.stringify(chart));

    // Every visible text against the background it is drawn on: 4.5:1, or 3:1 for large text.
    const failures = await page.evaluate(() => {
      const rgb = (text: string) => (text.match(/[\d.]+/g) ?? []).map(Number);
      const luminance = ([r, g, b]: number[]) => {
        const lin = (c: number) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
        return 0.2126 * lin(r!) + 0.7152 * lin(g!) + 0.0722 * lin(b!);
      };
      const background = (el: Element | null): number[] => {
        for (; el !== null; el = el.parentElement) {
          const [r, g, b, a = 1] = rgb(getComputedStyle(el).backgroundColor);
          if (a > 0.5) return [r!, g!, b!];
        }
        return [255, 255, 255];
      };
      const bad: string[] = [];
      for (const el of document.querySelectorAll('body *')) {
        if (el.closest('svg, .visually-hidden, [hidden]') !== null) continue;
        const own = [...el.childNodes].some((node) => node.nodeType === Node.TEXT_NODE && node.textContent!.trim() !== '');
        if (!own || el.getClientRects().length === 0) continue;
        const style = getComputedStyle(el);
        const size = Number.parseFloat(style.fontSize);
        const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
        const [fg, bg] = [luminance(rgb(style.color)), luminance(background(el))];
        const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        if (ratio < (large ? 3 : 4.5)) bad.push(`${el.tagName} "${el.textContent!.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
      }
      return bad;
    });
    assert.deepEqual(failures, []);
  });

  it('shows the sign-in again with the reason when the token stops being accepted', async () => {
    await page.evaluate(() => sessionStorage.setItem('trustwire.dashboard.token', 'revoked-token'));
    await page.reload();
    await page.locator('#login-reason').filter({ hasText: 'The token was not accepted (invalid bearer token).' }).waitFor();
    assert.ok(await page.locator('#app').isHidden());
    assert.deepEqual([dialogs, pageErrors, refused], [[], [], []]);
  });
});
