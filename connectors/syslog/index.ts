import { BatchOutcome, defineConnector, SendError, type SendResult, type SinkConnector } from '../../src/runtime/contract.js';
import { DatagramSender, StreamSender } from '../../src/runtime/socket.js';
import { tlsConnectionOptions } from '../../src/runtime/tls.js';
import { SyslogOptions } from './config.js';
import { createMessageEncoder, frameBatch, framingOf, type SyslogMessage } from './encode.js';
import { RelpSender, type RelpOutcome } from './relp.js';

const DEFAULT_PORT = { udp: 514, tcp: 514, tls: 6514, relp: 2514 } as const;

/**
 * RELP's answers, into the outcome. A code in 400-499 says the message itself was refused (no
 * known RELP server sends one; by the convention of HTTP and SMTP), so it is not resent; every
 * other error (librelp answers 500) and every frame a broken session left unanswered is resent.
 */
function noteRelp({ answers, failure }: RelpOutcome, positions: readonly number[], outcome: BatchOutcome): void {
  // One error an answer, so that a batch refused with one answer is one permanent result.
  const errors = new Map<string, SendError>();
  const errorOf = (code: number, text: string) => {
    const said = `the receiver answered ${code} ${text}`.trimEnd();
    return errors.get(said) ?? errors.set(said, new SendError(said, code < 400 || code > 499)).get(said)!;
  };
  answers.forEach((answer, k) => {
    if (answer === undefined) outcome.fail(positions[k]!, new SendError(failure?.message ?? 'no answer from the receiver', true, { cause: failure }));
    else if (answer.code !== 200) outcome.fail(positions[k]!, errorOf(answer.code, answer.text));
  });
}

export default defineConnector({
  type: 'syslog',
  summary: 'CEF, LEEF or JSON in RFC 5424 / 3164 syslog over UDP, TCP (octet-counted or LF), TLS or RELP',
  configSchema: SyslogOptions,
  // Connecting (and RELP's open), and for tcp and tls the settling of the written bytes, happen inside one send attempt.
  attemptWaits: ({ transport, connectTimeoutMs, settleMs }): Record<string, number> =>
    transport === 'udp' ? {} : transport === 'relp' ? { connectTimeoutMs } : { connectTimeoutMs, settleMs },
  create: (options): SinkConnector => {
    const encode = createMessageEncoder(options);
    const framing = framingOf(options);
    const { host, transport, connectTimeoutMs } = options;
    const port = options.port ?? DEFAULT_PORT[transport];
    let stream: StreamSender | undefined;
    let datagrams: DatagramSender | undefined;
    let relp: RelpSender | undefined;

    return {
      async start(ctx) {
        const tls = () => tlsConnectionOptions(options.tls, host);
        if (transport === 'udp') datagrams = new DatagramSender({ host, port });
        else if (transport === 'relp') {
          const { windowSize } = options.relp;
          relp = new RelpSender({ host, port, connectTimeoutMs, windowSize, protocol: options.relp.tls ? 'tls' : 'tcp', ...(options.relp.tls && { tls: tls() }) });
        } else stream = new StreamSender({ host, port, connectTimeoutMs, protocol: transport, settleMs: options.settleMs, tls: tls() });
        // No connection yet: the first send opens it, so a receiver that is down delays delivery, not start.
        ctx.logger.info({ transport, host, port, format: options.format, protocol: options.protocol }, 'syslog sink ready');
      },

      async send(batch, signal): Promise<SendResult> {
        const outcome = new BatchOutcome(batch.length);
        const messages: SyslogMessage[] = [];
        const positions: number[] = [];
        batch.forEach((event, index) => {
          const message = encode(event);
          if (!('oversize' in message)) messages.push(message), positions.push(index);
          else outcome.fail(index, new SendError(`message of ${message.oversize} bytes is over maxMessageBytes (${options.maxMessageBytes})`, false));
        });
        try {
          if (messages.length === 0) return outcome.result();
          if (relp !== undefined) {
            const answered = await relp.send(messages, signal);
            noteRelp(answered, positions, outcome);
            return outcome.result(0, answered.failure);
          }
          if (datagrams !== undefined) await datagrams.send(frameBatch(messages, framing), messages.map((m) => m.bytes), signal);
          else await stream!.write(frameBatch(messages, framing), signal);
        } catch (error) {
          // The whole batch again, including what the dead connection may have taken: at least once.
          return { kind: 'retry', error: error as Error };
        }
        return outcome.result();
      },

      async stop() {
        await stream?.close();
        await datagrams?.close();
        await relp?.close();
      },
    };
  },
});
