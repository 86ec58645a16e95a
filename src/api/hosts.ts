import type { FastifyInstance } from 'fastify';
import type { HostStateView } from '../processor/host-view.js';
import { HttpError } from './errors.js';
import { needs } from './auth.js';

/** `GET /v1/hosts` (a summary per host, filterable) and `GET /v1/hosts/:id` (everything known). */
export async function hostRoutes(app: FastifyInstance, options: { view: HostStateView }): Promise<void> {
  app.get<{ Querystring: { trust?: string; pool?: string } }>('/v1/hosts', needs('read'), async (request) => {
    const { trust, pool } = request.query;
    const hosts = options.view
      .hosts()
      .filter((host) => (trust === undefined || host.trust.status === trust) && (pool === undefined || host.pool === pool))
      .map((host) => ({
        hostId: host.hostId,
        name: host.name,
        pool: host.pool,
        trust: { status: host.trust.status, since: host.trust.since, faultCount: host.trust.faults.length },
        compliance: host.compliance,
        assetTags: host.assetTags,
        workloads: host.workloads.length,
        updatedAt: host.updatedAt,
      }));
    return { hosts };
  });

  app.get<{ Params: { id: string } }>('/v1/hosts/:id', needs('read'), async (request) => {
    const host = options.view.host(request.params.id);
    if (host === undefined) throw new HttpError(404, `no host ${JSON.stringify(request.params.id)} is known`);
    const { recentChanges: _flips, ...trust } = host.trust;
    return { ...host, trust };
  });
}
