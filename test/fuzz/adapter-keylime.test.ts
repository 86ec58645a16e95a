import { after, before, test } from 'node:test';
import { describeRequest, fuzz, FUZZ_RUNS, FUZZ_TIMEOUT_MS, mutatedJson, requestOf, type FuzzRequest, type Random } from '../helpers/fuzz.js';
import { ingestServer, postAndCheck, type IngestServer } from '../helpers/ingest-server.js';
import { readFixture } from '../helpers/fixtures.js';

interface Webhook {
  msg: string;
  signature?: string;
}
const WEBHOOKS = ['adapters/keylime-pcr-mismatch.json', 'adapters/keylime-ima-not-in-allowlist.json'].map((path) => JSON.parse(readFixture(path)) as Webhook);

let server: IngestServer;
before(async () => {
  server = await ingestServer();
});
after(() => server.close());

/**
 * A webhook mutated at its three levels: the body, the notification (JSON text in `msg`) and
 * the failure's context (JSON text in `msg.context`), each of which trustwire parses.
 */
function request(random: Random): FuzzRequest {
  const webhook = random.pick(WEBHOOKS);
  const msg = JSON.parse(webhook.msg) as Record<string, unknown>;
  if (typeof msg.context === 'string' && random.chance(0.5)) msg.context = mutatedJson(JSON.parse(msg.context), random);
  let msgText = random.chance(0.8) ? mutatedJson(msg, random) : JSON.stringify(msg);
  if (random.chance(0.05)) msgText = msgText.slice(0, random.int(msgText.length));
  const body = { ...webhook, msg: msgText };
  return requestOf(random.chance(0.3) ? mutatedJson(body, random) : JSON.stringify(body), random);
}

test(`POST /v1/adapters/keylime: ${FUZZ_RUNS} mutated webhooks, no 5xx, small answers, nothing produced when refused`, { timeout: FUZZ_TIMEOUT_MS }, async () => {
  const statuses = new Map<number, number>();
  await fuzz('keylime', request, async ({ body, contentType }) => {
    const status = await postAndCheck(server, '/v1/adapters/keylime', body, contentType);
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }, describeRequest);
  process.stderr.write(`keylime fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}\n`);
});
