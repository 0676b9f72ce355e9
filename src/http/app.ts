import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ClusterView } from '../cluster/cluster-view.js';
import type { Config } from '../config/types.js';
import type { WebhookMetrics } from '../observability/metrics.js';
import { errorHandler } from './error-handler.js';
import { registerAdmissionRoutes } from './routes/admission.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';

/** The same limit controller-runtime uses; the apiserver caps objects well below it. */
export const BODY_LIMIT_BYTES = 7 * 1024 * 1024;

export interface AppDependencies {
  /** The current configuration (it may be reloaded between requests). */
  readonly config: () => Config;
  readonly view: ClusterView;
  readonly metrics: WebhookMetrics;
  readonly now: () => Date;
  readonly readiness: () => { ready: boolean; reason?: string };
}

export interface AppOptions {
  readonly tls?: { key: string; cert: string };
  /** Pino options (or false); or an existing pino logger via `loggerInstance`. */
  readonly logger?: FastifyServerOptions['logger'];
  readonly loggerInstance?: FastifyBaseLogger;
}

/**
 * Builds the webhook's Fastify app without listening (tests use `inject` or listen on port 0).
 *
 * @example const app = buildApp(deps, { tls: { key, cert } }); await app.listen({ port: 8443 })
 */
export function buildApp(deps: AppDependencies, options: AppOptions = {}): FastifyInstance {
  const base = {
    bodyLimit: BODY_LIMIT_BYTES,
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: options.logger ?? false }),
    // One log line per decision (routes/admission.ts), not two per request.
    logController: new LogController({ disableRequestLogging: true }),
    // The apiserver keeps connections alive; idle ones are closed well after its own 90 s.
    keepAliveTimeout: 90_000,
    return503OnClosing: true,
  };
  // Both variants expose the same routing API; the union type just cannot express it.
  const app = (
    options.tls ? Fastify({ ...base, https: { key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2' } }) : Fastify(base)
  ) as unknown as FastifyInstance;
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: 'SG_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url}; use POST /validate or POST /mutate` });
  });
  registerAdmissionRoutes(app, deps);
  registerHealthRoutes(app, deps);
  registerMetricsRoute(app, deps);
  return app;
}
