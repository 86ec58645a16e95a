/**
 * Compliance on the real broker: config snapshots of a small fleet posted to the service yield
 * the expected assessments in trustwire.enriched, and the compliance API and reports (JSON,
 * CSV, HTML) agree with them.
 */
import assert from 'node:assert/strict';
import avsc from 'avsc';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { Secret } from '../../src/config/secret.js';
import { followTopic } from '../../src/kafka/reader.js';
import { silentLogger } from '../../src/log.js';
import { decodeEvent, eventAvroType } from '../../src/model/avro.js';
import type { CanonicalEvent, EventOf } from '../../src/model/events.js';
import { startService, type RunningService } from '../../src/service.js';
import { eventually } from '../helpers/eventually.js';
import { dropTopics, pipelineAtEnd, readToEnd, testClient, testConfig } from '../helpers/kafka.js';
import { apiToken, SCOPES } from '../../src/api/auth.js';

const TOKEN = 'fleet-token';
const config = testConfig();
config.compliance.waivers = [
  {
    ruleId: 'esxi-8.password-history',
    scope: { hostId: 'esx-03' },
    justification: 'vendor appliance, tracked in CHG-4411',
    expiresAt: Date.UTC(2099, 0, 1),
    approvedBy: 'ciso@example.net',
  },
];
let service: RunningService;
let stopFollowing: () => Promise<void>;
const enriched: CanonicalEvent[] = [];

before(async () => {
  service = await startService(config, { logger: silentLogger, tokens: [apiToken('fleet', SCOPES, { token: new Secret(TOKEN, 'inline') })] });
  stopFollowing = (await followTopic(testClient(), config.kafka.topics.enriched, (record) => enriched.push(decodeEvent(record.value!)))).stop;
});
after(async () => {
  await stopFollowing();
  await service.close();
  await dropTopics(config);
});

function fixture(name: string, hostId: string, time: number): Record<string, unknown> {
  const { id: _id, ingestTime: _t, enrichment: _e, ...event } = JSON.parse(readFileSync(new URL(`../fixtures/compliance/${name}.json`, import.meta.url), 'utf8'));
  return { ...event, time, host: { id: hostId, name: `${hostId}.dc.example.net`, pool: 'tcp-gold-fra1' } };
}

