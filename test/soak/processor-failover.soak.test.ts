/**
 * The fail-over test at soak length (`npm run soak`): twenty SIGKILLs of two `trustwire
 * processor` processes in turn, under a stream of events of 200 hosts that runs for the whole
 * time. trustwire.enriched, read with read_committed, must hold every input event exactly once.
 */
import { after, test } from 'node:test';
import { FailoverRig } from '../helpers/processor-workers.js';
import { testConfig } from '../helpers/kafka.js';

const KILLS = 20;
const config = testConfig();
config.kafka.partitions = 6;
const rig = new FailoverRig(config);

after(() => rig.close());

test('two processors SIGKILLed alternately twenty times under a long stream: none lost, none duplicated in trustwire.enriched', { timeout: 45 * 60_000 }, async (t) => {
  const report = await rig.run({ kills: KILLS, hosts: 200, perRound: 40, paceMs: 100, say: (line) => t.diagnostic(line) });
  t.diagnostic(`stream of ${(report.streamMs / 1000).toFixed(0)} s`);
  FailoverRig.assertExactlyOnce(report, KILLS);
});
