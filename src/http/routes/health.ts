import type { FastifyInstance } from 'fastify';
import type { AppDependencies } from '../app.js';

/** GET /healthz (the process answers), GET /readyz (the view is synced and we are not draining). */
export function registerHealthRoutes(app: FastifyInstance, deps: AppDependencies): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = deps.readiness();
    if (readiness.ready) return { status: 'ready' };
    return reply.code(503).send({ status: 'not ready', reason: readiness.reason });
  });
}
