/** `npm run kafka -- start|stop|status|fetch`: the local broker by hand. */
import { fetchKafka, localKafkaStatus, startLocalKafka, stopLocalKafka } from '../src/embedded/local-kafka.js';

const command = process.argv[2] ?? 'status';
const progress = (line: string) => console.error(line);

try {
  switch (command) {
    case 'fetch':
      console.log(fetchKafka({ onProgress: progress }));
      break;
    case 'start': {
      const kafka = await startLocalKafka({ onProgress: progress });
      console.log(`${kafka.started ? 'started' : 'already running'}: ${kafka.brokers.join(',')} (pid ${kafka.pid}, log ${kafka.logFile})`);
      break;
    }
    case 'stop':
      console.log((await stopLocalKafka()) ? 'stopped' : 'not running');
      break;
    case 'status':
      console.log(JSON.stringify(localKafkaStatus(), null, 2));
      break;
    default:
      console.error(`usage: npm run kafka -- start|stop|status|fetch (got ${command})`);
      process.exitCode = 2;
  }
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
