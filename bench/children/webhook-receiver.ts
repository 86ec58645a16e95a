/**
 * The webhook receiver of the http connector's tests (test/helpers/webhook-receiver.ts) in a
 * process of its own, counting the events it accepted. It keeps no requests.
 */
import { WebhookReceiver } from '../../test/helpers/webhook-receiver.js';
import { begin, main, now, on, send } from './ipc.js';

main(async () => {
  const { count } = await begin<{ count: number }>();
  const receiver = new WebhookReceiver();
  let accepted = 0;
  let first: number | undefined;
  // Each request passes `requests.push` before its events are accepted, in the same turn of the
  // event loop: the next turn counts what was accepted.
  receiver.requests.push = () => {
    setImmediate(() => {
      void receiver.received().then((ids) => {
        if (ids.length === accepted) return;
        first ??= now();
        const before = accepted;
        accepted = ids.length;
        if (before < count && accepted >= count) send({ type: 'reached', first, end: now() });
      });
    });
    return 0;
  };
  on('count', () => send({ type: 'count', count: accepted }));
  await receiver.start();
  send({ type: 'ready', url: receiver.url });
  return () => receiver.stop();
});
