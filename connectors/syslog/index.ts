import { readFileSync } from 'node:fs';
import { defineConnector, SendError, type SendResult, type SinkConnector } from '../../src/runtime/contract.js';
import { DatagramSender, StreamSender } from './client.js';
import { SyslogOptions } from './config.js';
import { createEncoder } from './encode.js';

const DEFAULT_PORT = { udp: 514, tcp: 514, tls: 6514 } as const;

export default defineConnector({
  type: 'syslog',
  summary: 'CEF, LEEF or JSON in RFC 5424 / 3164 syslog over UDP, TCP (octet-counted or LF) or TLS',
  configSchema: SyslogOptions,
  create: (options): SinkConnector => {
    const encode = createEncoder(options);
    const port = options.port ?? DEFAULT_PORT[options.transport];
    let stream: StreamSender | undefined;
    let datagrams: DatagramSender | undefined;

    return {
      async start(ctx) {
        if (options.transport === 'udp') datagrams = new DatagramSender({ host: options.host, port });
        else {
          const { tls } = options;
          stream = new StreamSender({
            protocol: options.transport,
            host: options.host,
            port,
            connectTimeoutMs: options.connectTimeoutMs,
            settleMs: options.settleMs,
            tls: {
              servername: tls.serverName ?? options.host,
              rejectUnauthorized: tls.verify,
              minVersion: tls.minVersion,
              ...(tls.ca !== undefined && { ca: readFileSync(tls.ca) }),
              ...(tls.cert !== undefined && { cert: readFileSync(tls.cert) }),
              ...(tls.key !== undefined && { key: tls.key.reveal() }),
            },
          });
        }
        // No connection yet: the first send opens it, so a receiver that is down delays delivery, not start.
        ctx.logger.info({ transport: options.transport, host: options.host, port, format: options.format, protocol: options.protocol }, 'syslog sink ready');
      },

      async send(batch, signal): Promise<SendResult> {
        const failed = new Map<number, SendError>();
        const frames: Buffer[] = [];
        batch.forEach((event, index) => {
          const message = encode(event);
          if (message.oversize === undefined) frames.push(message.bytes);
          else failed.set(index, new SendError(`message of ${message.oversize} bytes is over maxMessageBytes (${options.maxMessageBytes})`, false));
        });
        try {
          if (datagrams !== undefined) await datagrams.send(frames, signal);
          else if (frames.length > 0) await stream!.write(Buffer.concat(frames), signal);
        } catch (error) {
          // The whole batch again, including what the dead connection may have taken: at least once.
          return { kind: 'retry', error: error as Error };
        }
        return failed.size === 0 ? { kind: 'ok' } : { kind: 'partial', failed };
      },

      async stop() {
        await stream?.close();
        await datagrams?.close();
      },
    };
  },
});
