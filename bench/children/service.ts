/**
 * The whole service (src/service.ts: ingest, processor, views, connectors) with topics of its
 * own and one syslog connector at its defaults (CEF, RFC 5424, TCP octet-counted) into the
 * bench's timestamping receiver.
 */
import { parseConfig } from '../../src/config/load.js';
import { Secret } from '../../src/config/secret.js';
import { silentLogger } from '../../src/log.js';
import { startService } from '../../src/service.js';
import { begin, main, send } from './ipc.js';
import { apiToken, SCOPES } from '../../src/api/auth.js';

main(async () => {
  const { brokers, topics, groupPrefix, token, receiverPort } = await begin<{
    brokers: string[];
    topics: { events: string; enriched: string; hostState: string; dlq: string; byUser: string; userState: string; byWorkload: string; workloadState: string };
    groupPrefix: string;
    token: string;
    receiverPort: number;
  }>();
  const config = parseConfig(
    JSON.stringify({
      kafka: { brokers, topics, groupPrefix, partitions: 6, replicationFactor: 1 },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      connectors: [{ name: 'bench-syslog', type: 'syslog', options: { host: '127.0.0.1', port: receiverPort } }],
    }),
    '(bench)',
  );
  const service = await startService(config, {
    logger: silentLogger,
    tokens: [apiToken('bench', SCOPES, { token: new Secret(token, 'inline') })],
    onFatal: (error) => send({ type: 'error', message: `service gave up: ${error.message}` }),
  });
  send({ type: 'ready', url: service.url });
  return () => service.close();
});
