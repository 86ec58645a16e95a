/**
 * rsyslog as the reference relay: imkafka (a fresh consumer group, from the earliest offset) →
 * omfwd (TCP, octet-counted) → a second rsyslog's imtcp → one line per message in a file. The
 * clock runs from the first line to the Nth written by the receiver (librdkafka fetches at most
 * 1 MB per partition, so the first line comes right after the first fetch); the peak RSS is the
 * forwarder's.
 */
import { stopAll } from '../procs.js';
import { LineCounter, startForwarder, startReceiver } from '../rsyslog.js';
import { deadlineMs, freshGroup, measured, type Scenario } from '../scenario.js';

export const rsyslog: Scenario = {
  name: 'rsyslog',
  label: 'rsyslog imkafka → omfwd → imtcp',
  async run(ctx) {
    const receiver = await startReceiver(ctx.scratch('rsyslog-receiver'));
    const counter = new LineCounter(receiver.file, ctx.events);
    const forwarder = startForwarder(ctx.scratch('rsyslog-forwarder'), {
      brokers: ctx.brokers,
      topic: ctx.topics.enriched,
      group: freshGroup(ctx, 'rsyslog'),
      targetPort: receiver.port,
    });
    try {
      let timer: NodeJS.Timeout | undefined;
      const end = await Promise.race([
        counter.reached,
        forwarder.exited.then(() => Promise.reject(new Error(`after ${counter.count} of ${ctx.events} messages: ${forwarder.describe()}`))),
        receiver.process.exited.then(() => Promise.reject(new Error(`after ${counter.count} of ${ctx.events} messages: ${receiver.process.describe()}`))),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`rsyslog: ${counter.count} of ${ctx.events} messages received after ${deadlineMs(ctx) / 1000} s`)), deadlineMs(ctx));
        }),
      ]).finally(() => clearTimeout(timer));
      // One line per message: more lines than events would mean frames split (framing not octet-counted).
      await new Promise((resolve) => setTimeout(resolve, 300));
      if (counter.count > ctx.events) throw new Error(`the receiver wrote ${counter.count} lines for ${ctx.events} messages: frames were split`);
      return measured(ctx.events, { start: counter.first!, end }, forwarder.peakRssMb(), { receiverPeakRssMb: receiver.process.peakRssMb() });
    } finally {
      counter.close();
      await stopAll([forwarder, receiver.process], 3000);
    }
  },
};
