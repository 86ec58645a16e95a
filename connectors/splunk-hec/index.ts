/**
 * The HEC sink, composed as Vector's is: the request builder (request.ts) says what goes in each
 * request, the service (service.ts) sends them to one endpoint and answers for every event, and
 * this sink picks the endpoint (the runtime's EndpointPool) and holds what lives as long as the instance.
 */
import { randomUUID } from 'node:crypto';
import { defineConnector, SendError, type SendResult, type SinkConnector } from '../../src/runtime/contract.js';
import { EndpointPool } from '../../src/runtime/endpoints.js';
import { Scrubber } from '../../src/runtime/scrub.js';
import { AckPoller } from './acks.js';
import { HecEndpoint } from './client.js';
import { baseUrl, SplunkHecOptions } from './config.js';
import { createEncoder } from './encode.js';
import { HecService } from './service.js';

export default defineConnector({
  type: 'splunk-hec',
  summary: 'sends HEC event JSON to Splunk HTTP Event Collectors, round robin, with indexer acknowledgment',
  configSchema: SplunkHecOptions,
  // A health check runs inside the attempt that finds an endpoint back from its bench; an acknowledgment wait inside the attempt that posted.
  attemptWaits: (options) => ({ requestTimeoutMs: options.requestTimeoutMs, ...(options.ack && { ackTimeoutMs: options.ackTimeoutMs }) }),
  create: (options): SinkConnector => {
    const encode = createEncoder(options);
    // One request channel per connector instance: HEC keeps acknowledgments per channel.
    const channel = randomUUID();
    const headers = { authorization: `Splunk ${options.token.reveal()}`, 'x-splunk-request-channel': channel, 'user-agent': 'trustwire' };
    const scrubber = Scrubber.of(options);
    const endpoints = options.urls.map((url) => new HecEndpoint({ base: baseUrl(url), headers, compression: options.compression, tls: options.tls, scrubber }));
    const stopping = new AbortController();
    let pool: EndpointPool<HecEndpoint>;
    let pollers = new Map<HecEndpoint, AckPoller>();
    let service: HecService;
    return {
      async start(ctx) {
        pool = new EndpointPool(endpoints, { benchMs: options.benchMs, healthTimeoutMs: options.requestTimeoutMs, logger: ctx.logger, label: 'HEC endpoint', ...(ctx.now && { now: ctx.now }) });
        pollers = new Map(endpoints.map((endpoint) => [endpoint, new AckPoller(endpoint, options.ackPollMs, options.requestTimeoutMs, ctx.logger)]));
        service = new HecService(options, pool, pollers, ctx.logger);
        // An endpoint that is down now is benched, not a reason to refuse the connector: the retry loop waits for it.
        await pool.checkAll(stopping.signal);
        ctx.logger.info({ urls: endpoints.map((endpoint) => endpoint.shown), ack: options.ack, compression: options.compression, channel }, 'splunk-hec sink ready');
      },
      async send(batch, signal): Promise<SendResult> {
        const events = batch.map(encode);
        const picked = await pool.pick(signal);
        if ('waitMs' in picked) {
          const error = new SendError(`every HEC endpoint is left out after failing; the first comes back in ${picked.waitMs} ms`, true);
          return { kind: 'retry', retryAfterMs: picked.waitMs, error };
        }
        return service.send(picked.endpoint, events, signal);
      },
      async stop() {
        stopping.abort();
        for (const poller of pollers.values()) poller.stop();
        for (const endpoint of endpoints) endpoint.close();
      },
    };
  },
});
