import { readFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { loadConfig } from '../config/load.js';
import { ADAPTER_NAMES, adapt, type AdapterName } from '../ingest/adapters/registry.js';
import { parseBody, parseJsonDocument, type BodyFormat, type BodyItem } from '../ingest/body.js';
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
  });
  const format = values.format as BodyFormat;
  if (!['json', 'ndjson', 'auto'].includes(format)) throw new CliError(`--format must be json, ndjson or auto, got ${values.format}`, 2);
  const from = values.from as AdapterName | undefined;
  if (from !== undefined && !ADAPTER_NAMES.includes(from)) throw new CliError(`--from must be one of ${ADAPTER_NAMES.join(', ')}, got ${from}`, 2);
  if (positionals.length > 1) throw new CliError('emit takes one FILE (or - for stdin)', 2);
  const file = positionals[0] ?? '-';
  const input = file === '-' ? await text(process.stdin) : readInput(file);

  const config = loadConfig(values.config);
  let items: BodyItem[];
  try {
    // --from: the input is an attestation service's own document, turned into trust.change events.
    items = from === undefined ? parseBody(input, format) : adapt(from, parseJsonDocument(input), config.adapters).map((value) => ({ value }));
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

function readInput(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}
