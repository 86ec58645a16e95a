import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ConnectorHost } from '../runtime/host.js';
import { needs } from './auth.js';

/** `GET /v1/connectors` (each connector's state, counts and lag) and `GET /metrics` (Prometheus). */
export async function connectorRoutes(app: FastifyInstance, options: { host: ConnectorHost; registry: Registry }): Promise<void> {
  app.get('/v1/connectors', needs('read'), async () => ({ connectors: options.host.statuses() }));
  app.get('/metrics', needs('read'), async (_request, reply) => {
    const text = await options.registry.metrics();
    return reply.type(options.registry.contentType).send(text);
  });
}
