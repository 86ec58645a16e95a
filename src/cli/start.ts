import { apiToken, SCOPES, type ApiToken } from '../api/auth.js';
import type { Config } from '../config/schema.js';
import { devTokenFile, ensureDevToken } from '../embedded/dev-token.js';
import { startLocalKafka, stopLocalKafka, type LocalKafka } from '../embedded/local-kafka.js';
import { createLogger } from '../log.js';
import { startService } from '../service.js';
import { checkedConfig } from './check.js';
import { exitNow, lifecycle } from './lifecycle.js';
import { parseOptions } from './options.js';

/**
 * `trustwire start`: the service. With no brokers configured it is the embedded default: the
 * local Kafka broker is fetched and started first, and ingest takes the dev token.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    config: { type: 'string', default: process.env.TRUSTWIRE_CONFIG },
    'keep-broker': { type: 'boolean', default: false },
  });
  const config = await checkedConfig(values.config);
  const logger = createLogger(config.log.level);
  const say = (line: string) => process.stderr.write(`${line}\n`);

  let broker: LocalKafka | undefined;
  if (config.kafka.brokers.length === 0) {
    broker = await startLocalKafka({ onProgress: say });
    config.kafka.brokers = broker.brokers;
    config.kafka.replicationFactor ??= 1;
    say(`${broker.started ? 'started' : 'reusing'} the local Kafka broker at ${broker.brokers.join(',')} (log: ${broker.logFile})`);
  }
  const devToken = config.auth.tokens.length === 0 && config.ingest.tokens.length === 0;
  const tokens = devToken ? [apiToken('dev', SCOPES, { token: ensureDevToken() })] : configuredTokens(config);

  const life = lifecycle(logger, config.runtime.shutdownGraceMs, say);
  let service;
  try {
    service = await startService(config, { logger, tokens, onFatal: life.fatal });
  } catch (error) {
    // A service that cannot start exits non-zero, with the one reason; the broker it started goes too.
    say(`trustwire start: ${(error as Error).message}`);
    if (broker?.started && !values['keep-broker']) await stopLocalKafka();
    return exitNow(1);
  }
  say(banner(service.url, config.kafka.brokers, config.kafka.topics.events, devToken));

  const code = await life.run(async () => {
    await service.close();
    // The broker this command started goes with it, unless asked to stay for the next start.
    if (broker?.started && !values['keep-broker']) {
      await stopLocalKafka();
      say('stopped the local Kafka broker');
    }
  });
  return exitNow(code);
}

/** auth.tokens with their scopes, and the older ingest.tokens with the ingest scope alone. */
function configuredTokens(config: Config): ApiToken[] {
  return [
    ...config.auth.tokens.map((entry) => apiToken(entry.name, entry.scopes, entry.token !== undefined ? { token: entry.token } : { sha256: entry.sha256! })),
    ...config.ingest.tokens.map((entry) => apiToken(entry.name, ['ingest'], { token: entry.token })),
  ];
}

function banner(url: string, brokers: string[], topic: string, devToken: boolean): string {
  const auth = devToken ? `-H "Authorization: Bearer $(cat ${devTokenFile()})"` : '-H "Authorization: Bearer $TOKEN"';
  return [
    '',
    `trustwire is running`,
    `  HTTP API     ${url}   (health: ${url}/healthz)`,
    `  Kafka        ${brokers.join(',')}   events topic: ${topic}`,
    `  hosts        ${url}/v1/hosts   (trust, faults, tags and workloads of every host)`,
    '',
    'post a first event:',
    `  curl -sS ${auth} -H 'Content-Type: application/json' \\`,
    `       --data @examples/trust.change.json ${url}/v1/events`,
    'read it back:',
    `  npm run -s trustwire -- tail --limit 5`,
    '',
  ].join('\n');
}
