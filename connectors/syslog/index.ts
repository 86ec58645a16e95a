import type { ConnectionOptions } from 'node:tls';
import { defineConnector, SendError, type SendResult, type SinkConnector } from '../../src/runtime/contract.js';
import { tlsConnectionOptions } from '../../src/runtime/tls.js';
import { DatagramSender, StreamSender } from './client.js';
import { SyslogOptions } from './config.js';
import { createMessageEncoder, frameBatch, framingOf, type SyslogMessage } from './encode.js';
import { RelpSender, type RelpOutcome } from './relp.js';

const DEFAULT_PORT = { udp: 514, tcp: 514, tls: 6514, relp: 2514 } as const;

/**
 * How RELP's answers become a result. A code in 400-499 says the message itself was refused
 * (no known RELP server sends one; by the convention of HTTP and SMTP), so it is not resent;
 * every other error (librelp answers 500) and every frame left unanswered by a broken session
 * is resent.
 */
function relpResult(outcome: RelpOutcome, positions: readonly number[], failed: Map<number, SendError>, size: number): SendResult {
  const { answers, failure } = outcome;
  for (let k = 0; k < answers.length; k++) {
    const answer = answers[k];
    if (answer === undefined) failed.set(positions[k]!, new SendError(failure?.message ?? 'no answer from the receiver', true, { cause: failure }));
    else if (answer.code !== 200) {
      failed.set(positions[k]!, new SendError(`the receiver answered ${answer.code} ${answer.text}`.trimEnd(), answer.code < 400 || answer.code > 499));
    }
  }
  if (failed.size === 0) return { kind: 'ok' };
  if (failed.size === size) {
    const failures = [...failed.values()];
    if (failures.every((f) => f.retriable)) return { kind: 'retry', error: failure ?? failures[0]! };
    if (failures.every((f) => !f.retriable)) return { kind: 'permanent', error: failures[0]! };
  }
  return { kind: 'partial', failed };
}

export default defineConnector({
  type: 'syslog',
  summary: 'CEF, LEEF or JSON in RFC 5424 / 3164 syslog over UDP, TCP (octet-counted or LF), TLS or RELP',
  configSchema: SyslogOptions,
  create: (options): SinkConnector => {
    const encode = createMessageEncoder(options);
    const framing = framingOf(options);
    const port = options.port ?? DEFAULT_PORT[options.transport];
    let stream: StreamSender | undefined;
    let datagrams: DatagramSender | undefined;
    let relp: RelpSender | undefined;

    return {
      async start(ctx) {
        const { tls } = options;
        const tlsOptions = (): ConnectionOptions => tlsConnectionOptions(tls, options.host);
        const common = { host: options.host, port, connectTimeoutMs: options.connectTimeoutMs };
        if (options.transport === 'udp') datagrams = new DatagramSender({ host: options.host, port });
        else if (options.transport === 'relp') {
          relp = new RelpSender({
            ...common,
            protocol: options.relp.tls ? 'tls' : 'tcp',
            windowSize: options.relp.windowSize,
            ...(options.relp.tls && { tls: tlsOptions() }),
          });
        } else stream = new StreamSender({ ...common, protocol: options.transport, settleMs: options.settleMs, tls: tlsOptions() });
        // No connection yet: the first send opens it, so a receiver that is down delays delivery, not start.
        ctx.logger.info({ transport: options.transport, host: options.host, port, format: options.format, protocol: options.protocol }, 'syslog sink ready');
      },

      async send(batch, signal): Promise<SendResult> {
        const failed = new Map<number, SendError>();
        const messages: SyslogMessage[] = [];
        const positions: number[] = [];
        for (let index = 0; index < batch.length; index++) {
          const message = encode(batch[index]!);
          if ('oversize' in message) {
            failed.set(index, new SendError(`message of ${message.oversize} bytes is over maxMessageBytes (${options.maxMessageBytes})`, false));
          } else {
            messages.push(message);
            positions.push(index);
          }
        }
        try {
          if (relp !== undefined) {
            if (messages.length === 0) return failed.size === 0 ? { kind: 'ok' } : { kind: 'partial', failed };
            return relpResult(await relp.send(messages, signal), positions, failed, batch.length);
          }
          if (datagrams !== undefined) {
            await datagrams.send(
              frameBatch(messages, framing),
              messages.map((m) => m.bytes),
              signal,
            );
          } else if (messages.length > 0) await stream!.write(frameBatch(messages, framing), signal);
        } catch (error) {
          // The whole batch again, including what the dead connection may have taken: at least once.
          return { kind: 'retry', error: error as Error };
        }
        return failed.size === 0 ? { kind: 'ok' } : { kind: 'partial', failed };
      },

      async stop() {
        await stream?.close();
        await datagrams?.close();
        await relp?.close();
      },
    };
  },
});
