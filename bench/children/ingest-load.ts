/**
 * Reporters posting to `POST /v1/events` at a fixed rate (open loop: on schedule whatever the
 * answers take), NDJSON, a request every 20 ms, the bench's raw events with ids of their own.
 * Notes when each event was sent; `mark` answers the number of the next event (a phase's
 * start); on `halt` reports the send times and what was acknowledged.
 */
import { benchEvent } from '../data.js';
import { eventId } from '../ids.js';
import { begin, main, next, now, on, send } from './ipc.js';

const TICK_MS = 20;
const MAX_IN_FLIGHT = 64;

main(async () => {
  // Sending starts with `begin`.
  const { url, token, rate, run, stream, answerWaitMs } = await begin<{ url: string; token: string; rate: number; run: string; stream: number; answerWaitMs: number }>();
  const sentAt: number[] = [];
  const acked: boolean[] = [];
  const failures: string[] = [];
  let failedRequests = 0;
  let inFlight = 0;
  let halted = false;
  const started = now();
  send({ type: 'going', at: started });

  const post = async (from: number, count: number) => {
    const lines: string[] = [];
    const time = Date.now();
    for (let n = from; n < from + count; n++) {
      const { ingestTime: _ingestTime, ...event } = benchEvent(n, { run, stream, enriched: false });
      lines.push(JSON.stringify({ ...event, id: eventId(run, stream, n), time }));
    }
    const at = now();
    for (let n = from; n < from + count; n++) sentAt[n] = at;
    inFlight++;
    try {
      const response = await fetch(`${url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
        body: lines.join('\n'),
        signal: AbortSignal.timeout(30_000),
      });
      const body = await response.text();
      if (response.status === 202) for (let n = from; n < from + count; n++) acked[n] = true;
      else {
        failedRequests++;
        if (failures.length < 20) failures.push(`${response.status} ${body.slice(0, 200)}`);
      }
    } catch (error) {
      failedRequests++;
      if (failures.length < 20) failures.push((error as Error).message);
    } finally {
      inFlight--;
    }
  };

  let sent = 0;
  const timer = setInterval(() => {
    if (halted) return;
    const due = Math.floor(((now() - started) / 1000) * rate);
    if (due <= sent || inFlight >= MAX_IN_FLIGHT) return;
    const count = Math.min(1000, due - sent);
    void post(sent, count);
    sent += count;
  }, TICK_MS);

  // The number of the next event to be sent: where a phase begins.
  on('mark', () => send({ type: 'mark', next: sent }));
  await next('halt');
  halted = true;
  clearInterval(timer);
  const haltedAt = now();
  // Answers still coming are waited for a little (ingest answers 503 after its 5 s ack timeout);
  // what has no answer by then counts as not acknowledged.
  for (const until = now() + answerWaitMs; inFlight > 0 && now() < until; ) await new Promise((resolve) => setTimeout(resolve, 20));
  send({
    type: 'halted',
    sentAt,
    acked: Array.from({ length: sent }, (_, n) => acked[n] === true),
    failures,
    failedRequests,
    achievedRate: sent / ((haltedAt - started) / 1000),
  });
});
