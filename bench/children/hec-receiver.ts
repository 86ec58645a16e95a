/**
 * The protocol-following Splunk HEC receiver (test/helpers/hec-receiver.ts) in a process of its
 * own, counting the events it indexed. It keeps no requests (a run would hold them all in memory).
 */
import { HecReceiver, type HecRequest } from '../../test/helpers/hec-receiver.js';
import { begin, main, now, on, send } from './ipc.js';

main(async () => {
  const { token, count } = await begin<{ token: string; count: number }>();
  const receiver = new HecReceiver({ token });
  let indexed = 0;
  let first: number | undefined;
  // Every request passes through `requests.push` before HEC answers it; it is answered (status
  // set) within the same turn of the event loop, so the next turn sees its outcome.
  receiver.requests.push = (...requests: HecRequest[]) => {
    setImmediate(() => {
      for (const request of requests) {
        if (request.path !== '/services/collector/event' || request.status !== 200) continue;
        first ??= now();
        const before = indexed;
        indexed += request.events.length;
        if (before < count && indexed >= count) send({ type: 'reached', first, end: now() });
      }
    });
    return 0;
  };
  on('count', () => send({ type: 'count', count: indexed }));
  await receiver.start();
  send({ type: 'ready', url: receiver.url });
  return () => receiver.stop();
});
