/**
 * Fail-over under a running stream: two `trustwire processor` processes share the events
 * topic's six partitions; each in turn is SIGKILLed and started again, five kills in all, while
 * events of many hosts keep coming. trustwire.enriched, read with read_committed as the sinks
 * read it, must hold every input event exactly once.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { decodeEvent } from '../../src/model/avro.js';
import type { EventOf } from '../../src/model/events.js';
import { FailoverRig } from '../helpers/processor-workers.js';
import { readAll, testConfig } from '../helpers/kafka.js';

const KILLS = 5;
const config = testConfig();
config.kafka.partitions = 6;
const rig = new FailoverRig(config);

after(() => rig.close());

test('two processors SIGKILLed alternately five times: none lost, none duplicated in trustwire.enriched', { timeout: 10 * 60_000 }, async (t) => {
  const report = await rig.run({ kills: KILLS, hosts: 60, perRound: 20, paceMs: 100, say: (line) => t.diagnostic(line) });
  t.diagnostic(`stream of ${(report.streamMs / 1000).toFixed(0)} s`);
  FailoverRig.assertExactlyOnce(report, KILLS);

  // The by-user stage ran in the same killed processes: its fleet-wide alerts came, none twice,
  // and no denied attempt was counted in two alerts of one rule.
  const alerts = (await readAll(config.kafka.topics.enriched, 1))
    .map((record) => decodeEvent(record.value!))
    .filter((event): event is EventOf<'alert'> => event.type === 'alert');
  const ids = alerts.map((alert) => alert.id);
  assert.equal(new Set(ids).size, ids.length, 'no alert twice');
  for (const rule of ['admin.repeated-denials', 'admin.denial-spraying']) {
    const raised = alerts.filter((alert) => alert.payload.rule === rule);
    assert.ok(raised.length > 0, `${rule} raised across the fleet`);
    const counted = raised.flatMap((alert) => alert.payload.relatedEventIds);
    assert.equal(new Set(counted).size, counted.length, `no attempt in two ${rule} alerts`);
    t.diagnostic(`${rule}: ${raised.length} alerts over ${counted.length} attempts`);
  }
});
