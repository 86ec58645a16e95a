/**
 * `npm run kafka -- start|stop|status|fetch [--nodes 3]`: the local broker by hand, or with
 * `--nodes 3` the local three-node cluster for fault tests.
 */
import { parseArgs } from 'node:util';
import {
  CLUSTER_SIZE,
  fetchKafka,
  localKafkaClusterStatus,
  localKafkaStatus,
  startLocalKafka,
  startLocalKafkaCluster,
  stopLocalKafka,
  stopLocalKafkaCluster,
} from '../src/embedded/local-kafka.js';

const usage = `usage: npm run kafka -- start|stop|status|fetch [--nodes 1|${CLUSTER_SIZE}]`;
const progress = (line: string) => console.error(line);
/** A command line that means nothing: exit 2, as for any usage error. */
class UsageError extends Error {}

try {
  const { positionals, values } = parseArgs({ options: { nodes: { type: 'string', default: '1' } }, allowPositionals: true });
  const command = positionals[0] ?? 'status';
  const cluster = values.nodes === String(CLUSTER_SIZE);
  if (!cluster && values.nodes !== '1') throw new UsageError(`${usage} (got --nodes ${values.nodes})`);
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
        const kafka = await startLocalKafka({ onProgress: progress });
        console.log(`${kafka.started ? 'started' : 'already running'}: ${kafka.brokers.join(',')} (pid ${kafka.pid}, log ${kafka.logFile})`);
      }
      break;
    case 'stop':
      if (cluster) {
        const stopped = await stopLocalKafkaCluster();
        console.log(stopped.length > 0 ? `stopped node(s) ${stopped.join(',')}` : 'not running');
      } else {
        console.log((await stopLocalKafka()) ? 'stopped' : 'not running');
      }
      break;
    case 'status':
      console.log(JSON.stringify(cluster ? localKafkaClusterStatus() : localKafkaStatus(), null, 2));
      break;
    default:
      throw new UsageError(`${usage} (got ${command})`);
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
}
