/**
 * `npm run kafka -- start|stop|status|fetch [--nodes 3] [--sasl-ssl]`: the local broker by hand,
 * with `--nodes 3` the local three-node cluster for fault tests, with `--sasl-ssl` a broker that
 * requires SASL_SSL (SCRAM-SHA-512) of its clients, to try `kafka.ssl` and `kafka.sasl` on.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fetchKafka, localKafkaStatus, startLocalKafka, stopLocalKafka, type LocalKafkaOptions } from './kafka/broker.js';
import { saslSslHome } from './kafka/certificates.js';
import { CLUSTER_SIZE, localKafkaClusterStatus, startLocalKafkaCluster, stopLocalKafkaCluster } from './kafka/cluster.js';

const usage = `usage: npm run kafka -- start|stop|status|fetch [--nodes 1|${CLUSTER_SIZE}] [--sasl-ssl]`;
const progress = (line: string) => console.error(line);
/** A command line that means nothing: exit 2, as for any usage error. */
class UsageError extends Error {}

/** The SASL_SSL broker's one user; its password is made once and kept in a file beside its data. */
const SCRAM_USER = 'trustwire';
function scramPasswordFile(): string {
  const file = join(saslSslHome(), 'scram-password');
  if (!existsSync(file)) {
    mkdirSync(saslSslHome(), { recursive: true });
    // The broker learns its users when it formats its data, once: a password made later would not match.
    writeFileSync(file, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
  }
  return file;
}

try {
  const { positionals, values } = parseArgs({
    options: { nodes: { type: 'string', default: '1' }, 'sasl-ssl': { type: 'boolean', default: false } },
    allowPositionals: true,
  });
  const command = positionals[0] ?? 'status';
  const cluster = values.nodes === String(CLUSTER_SIZE);
  if (!cluster && values.nodes !== '1') throw new UsageError(`${usage} (got --nodes ${values.nodes})`);
  if (cluster && values['sasl-ssl']) throw new UsageError(`${usage} (--sasl-ssl is for a single broker)`);
  const single: LocalKafkaOptions = values['sasl-ssl']
    ? { saslSsl: { users: command === 'start' ? [{ name: SCRAM_USER, password: readFileSync(scramPasswordFile(), 'utf8').trim() }] : [] } }
    : {};
  switch (command) {
    case 'fetch':
      console.log(fetchKafka({ onProgress: progress }));
      break;
    case 'start':
      if (cluster) {
        const started = Date.now();
        const kafka = await startLocalKafkaCluster({ onProgress: progress });
        console.log(`${kafka.started ? `started in ${((Date.now() - started) / 1000).toFixed(1)} s` : 'already running'}: ${kafka.brokers.join(',')}`);
        for (const node of kafka.nodes) console.log(`  node ${node.id}: 127.0.0.1:${node.port} (pid ${node.pid}, log ${node.logFile})`);
      } else {
        const kafka = await startLocalKafka({ ...single, onProgress: progress });
        console.log(`${kafka.started ? 'started' : 'already running'}: ${kafka.brokers.join(',')} (pid ${kafka.pid}, log ${kafka.logFile})`);
        if (kafka.tls) {
          // The configuration to reach it; the password stays in its file.
          console.log(
            [
              'kafka:',
              `  brokers: [${kafka.brokers.join(', ')}]`,
              `  ssl: { ca: ${kafka.tls.caFile} }`,
              `  sasl: { mechanism: scram-sha-512, username: ${SCRAM_USER}, password: { file: ${scramPasswordFile()} } }`,
            ].join('\n'),
          );
        }
      }
      break;
    case 'stop':
      if (cluster) {
        const stopped = await stopLocalKafkaCluster();
        console.log(stopped.length > 0 ? `stopped node(s) ${stopped.join(',')}` : 'not running');
      } else {
        console.log((await stopLocalKafka(single)) ? 'stopped' : 'not running');
      }
      break;
    case 'status':
      console.log(JSON.stringify(cluster ? localKafkaClusterStatus() : localKafkaStatus(single), null, 2));
      break;
    default:
      throw new UsageError(`${usage} (got ${command})`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
}
