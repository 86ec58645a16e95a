/**
 * Faults of `trustwire connect` workers on the real broker, every event id counted end to end:
 * a sink down for longer than the session timeout, workers SIGKILLed under load, workers added
 * to and removed from a group under load, and a worker stopped with SIGTERM mid-send. Workers are
 * child processes (SIGKILL is real); the sinks record each delivered id, and the tally compares
 * them with every id Kafka took.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { allDelivered, assertOutageSurvived, describeTally, FaultRig, readIds, sinkOutage, SLOW_APPEND_IDS, tally, type ConnectWorker } from '../helpers/connect-workers.js';
import { eventually } from '../helpers/eventually.js';
import { InFlightSettings } from '../../src/runtime/settings.js';

const rig = new FaultRig();
after(() => rig.cleanup());

/** The send size of the SIGKILL and group tests: what one in-flight batch can hold. */
const MAX_EVENTS = 10;
/** Sends in flight at once: a small window for the kill test, the default for the rebalance test. */
const WINDOW = 4;
const DEFAULT_WINDOW = InFlightSettings.parse({}).maxBatches;
/** A steady producer: 25 events every 100 ms. */
const FLOW = { size: 25, everyMs: 100 };
const RUNTIME = { sessionTimeoutMs: 6000, shutdownGraceMs: 5000 };

test('a sink down longer than the session timeout, with default retry settings, gets every event once it is back, without a worker restart', async (t) => {
  // 6000 ms is the shortest session timeout allowed; the 20 s outage outlasts it three times over.
  const report = await sinkOutage(rig, { outageMs: 20_000, events: 300, sessionTimeoutMs: 6000, say: (line) => t.diagnostic(line) });
  assertOutageSurvived(report);
  t.diagnostic(`duplicates: ${report.tally.duplicates}`);
  const exit = await report.worker.stop('SIGTERM');
  assert.equal(exit.code, 0, `the worker stops cleanly on SIGTERM:\n${report.worker.stderr}`);
});

