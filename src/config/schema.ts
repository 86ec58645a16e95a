import { z } from 'zod';
import { IntelSeclAdapterOptions } from '../ingest/adapters/intel-secl-hvs.js';
import { KeylimeAdapterOptions } from '../ingest/adapters/keylime.js';
import { ScoringModel } from '../compliance/models.js';
import { Waiver } from '../compliance/waivers.js';
import { ProcessorRules } from '../processor/state.js';
import { ConnectorInstanceSettings, RuntimeSettings } from '../runtime/settings.js';
import { authSettings } from '../api/auth.js';
import { SimulationSettings } from '../embedded/simulation.js';
import { DEFAULT_INGEST_LIMITS } from '../ingest/limits.js';
import { certificateField, privateKeyField } from './pem.js';
import { secretField } from './secret.js';

/**
 * The service's configuration: one YAML file, every option documented here. Unknown keys are
 * refused (a misspelt option must not be silently ignored). `baseDir` anchors relative paths.
 */
export function configSchema(baseDir: string) {
  const secret = secretField(() => baseDir);

  const topics = z
    .strictObject({
      events: z.string().min(1).default('trustwire.events').describe('raw events, validated at ingest, keyed by host id'),
      enriched: z.string().min(1).default('trustwire.enriched').describe('canonical enriched events the sinks consume'),
      hostState: z.string().min(1).default('trustwire.host-state').describe("compacted changelog of each host's state"),
      dlq: z.string().min(1).default('trustwire.dlq').describe('what could not be processed or delivered, with the reason'),
      byUser: z.string().min(1).default('trustwire.by-user').describe("internal: denied and failed admin actions, enriched, keyed by user id, for the fleet-wide per-user detections"),
      userState: z.string().min(1).default('trustwire.user-state').describe("internal: compacted changelog of each user's recent attempts (the by-user stage's state)"),
      byWorkload: z
        .string()
        .min(1)
        .default('trustwire.by-workload')
        .describe('internal: permitted placements keyed by VM id, hosts that became untrusted (to every partition) and each processor partition\'s progress, for the by-workload stage'),
      workloadState: z.string().min(1).default('trustwire.workload-state').describe("internal: compacted changelog of each VM's placements (the by-workload stage's state)"),
    })
    .prefault({});

  const kafka = z
    .strictObject({
      brokers: z
        .array(z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port'))
        .default([])
        .describe('bootstrap brokers; empty starts the embedded local broker (development only)'),
      clientId: z.string().min(1).default('trustwire'),
      groupPrefix: z
        .string()
        .regex(/^[A-Za-z0-9._-]+$/, 'must be letters, digits, ".", "_" or "-"')
        .default('trustwire')
        .describe('consumer groups are <prefix>-processor and <prefix>-sink-<name>: two deployments on one cluster need two prefixes'),
      ssl: z
        .strictObject({
          ca: z
            .preprocess(
              // A plain string is a path, as it always was; {file: PATH} and inline PEM as for every certificate.
              (value) => (typeof value === 'string' && !value.includes('-----BEGIN') ? { file: value } : value),
              certificateField(() => baseDir),
            )
            .optional()
            .describe('CA that signed the brokers’ certificates (PEM): a path, {file: PATH} or inline; read and checked at load; absent: the system CAs'),
          cert: certificateField(() => baseDir)
            .optional()
            .describe('client certificate chain (PEM) for brokers that require one (mutual TLS): inline or {file: PATH}'),
          key: privateKeyField(() => baseDir)
            .optional()
            .describe("the client certificate's private key (PEM), a secret: {file: PATH} or {env: NAME}"),
          rejectUnauthorized: z.boolean().default(true),
        })
        .superRefine((ssl, ctx) => {
          if ((ssl.cert === undefined) === (ssl.key === undefined)) return;
          const missing = ssl.cert === undefined ? 'cert' : 'key';
          ctx.addIssue({ code: 'custom', path: [missing], message: `missing: a client certificate and its key go together (${missing === 'cert' ? 'key' : 'cert'} is set)` });
        })
        .optional()
        .describe('TLS to the brokers; absent means plaintext'),
      sasl: z
        .strictObject({
          mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
          username: z.string().min(1),
          password: secret,
        })
        .optional(),
      topics,
      partitions: z.number().int().min(1).max(1000).default(6).describe('partitions of each topic trustwire creates'),
      replicationFactor: z
        .number()
        .int()
        .min(1)
        .optional()
        .describe('replicas of each topic trustwire creates; absent: 1 on the embedded broker, the broker default otherwise'),
    })
    .prefault({});

  const http = z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      bodyLimitBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024).describe('larger request bodies get 413'),
      maxEventsPerRequest: z.number().int().min(1).max(100_000).default(1000),
      maxNestingDepth: z
        .number()
        .int()
        .min(4)
        .max(256)
        .default(DEFAULT_INGEST_LIMITS.maxDepth)
        .describe('objects and arrays inside one another in a body (a Keylime msg/context counts apart); deeper is refused with 400 before anything recursive runs'),
      maxStringLength: z.number().int().min(256).default(DEFAULT_INGEST_LIMITS.maxStringLength).describe('characters of one string or key in a body; longer is refused with 400'),
      maxKeysPerObject: z.number().int().min(16).default(DEFAULT_INGEST_LIMITS.maxKeysPerObject).describe('keys of one object in a body; more is refused with 400'),
      ackTimeoutMs: z
        .number()
        .int()
        .min(100)
        .default(5000)
        .describe('how long ingest waits for Kafka to acknowledge a request before it answers 503 with Retry-After'),
      requestTimeoutMs: z
        .number()
        .int()
        .min(1000)
        .default(30_000)
        .describe('how long a request may take to arrive, headers and body: a body that never ends is answered 408 and closed'),
      tls: z
        .strictObject({
          cert: certificateField(() => baseDir).describe("the server's certificate chain (PEM): inline or {file: PATH}"),
          key: privateKeyField(() => baseDir).describe("the server certificate's private key (PEM), a secret: {file: PATH} or {env: NAME}"),
          clientCa: certificateField(() => baseDir)
            .optional()
            .describe('CA of client certificates (PEM): when set, every client must present a certificate it signed, beside its token'),
        })
        .optional()
        .describe('HTTPS for the API; absent: plain HTTP (keep it on loopback, or behind a proxy that terminates TLS)'),
    })
    .prefault({});

  const ingest = z
    .strictObject({
      tokens: z
        .array(z.strictObject({ name: z.string().min(1).describe('who holds the token; logged, the token never is'), token: secret }))
        .default([])
        .describe('ingest-only bearer tokens, as before auth.tokens: each gets the ingest scope; prefer auth.tokens'),
    })
    .prefault({});

  const adapters = z
    .strictObject({
      keylime: KeylimeAdapterOptions.optional().describe('POST /v1/adapters/keylime: Keylime verifier webhook notifications'),
      'intel-secl-hvs': IntelSeclAdapterOptions.optional().describe('POST /v1/adapters/intel-secl-hvs: Intel SecL HVS trust reports'),
    })
    .prefault({});

  const processor = ProcessorRules.extend({
    enabled: z.boolean().default(true).describe('run the processor inside `trustwire start`; off when processors run apart (`trustwire processor`)'),
  }).prefault({});

  const compliance = z
    .strictObject({
      templates: z
        .array(z.string().min(1))
        .default([])
        .describe('folders or files of hardening templates (YAML) beside the bundled ones in templates/'),
      bundled: z.boolean().default(true).describe('score against the bundled templates (esxi-8, linux-kvm)'),
      model: ScoringModel.optional().describe("scoring model for every template; absent: each template's own, else XCCDF default"),
      waivers: z.array(Waiver).default([]).describe('accepted exceptions: rule, host or pool, justification, expiry, approver'),
    })
    .prefault({});

  const embedded = z
    .strictObject({
      simulation: SimulationSettings.prefault({}).describe('a simulated trusted compute pool, played through ingest like real events'),
      localSinks: z
        .boolean()
        .default(true)
        .describe('file sinks under .trustwire/out/: siem-cef.log (CEF under RFC 5424 headers, as a SIEM collector files it) and events.jsonl (JSON lines)'),
    })
    .prefault({})
    .describe('what `trustwire start` adds on the embedded default (no kafka.brokers), so a first start shows the whole job; each switchable off');

  return z.strictObject({
    kafka,
    compliance,
    http,
    auth: authSettings(secret),
    ingest,
    adapters,
    processor,
    connectors: z
      .array(ConnectorInstanceSettings)
      .default([])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((connector, index) => {
          if (seen.has(connector.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `${connector.name} is used twice: names must be unique` });
          seen.add(connector.name);
        });
      })
      .describe('sink connectors, each in its own consumer group'),
    runtime: RuntimeSettings,
    embedded,
    log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  });
}

export type Config = z.infer<ReturnType<typeof configSchema>>;
export type KafkaSettings = Config['kafka'];

/**
 * The topic names, with an internal one that is missing (a configuration built in code with
 * an older set of topics) named after the group prefix, as Kafka Streams names its internal
 * topics after the application id: two deployments never share a stage's topics by accident.
 */
export function topicNames(kafka: KafkaSettings): KafkaSettings['topics'] {
  const { topics, groupPrefix } = kafka;
  return {
    ...topics,
    byUser: topics.byUser ?? `${groupPrefix}.by-user`,
    userState: topics.userState ?? `${groupPrefix}.user-state`,
    byWorkload: topics.byWorkload ?? `${groupPrefix}.by-workload`,
    workloadState: topics.workloadState ?? `${groupPrefix}.workload-state`,
  };
}
