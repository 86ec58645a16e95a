import { z } from 'zod';
import { SYSLOG_FACILITIES } from '../../src/formats/syslog.js';
import { socketClientSettings } from '../../src/runtime/socket.js';
import { tlsFilesGiven, tlsSettings } from '../../src/runtime/tls.js';

const Tls = tlsSettings({ peer: 'receiver', describe: 'TLS settings, used when transport is tls, or relp with relp.tls' });

const Relp = z
  .strictObject({
    windowSize: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .default(1024)
      .describe(
        'syslog frames sent and not yet acknowledged, at most, on the session (librelp: 128); bounds how much is resent after a broken session, and what one connector holds unacknowledged',
      )
      .meta({ examples: [256] }),
    tls: z.boolean().default(false).describe("RELP over TLS (rsyslog imrelp's tls=\"on\"), with the tls settings").meta({ examples: [true] }),
  })
  .prefault({})
  .describe('RELP settings, used when transport is relp');

export const SyslogOptions = z
  .strictObject({
    host: z.string().min(1).describe('the syslog receiver (a SIEM collector, rsyslog, syslog-ng)').meta({ examples: ['siem-collector.example.net'] }),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe("default: 514 for udp and tcp, 6514 for tls, 2514 for relp (the port rsyslog's imrelp examples use; librelp's built-in 20514 is never applied by imrelp)")
      .meta({ examples: [6514] }),
    transport: z
      .enum(['udp', 'tcp', 'tls', 'relp'])
      .default('tcp')
      .describe("udp (RFC 5426), tcp (RFC 6587), tls (RFC 5425) or relp (rsyslog's Reliable Event Logging Protocol: every message acknowledged by the receiver)")
      .meta({ examples: ['relp'] }),
    framing: z
      .enum(['octet-counting', 'lf'])
      .default('octet-counting')
      .describe('tcp framing: octet-counting (`LEN SP MSG`, RFC 6587 3.4.1) or lf (a line each, CR/LF in a message become #015/#012); tls always counts octets, relp frames carry their own length')
      .meta({ examples: ['lf'] }),
    protocol: z.enum(['rfc5424', 'rfc3164']).default('rfc5424').describe('the syslog header: RFC 5424, or the older BSD RFC 3164').meta({ examples: ['rfc3164'] }),
    format: z.enum(['cef', 'leef', 'json']).default('cef').describe('the message: ArcSight CEF, QRadar LEEF 2.0, or the canonical event as JSON').meta({ examples: ['leef'] }),
    facility: z
      .enum(Object.keys(SYSLOG_FACILITIES) as [keyof typeof SYSLOG_FACILITIES, ...Array<keyof typeof SYSLOG_FACILITIES>])
      .default('audit')
      .describe('syslog facility (the severity follows each event)')
      .meta({ examples: ['authpriv'] }),
    hostname: z.string().min(1).optional().describe("HOSTNAME of each message: the sender; default: this machine's name").meta({ examples: ['trustwire-01'] }),
    appName: z.string().min(1).max(48).default('trustwire').describe('APP-NAME (RFC 5424) or TAG (RFC 3164)').meta({ examples: ['trustwire-dc1'] }),
    bom: z
      .boolean()
      .default(true)
      .describe('start an RFC 5424 MSG with the UTF-8 BOM, as the RFC asks; false for receivers that look for `CEF:` at the very start')
      .meta({ examples: [false] }),
    maxMessageBytes: z
      .number()
      .int()
      .min(480)
      .max(1024 * 1024)
      .default(8192)
      .describe('largest message, in bytes (UDP: keep it under the path MTU, RFC 5426 asks receivers for 2048)')
      .meta({ examples: [2048] }),
    oversize: z
      .enum(['truncate', 'dead-letter'])
      .default('truncate')
      .describe('a message over maxMessageBytes is cut (UTF-8 safe, never split) or dead-lettered; never split into two')
      .meta({ examples: ['dead-letter'] }),
    tls: Tls,
    relp: Relp,
    ...socketClientSettings({
      connectTimeout: 'how long a connection may take (relp: with the answer to its open)',
      settle: 'tcp/tls: how long written bytes must stay on a live connection before the batch counts as delivered (relp waits for acknowledgements instead)',
    }),
  })
  .superRefine((options, ctx) => {
    if (options.transport === 'tls' && options.framing === 'lf') {
      ctx.addIssue({ code: 'custom', path: ['framing'], message: 'tls carries octet-counted frames only (RFC 5425)' });
    }
    if (options.transport === 'relp' && options.framing === 'lf') {
      ctx.addIssue({ code: 'custom', path: ['framing'], message: 'relp frames carry their own length; there is no framing to choose' });
    }
    const tlsUsed = options.transport === 'tls' || (options.transport === 'relp' && options.relp.tls);
    if (!tlsUsed && tlsFilesGiven(options.tls)) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: `is set but transport is ${options.transport}${options.transport === 'relp' ? ' without relp.tls' : ''}` });
    }
    if (options.transport !== 'relp' && options.relp.tls) {
      ctx.addIssue({ code: 'custom', path: ['relp', 'tls'], message: `is set but transport is ${options.transport}` });
    }
  });
export type SyslogOptions = z.output<typeof SyslogOptions>;