test('connect workers SIGKILLed five times under load lose nothing; duplicates stay within the in-flight window per kill', async (t) => {
  const config = await rig.config();
  const connector = { name: 'killed', batch: { maxEvents: MAX_EVENTS, lingerMs: 50 }, inFlight: { maxBatches: WINDOW } };
  const events = await rig.events(config);
  const files: string[] = [];
  const startWorker = (n: number): ConnectWorker => {
    const { worker, ids } = rig.appendIdsWorker(config, `killed-${n}`, connector, RUNTIME);
    files.push(ids);
    return worker;
  };
  const KILLS = 5;

  let worker = startWorker(0);
  await worker.running;
  const flow = events.flow(FLOW.size, FLOW.everyMs);
  const recoveries: string[] = [];
  try {
    for (let kill = 1; kill <= KILLS; kill++) {
      // The worker is delivering the live stream when it is killed, not waiting for partitions.
      const own = files.at(-1)!;
      const before = readIds(own).length;
      await eventually(() => readIds(own).length >= before + 100, `worker ${kill - 1} delivering under load`, 60_000);
      const sentBeforeKill = events.sent.slice();
      const killedAt = Date.now();
      const exit = await worker.stop('SIGKILL');
      assert.equal(exit.signal, 'SIGKILL');
      assert.deepEqual(worker.gaveUp(), [], `worker ${kill - 1} never gave up before it was killed`);
      worker = startWorker(kill);
      await worker.running;
      // Recovered: the new worker delivers, and everything sent before the kill has arrived.
      const replacement = files.at(-1)!;
      await eventually(
        () => readIds(replacement).length > 0 && allDelivered(sentBeforeKill, readIds(...files)),
        `the new worker delivering and everything sent before kill ${kill} delivered`,
        60_000,
        200,
      );
      recoveries.push(`${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
    }
  } finally {
    await flow.stop();
  }
  await eventually(() => allDelivered(events.sent, readIds(...files)), 'every event delivered after the last kill', 60_000, 200);
  const exit = await worker.stop('SIGTERM');
  assert.equal(exit.code, 0, `the last worker stops cleanly on SIGTERM:\n${worker.stderr}`);

  const result = tally(events.sent, readIds(...files));
  // What each kill made the next workers deliver again: the killed worker's ids that a later one delivered too.
  const perKill = files.slice(0, KILLS).map((file, k) => {
    const later = new Set(readIds(...files.slice(k + 1)));
    return readIds(file).filter((id) => later.has(id)).length;
  });
  t.diagnostic(`${KILLS} SIGKILLs: ${describeTally(result)}`);
  t.diagnostic(`redelivered after each kill: ${perKill.join(', ')}; recovered (the new worker delivering, all sent before the kill delivered) ${recoveries.join(', ')} after each kill`);
  assert.deepEqual(result.lost, [], 'nothing lost');
  assert.deepEqual(result.unexpected, [], 'nothing delivered that was not sent');
  // A kill redelivers what its worker had delivered and not yet committed: what was in its window
  // (at most inFlight.maxBatches sends of at most batch.maxEvents, over all its partitions; a send
  // delivered early keeps its place in the window until the sends before it commit).
  const bound = WINDOW * MAX_EVENTS;
  perKill.forEach((n, k) => assert.ok(n <= bound, `kill ${k + 1} redelivered ${n} > ${WINDOW} sends × ${MAX_EVENTS} events in flight`));
  assert.ok(result.duplicates <= KILLS * bound, `duplicates ${result.duplicates} > ${KILLS} kills × ${WINDOW} sends × ${MAX_EVENTS} events in flight`);
});

test('three workers in one group, one added and one removed under load, lose nothing', async (t) => {
  const config = await rig.config();
  const connector = { name: 'grouped', batch: { maxEvents: MAX_EVENTS, lingerMs: 50 } };
  const events = await rig.events(config);
  const join = (n: string) => rig.appendIdsWorker(config, `grouped-${n}`, connector, RUNTIME);
  const first = join('a');
  const second = join('b');
  await Promise.all([first.worker.running, second.worker.running]);
  const flow = events.flow(FLOW.size, FLOW.everyMs);
  let third: ReturnType<typeof rig.appendIdsWorker>;
  try {
    await eventually(() => readIds(first.ids).length > 0 && readIds(second.ids).length > 0, 'the first two workers sharing the partitions', 60_000);
    third = join('c');
    await third.worker.running;
    await eventually(() => readIds(third.ids).length > 0, 'the added worker taking a partition under load', 60_000);
    const exit = await first.worker.stop('SIGTERM');
    assert.equal(exit.code, 0, `the removed worker stops cleanly on SIGTERM:\n${first.worker.stderr}`);
    // Its partitions move to the other two: what was sent after it left still arrives.
    const sentAfterLeaving = events.sent.length;
    await eventually(() => {
      const sentSince = events.sent.slice(sentAfterLeaving, sentAfterLeaving + 250);
      return sentSince.length === 250 && allDelivered(sentSince, readIds(second.ids, third.ids));
    }, 'the remaining two workers delivering what was sent after the first left', 60_000, 200);
  } finally {
    await flow.stop();
  }
  const files = [first.ids, second.ids, third.ids];
  await eventually(() => allDelivered(events.sent, readIds(...files)), 'every event delivered', 60_000, 200);
  for (const { worker } of [second, third]) assert.ok(worker.alive, `worker pid ${worker.pid} still running (${JSON.stringify(worker.exit)})`);
  for (const { worker } of [first, second, third]) assert.deepEqual(worker.gaveUp(), [], `worker pid ${worker.pid} never gave up`);

  const result = tally(events.sent, readIds(...files));
  const perWorker = files.map((file, i) => `${'abc'[i]} ${readIds(file).length}`).join(', ');
  t.diagnostic(`${describeTally(result)}; delivered per worker: ${perWorker}`);
  assert.deepEqual(result.lost, [], 'nothing lost');
  assert.deepEqual(result.unexpected, [], 'nothing delivered that was not sent');
  // Under load the group rebalances up to three times: the second worker joining (it may still
  // be joining when production starts), the third joining, the first leaving. A rebalance
  // redelivers, for the partitions that change hands, what their old owner delivered past its last
  // commit: at most its window of sends in flight (the SIGTERMed worker commits what it finishes
  // in its grace period, so its leaving adds nothing beyond that).
  const REBALANCES = 3;
  const bound = REBALANCES * DEFAULT_WINDOW * MAX_EVENTS;
  assert.ok(result.duplicates <= bound, `duplicates ${result.duplicates} > ${REBALANCES} rebalances × ${DEFAULT_WINDOW} sends × ${MAX_EVENTS} events in flight`);
});

test('a worker stopped with SIGTERM while sends are in flight finishes and commits them within the grace: its successor sends nothing again', async (t) => {
  const config = await rig.config();
  const connector = { name: 'drained', batch: { maxEvents: MAX_EVENTS, lingerMs: 20 } };
  const slow = { module: SLOW_APPEND_IDS, options: { delayMs: 1500 } }; // well within the 5 s grace
  const events = await rig.events(config);
  const first = rig.appendIdsWorker(config, 'drained-1', connector, RUNTIME, slow);
  await first.worker.running;
  await events.send(60);
  await eventually(() => readIds(`${first.ids}.started`).length > 0, 'a send in flight');
  const exit = await first.worker.stop('SIGTERM');
  assert.equal(exit.code, 0, `the worker stops cleanly on SIGTERM:\n${first.worker.stderr}`);
  const drained = readIds(first.ids);
  assert.ok(drained.length > 0, 'the sends in flight at SIGTERM finished within the grace period');

  const second = rig.appendIdsWorker(config, 'drained-2', connector, RUNTIME, slow);
  await second.worker.running;
  await eventually(() => allDelivered(events.sent, readIds(first.ids, second.ids)), 'the successor delivering the rest', 60_000, 200);
  const result = tally(events.sent, readIds(first.ids, second.ids));
  t.diagnostic(`${describeTally(result)}; ${drained.length} delivered by the stopped worker while it drained`);
  assert.deepEqual(result.lost, [], 'nothing lost');
  assert.equal(result.duplicates, 0, 'what the stopped worker delivered was committed: nothing was sent twice');
  await second.worker.stop('SIGTERM');
});
