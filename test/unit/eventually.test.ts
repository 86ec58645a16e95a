/** The one wait the tests use: it returns once the condition holds, and fails saying what it waited for, how long, and why. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually } from '../helpers/eventually.js';

test('eventually returns as soon as the condition holds, polling until then', async () => {
  let polls = 0;
  await eventually(() => ++polls === 3, 'the third poll', 5000, 1);
  assert.equal(polls, 3);
});

test('eventually fails naming what it waited for and for how long', async () => {
  await assert.rejects(eventually(() => false, 'the sink to drain', 50, 5), { message: 'timed out after 50 ms waiting for the sink to drain' });
});

test("eventually's failure carries the check's last error; a check that throws is polled again", async () => {
  let polls = 0;
  await eventually(() => {
    if (++polls < 3) throw new Error('not yet');
    return true;
  }, 'a check that throws twice', 5000, 1);
  assert.equal(polls, 3);
  await assert.rejects(
    eventually(() => Promise.reject(new Error('connection refused')), 'the broker', 30, 5),
    { message: 'timed out after 30 ms waiting for the broker (last error: connection refused)' },
  );
});
