/**
 * Fail-over under a running stream: two `trustwire processor` processes share the events
 * topic's six partitions; each in turn is SIGKILLed and started again, five kills in all, while
 * events of many hosts keep coming. trustwire.enriched, read with read_committed as the sinks
 * read it, must hold every input event exactly once.
 */
import { after, test } from 'node:test';
import { FailoverRig } from '../helpers/processor-workers.js';
import { testConfig } from '../helpers/kafka.js';

const KILLS = 5;
const config = testConfig();
config.kafka.partitions = 6;
const rig = new FailoverRig(config);

after(() => rig.close());

test('two processors SIGKILLed alternately five times: none lost, none duplicated in trustwire.enriched', { timeout: 10 * 60_000 }, async (t) => {
  const report = await rig.run({ kills: KILLS, hosts: 60, perRound: 20, paceMs: 100, say: (line) => t.diagnostic(line) });
  t.diagnostic(`stream of ${(report.streamMs / 1000).toFixed(0)} s`);
  FailoverRig.assertExactlyOnce(report, KILLS);
});
