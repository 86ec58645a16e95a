import { apiToken, SCOPES, type ApiToken } from '../api/auth.js';
import type { Config } from '../config/schema.js';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Secret } from '../config/secret.js';
import { devTokenFile, ensureDevToken } from '../embedded/dev-token.js';
import { startLocalKafka, stopLocalKafka, type LocalKafka } from '../../scripts/kafka/broker.js';
import { trustwireHome } from '../embedded/paths.js';
import { startSimulation, type RunningSimulation } from '../embedded/simulation.js';
import { ConnectorInstanceSettings } from '../runtime/settings.js';
import { createLogger } from '../log.js';
import { startService } from '../service.js';
import { checkedConfig } from './check.js';
import { exitNow, lifecycle } from './lifecycle.js';
import { parseOptions } from './options.js';

/**
 * `trustwire start`: the service. With no brokers configured it is the embedded default: the
 * local Kafka broker is fetched and started first, the API takes the dev token, local file
 * sinks write what a SIEM would receive, and a simulated pool plays through ingest (each of
 * these switchable off under `embedded`).
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
  const embedded = broker !== undefined;
  const localSinks = embedded && config.embedded.localSinks ? addLocalSinks(config) : [];
  // The simulation posts through ingest like any reporter, with a token of its own that lives in memory only.
  const simulationToken = randomBytes(32).toString('base64url');
  const simulate = embedded && config.embedded.simulation.enabled;
  if (simulate) tokens.push(apiToken('simulation', ['ingest'], { token: new Secret(simulationToken, 'generated') }));

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
  const simulation: RunningSimulation | undefined = simulate
    ? startSimulation({ url: service.url, token: simulationToken, settings: config.embedded.simulation, logger })
    : undefined;
  say(banner({ url: service.url, brokers: config.kafka.brokers, topic: config.kafka.topics.events, devToken, localSinks, simulation: simulate, embedded }));

  const code = await life.run(async () => {
    await simulation?.stop();
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

/** The embedded default's file sinks, added to the configured connectors: what a SIEM would receive, on disk. */
function addLocalSinks(config: Config): Array<{ name: string; path: string; what: string }> {
  const out = join(trustwireHome(), 'out');
  const sinks = [
    { name: 'local-siem', path: join(out, 'siem-cef.log'), format: 'syslog-cef', what: 'the SIEM feed (CEF over RFC 5424 syslog)' },
    { name: 'local-json', path: join(out, 'events.jsonl'), format: 'json', what: 'every enriched event (JSON lines)' },
  ].filter((sink) => !config.connectors.some((c) => c.name === sink.name));
  for (const sink of sinks) config.connectors.push(ConnectorInstanceSettings.parse({ name: sink.name, type: 'file', options: { path: sink.path, format: sink.format } }));
  return sinks;
}

interface BannerFacts {
  url: string;
  brokers: string[];
  topic: string;
  devToken: boolean;
  localSinks: ReadonlyArray<{ path: string; what: string }>;
  simulation: boolean;
  embedded: boolean;
}

function banner({ url, brokers, topic, devToken, localSinks, simulation, embedded }: BannerFacts): string {
  const auth = devToken ? `-H "Authorization: Bearer $(cat ${devTokenFile()})"` : '-H "Authorization: Bearer $TOKEN"';
  return [
    '',
    `trustwire is running`,
    `  dashboard    ${url}/   (log in with ${devToken ? `the token in ${devTokenFile()}` : 'a token with the read scope'})`,
    `  HTTP API     ${url}   (health: ${url}/healthz)`,
    `  Kafka        ${brokers.join(',')}   events topic: ${topic}`,
    `  hosts        ${url}/v1/hosts   (trust, faults, tags and workloads of every host)`,
    ...localSinks.map((sink) => `  written to   ${sink.path}   (${sink.what})`),
    ...(simulation
      ? ['', 'a simulated trusted compute pool is playing through ingest; to turn it off, start with a', 'configuration file holding:  embedded: { simulation: { enabled: false } }']
      : embedded
        ? ['', 'the simulated pool is off (embedded.simulation.enabled: false)']
        : []),
    '',
    'post a first event:',
    `  curl -sS ${auth} -H 'Content-Type: application/json' \\`,
    `       --data @examples/trust.change.json ${url}/v1/events`,
    'read it back:',
    `  npm run -s trustwire -- tail --limit 5`,
    '',
  ].join('\n');
}
