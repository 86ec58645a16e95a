/**
 * The sink outage of test/integration/connector-faults.test.ts at full length (`npm run soak`):
 * a webhook sink answering 503 for ten minutes under default settings (retry, batch, the 30 s
 * session timeout) while 5,000 events wait in Kafka; once it is back, every one arrives, from the
 * same worker process, which never gave up.
 */
import { after, test } from 'node:test';
import { assertOutageSurvived, FaultRig, sinkOutage } from '../helpers/connect-workers.js';

const OUTAGE_MS = 10 * 60_000;
const EVENTS = 5000;

const rig = new FaultRig();
after(() => rig.cleanup());

test('a sink down for ten minutes, with default settings, gets every event once it is back, without a worker restart', async (t) => {
  const report = await sinkOutage(rig, { outageMs: OUTAGE_MS, events: EVENTS, say: (line) => t.diagnostic(line) });
  const { tally } = report;
  t.diagnostic(`sent ${tally.sent}, delivered ${tally.delivered}, lost ${tally.lost.length}, duplicated ${tally.duplicates}, recovered in ${(report.recoverMs / 1000).toFixed(1)} s`);
  assertOutageSurvived(report);
});
