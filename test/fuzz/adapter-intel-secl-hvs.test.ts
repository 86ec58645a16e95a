import { after, before, test } from 'node:test';
import { describeRequest, fuzz, FUZZ_RUNS, FUZZ_TIMEOUT_MS, mutatedJson, requestOf, type FuzzRequest, type Random } from '../helpers/fuzz.js';
import { ingestServer, postAndCheck, type IngestServer } from '../helpers/ingest-server.js';
import { readFixture } from '../helpers/fixtures.js';

const REPORTS = ['hvs-report-trusted-asset-tags.json', 'hvs-report-untrusted-platform-pcr0.json', 'hvs-report-v3-untrusted-os-pcr17.json'].map(
  (name) => JSON.parse(readFixture(`adapters/${name}`)) as unknown,
);

let server: IngestServer;
before(async () => {
  server = await ingestServer();
});
after(() => server.close());

/** One report, an array of them, or a `GET /hvs/v2/reports` answer; then mutated anywhere. */
function request(random: Random): FuzzRequest {
  const reports = () => Array.from({ length: random.int(4) }, () => random.pick(REPORTS));
  const shapes = [() => random.pick(REPORTS), reports, () => ({ reports: reports() }), () => ({ reports: null })];
  const document = random.pick(shapes)();
  // Reports are big documents: more mutations, so that some land deep inside them.
  return requestOf(mutatedJson(document, random, random.int(3)), random);
}

test(`POST /v1/adapters/intel-secl-hvs: ${FUZZ_RUNS} mutated reports, no 5xx, small answers, nothing produced when refused`, { timeout: FUZZ_TIMEOUT_MS }, async () => {
  const statuses = new Map<number, number>();
  await fuzz('intel-secl-hvs', request, async ({ body, contentType }) => {
    const status = await postAndCheck(server, '/v1/adapters/intel-secl-hvs', body, contentType);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }, describeRequest);
  process.stderr.write(`intel-secl-hvs fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
});
