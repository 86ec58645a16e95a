import { z } from 'zod';

export const FileOptions = z.strictObject({
  path: z
    .string()
    .min(1)
    .describe("file the events are appended to (relative: to the service's working directory); its folder is created if missing")
    .meta({ examples: ['/var/log/trustwire/events.jsonl'] }),
  format: z
    .enum(['json', 'cef', 'syslog-cef'])
    .default('json')
    .describe(
      'json: one canonical event a line (JSON lines); cef: one ArcSight CEF record a line, without a syslog header (see src/formats/cef.ts for the mapping); syslog-cef: each CEF record under its RFC 5424 header, as a SIEM collector files what it receives',
    )
    .meta({ examples: ['cef'] }),
  rotate: z
    .strictObject({
      maxBytes: z
        .number()
        .int()
        .min(0)
        .default(100 * 1024 * 1024)
        .describe('a batch that would take the file past this size goes to a fresh file; 0: never rotate')
        .meta({ examples: [10 * 1024 * 1024] }),
      keep: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(5)
        .describe('rotated files kept: `<path>.1` (the newest) to `<path>.<keep>`; older ones are deleted')
        .meta({ examples: [10] }),
    })
    .prefault({})
    .describe('size-based rotation'),
  mode: z
    .string()
    .regex(/^0?[0-7]{3}$/, 'must be an octal file mode such as 0640')
    .default('0640')
    .describe('permissions of a file the connector creates (octal)')
    .meta({ examples: ['0600'] }),
});
export type FileOptions = z.output<typeof FileOptions>;
