import type { FastifyInstance } from 'fastify';
import type { AppDependencies } from '../app.js';

/** GET /metrics in the Prometheus text format. */
export function registerMetricsRoute(app: FastifyInstance, deps: AppDependencies): void {
  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
