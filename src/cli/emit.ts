import { createReadStream } from 'node:fs';
import { loadConfig } from '../config/load.js';
import { ADAPTER_NAMES, adapt, type AdapterName } from '../ingest/adapters/registry.js';
import { decodeUtf8, parseBody, parseJsonDocument, type BodyFormat, type BodyItem } from '../ingest/body.js';
import { prepareEvents } from '../ingest/prepare.js';
import { createProducer } from '../ingest/producer.js';
import type { IngestEventInput } from '../model/events.js';
import { ValidationError, describeFieldError } from '../model/validation.js';
import { CliError } from './errors.js';
import { parseOptions, settleBrokers } from './options.js';

/**
 * `trustwire emit [FILE|-]`: validates every event first (the same checks and messages as
 * POST /v1/events), produces nothing if any is invalid, and prints the ids of what it produced.
 */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(args, {
    format: { type: 'string', default: 'auto' },
    from: { type: 'string' },
    config: { type: 'string' },
    brokers: { type: 'string' },
    'max-bytes': { type: 'string', default: String(DEFAULT_MAX_BYTES) },
  });
  const maxBytes = Number(values['max-bytes']);
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new CliError(`--max-bytes must be a positive whole number, got ${values['max-bytes']}`, 2);
  const format = values.format as BodyFormat;
  if (!['json', 'ndjson', 'auto'].includes(format)) throw new CliError(`--format must be json, ndjson or auto, got ${values.format}`, 2);
  const from = values.from as AdapterName | undefined;
  if (from !== undefined && !ADAPTER_NAMES.includes(from)) throw new CliError(`--from must be one of ${ADAPTER_NAMES.join(', ')}, got ${from}`, 2);
  if (positionals.length > 1) throw new CliError('emit takes one FILE (or - for stdin)', 2);
  const file = positionals[0] ?? '-';
  const bytes = await readBounded(file, maxBytes);

  const config = loadConfig(values.config);
  let items: BodyItem[];
  try {
    // --from: the input is an attestation service's own document, turned into trust.change events.
    // The same bounds and checks as POST /v1/events: invalid UTF-8 is refused with its offset, never replaced.
    const input = decodeUtf8(bytes);
    const limits = { maxDepth: config.http.maxNestingDepth, maxStringLength: config.http.maxStringLength, maxKeysPerObject: config.http.maxKeysPerObject };
    items = from === undefined ? parseBody(input, format, limits) : adapt(from, parseJsonDocument(input, limits), config.adapters, limits).map((value) => ({ value }));
    prepareEvents(items); // validation with NDJSON line numbers, before anything connects
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    process.stderr.write(`${file === '-' ? 'stdin' : file}: ${error.summary}\n`);
    for (const detail of error.details) process.stderr.write(`  ${describeFieldError(detail)}\n`);
    return 1;
  }

  settleBrokers(config, values.brokers);
  const producer = await createProducer({
    brokers: config.kafka.brokers,
    clientId: `${config.kafka.clientId}-emit`,
    topic: config.kafka.topics.events,
    ssl: config.kafka.ssl,
    sasl: config.kafka.sasl,
  });
  try {
    // send() validates again: cheap, and the producer API stays the only way in.
    const { ids } = await producer.send(items.map((item) => item.value as IngestEventInput));
    for (const id of ids) process.stdout.write(`${id}\n`);
    process.stderr.write(`produced ${ids.length} event(s) to ${config.kafka.topics.events}\n`);
    return 0;
  } finally {
    await producer.close();
  }
}

/** What one `emit` reads at most: an input past it is refused before any of it is parsed. */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** The input (a file, or stdin for `-`), refused once it passes `maxBytes`: a runaway pipe must not fill the memory. */
async function readBounded(file: string, maxBytes: number): Promise<Buffer> {
  const name = file === '-' ? 'stdin' : file;
  const source = file === '-' ? process.stdin : createReadStream(file);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        source.destroy();
        throw new CliError(`${name} is larger than ${maxBytes} bytes (--max-bytes); split it, or raise the bound`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read ${name}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return Buffer.concat(chunks, size);
}
