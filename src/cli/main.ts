/** The `trustwire` command. Each sub-command lives in its own module and is loaded on use. */
import { CliError } from './errors.js';

const USAGE = `usage: trustwire <command> [options]

commands:
  start [--config FILE] [--keep-broker]
        run the service; without configured brokers, start the local Kafka broker first
  emit [FILE|-] [--format json|ndjson|auto] [--max-bytes N] [--config FILE] [--brokers HOST:PORT,...]
        validate events (JSON, a JSON array or NDJSON; stdin when no FILE; at most 64 MiB) and produce them
  emit [FILE|-] --from keylime|intel-secl-hvs [...]
        the same from an attestation service's own document (a Keylime webhook body, HVS reports)
  processor [--config FILE] [--brokers HOST:PORT,...]
        run one processor worker (more of them share the partitions)
  connect [--config FILE] [--brokers HOST:PORT,...]
        run the configured sink connectors only (more workers share their partitions)
  dlq list [--connector NAME] [--since TIME] [--limit N]
        what was dead-lettered, where it came from and why (JSON lines)
  dlq replay --connector NAME [--since TIME]
        re-drive a connector's dead letters through it once more, after a fix
  score [--template ID] [--templates DIR|FILE] [--trust STATUS] [--model M] [--json] SNAPSHOT.json
        score a config snapshot against hardening templates, offline (for template authors)
  report [--format json|csv|html|avro] [--out FILE] [--template ID] [--pool P] [--since TIME]
        the compliance report from the assessments on the enriched topic
  config check FILE
        validate a configuration file without starting anything
  tail [--topic NAME] [--limit N] [--config FILE] [--brokers HOST:PORT,...]
        print the events of a trustwire topic (default trustwire.events) as JSON lines
`;

const commands: Record<string, () => Promise<{ run(args: string[]): Promise<number> }>> = {
  start: () => import('./start.js'),
  emit: () => import('./emit.js'),
  config: () => import('./config-check.js'),
  tail: () => import('./tail.js'),
  processor: () => import('./processor.js'),
  connect: () => import('./connect.js'),
  dlq: () => import('./dlq.js'),
  score: () => import('./score.js'),
  report: () => import('./report.js'),
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    process.stderr.write(`trustwire: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load()).run(args);
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`trustwire ${name}: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`trustwire ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

// `trustwire ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