async function post(events: Record<string, unknown>[]): Promise<string[]> {
  const response = await fetch(`${service.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  });
  assert.equal(response.status, 202, await response.clone().text());
  return ((await response.json()) as { ids: string[] }).ids;
}

const assessments = () => enriched.filter((e): e is EventOf<'compliance.assessment'> => e.type === 'compliance.assessment');

test('snapshots of a small fleet yield the expected assessments in trustwire.enriched', async () => {
  const t0 = Date.UTC(2026, 10, 26, 6, 0, 0);
  const untrusted = JSON.parse(readFileSync(new URL('../../src/kit/events/trust.change.json', import.meta.url), 'utf8'));
  const { id: _i, ingestTime: _t, enrichment: _e, ...attestation } = untrusted;
  await post([{ ...attestation, host: { id: 'esx-04' }, time: t0 }]);
  const snapshots = await post([
    fixture('esxi-8-hardened', 'esx-01', t0 + 1000),
    fixture('esxi-8-default-install', 'esx-02', t0 + 2000),
    fixture('esxi-8-default-install', 'esx-03', t0 + 3000),
    fixture('esxi-8-hardened', 'esx-04', t0 + 4000),
    fixture('linux-kvm', 'kvm-01', t0 + 5000),
  ]);
  await eventually(() => assessments().length >= 5, `five assessments on ${config.kafka.topics.enriched}`);
  // Once every stage consumed all it was given, all it will write is below the topic's end: read to it.
  await eventually(() => pipelineAtEnd(config), 'the processor and its stages at the end of their input topics');
  const written = (await readToEnd(config.kafka.topics.enriched)).map((record) => decodeEvent(record.value!));
  const inTopic = written.filter((e): e is EventOf<'compliance.assessment'> => e.type === 'compliance.assessment');

  const byHost = new Map(inTopic.map((a) => [a.host.id, a]));
  assert.equal(inTopic.length, 5, 'one assessment per snapshot, nothing twice');
  assert.deepEqual(
    [...byHost.values()].map((a) => a.payload.snapshotEventId).sort(),
    [...snapshots].sort(),
  );
  assert.equal(byHost.get('esx-01')!.payload.compliant, true);
  assert.equal(byHost.get('esx-01')!.payload.score, 100);
  assert.equal(byHost.get('esx-02')!.payload.compliant, false);
  assert.equal(byHost.get('esx-02')!.payload.score, 46.9);
  assert.equal(byHost.get('esx-03')!.payload.counts.waived, 1, 'the waiver for esx-03 applied');
  assert.ok(byHost.get('esx-03')!.payload.score > byHost.get('esx-02')!.payload.score);
  assert.equal(byHost.get('esx-03')!.payload.scoreWithoutWaivers, byHost.get('esx-02')!.payload.score);
  assert.deepEqual(byHost.get('esx-04')!.payload.trustGate, { applied: true, trustStatus: 'untrusted' });
  assert.equal(byHost.get('esx-04')!.payload.compliant, false, 'untrusted: never compliant');
  assert.equal(byHost.get('kvm-01')!.payload.templateId, 'linux-kvm-cis');
  const thresholdAlerts = written.filter((e) => e.type === 'alert' && e.payload.rule === 'compliance.below-threshold').map((e) => e.host.id);
  assert.deepEqual(thresholdAlerts.sort(), ['esx-02', 'esx-03', 'esx-04']);
});

test('the compliance API and reports (JSON, CSV, HTML, Avro) agree with the assessments', async () => {
  const byHost = new Map(assessments().map((a) => [a.host.id, a]));
  const get = (path: string) => fetch(`${service.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  // The reports are served from a view that follows trustwire.enriched: wait until it has all five.
  await eventually(
    async () => ((await (await get('/v1/compliance/summary')).json()) as { summary: { hosts: number } }).summary.hosts === 5,
    'all five hosts in /v1/compliance/summary',
    15_000,
  );
  const summary = (await (await get('/v1/compliance/summary')).json()) as { summary: Record<string, number> };
  assert.deepEqual(
    { hosts: summary.summary.hosts, compliant: summary.summary.compliant, notCompliant: summary.summary.notCompliant, trustGated: summary.summary.trustGated },
    { hosts: 5, compliant: 2, notCompliant: 3, trustGated: 1 },
  );

  const json = (await (await get('/v1/compliance/report?format=json')).json()) as { rows: Array<{ hostId: string; score: number; compliant: boolean; eventId: string }> };
  assert.equal(json.rows.length, 5);
  for (const row of json.rows) {
    const assessment = byHost.get(row.hostId)!;
    assert.deepEqual([row.score, row.compliant, row.eventId], [assessment.payload.score, assessment.payload.compliant, assessment.id]);
  }

  const csvResponse = await get('/v1/compliance/report?format=csv');
  assert.match(csvResponse.headers.get('content-type')!, /^text\/csv/);
  const bytes = Buffer.from(await csvResponse.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'a BOM, so a spreadsheet reads UTF-8');
  const csv = bytes.subarray(3).toString('utf8');
  const [header, ...lines] = csv.trimEnd().split('\r\n');
  const columns = header!.split(',');
  assert.equal(lines.length, 5);
  for (const line of lines) {
    const cells = line.split(',');
    const hostId = cells[columns.indexOf('host_id')]!;
    assert.equal(Number(cells[columns.indexOf('score')]), byHost.get(hostId)!.payload.score, `${hostId} in the CSV`);
  }

  const html = await (await get('/v1/compliance/report?format=html')).text();
  for (const hostId of byHost.keys()) assert.ok(html.includes(hostId), `${hostId} in the HTML report`);

  const drill = (await (await get('/v1/compliance/hosts/esx-02')).json()) as { templates: Array<{ rules: Array<{ ruleId: string; expected?: string; actual?: string }> }> };
  assert.equal(drill.templates[0]!.rules.length, byHost.get('esx-02')!.payload.results.length, 'every rule, with its evidence');
  assert.ok(drill.templates[0]!.rules.find((r) => r.ruleId === 'esxi-8.password-history')!.actual !== undefined);
  assert.equal((await get('/v1/compliance/hosts/esx-02?format=html')).status, 200);
  assert.equal((await get('/v1/compliance/hosts/nope')).status, 404);

  const avro = Buffer.from(await (await get('/v1/compliance/report?format=avro')).arrayBuffer());
  assert.equal(avro.subarray(0, 4).toString('latin1'), 'Obj\u0001', 'an Avro Object Container File');
  const decoder = new avsc.streams.BlockDecoder({ parseHook: (schema) => eventAvroType(schema as object) });
  Readable.from([avro]).pipe(decoder);
  const inContainer: Array<{ id: string; host: { id: string } }> = [];
  for await (const value of decoder) inContainer.push(value as { id: string; host: { id: string } });
  assert.deepEqual(
    inContainer.map((a) => [a.host.id, a.id]).sort(),
    [...byHost.values()].map((a) => [a.host.id, a.id]).sort(),
    'the Avro report holds the same assessments',
  );

  const bad = await get('/v1/compliance/report?format=xml');
  assert.equal(bad.status, 400);
  assert.deepEqual(((await bad.json()) as { details: Array<{ path: string }> }).details.map((d) => d.path), ['format']);
  const filtered = (await (await get('/v1/compliance/report?template=linux-kvm-cis')).json()) as { rows: unknown[] };
  assert.equal(filtered.rows.length, 1);
});

test('`trustwire report` writes the same report from the command line', async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'trustwire-report-'));
  try {
    const configFile = join(dir, 'trustwire.yaml');
    writeFileSync(
      configFile,
      `kafka:\n  brokers: [${config.kafka.brokers.join(', ')}]\n  topics: { ${Object.entries(config.kafka.topics).map(([k, v]) => `${k}: ${v}`).join(', ')} }\n`,
    );
    const out = join(dir, 'report.csv');
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'report', '--format', 'csv', '--out', out, '--config', configFile], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /5 assessment\(s\) of 5 host\(s\) written to/);
    const api = await (await fetch(`${service.url}/v1/compliance/report?format=csv`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const rows = (text: string) => text.split('\r\n').slice(1).filter(Boolean).sort();
    assert.deepEqual(rows(readFileSync(out, 'utf8')), rows(api), 'the CLI and the API report the same rows');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
