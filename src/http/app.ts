import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { ClusterView } from '../cluster/cluster-view.js';
import type { Config } from '../config/types.js';
import type { WebhookMetrics } from '../observability/metrics.js';
import { createErrorHandler } from './error-handler.js';
import { registerAdmissionRoutes } from './routes/admission.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';

/**
 * The largest body we read. An UPDATE review carries the object and its old version; etcd caps a
 * stored object at 1.5 MiB (--max-request-bytes) and its JSON form can be about twice its
 * protobuf size, so a real review stays under ~6 MiB. 7 MiB is controller-runtime's limit too.
 */
export const BODY_LIMIT_BYTES = 7 * 1024 * 1024;

/**
 * Slow or stalled bodies are cut off well inside the API server's webhook timeout (1-30 s, the
 * chart's is 5 s): a request must deliver its headers within 5 s and all of it within 10 s, and
 * Node checks every second (its default is 30 s). Idle keep-alive connections are not affected.
 */
export const DEFAULT_LIMITS = { requestTimeoutMs: 10_000, headersTimeoutMs: 5_000, checkIntervalMs: 1_000, maxConnections: 1024 } as const;
export type ConnectionLimits = { readonly [K in keyof typeof DEFAULT_LIMITS]: number };

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
  /** Timeouts and the connection cap that keep slow or many clients from exhausting memory. */
  readonly limits?: ConnectionLimits;
}

/**
 * Builds the webhook's Fastify app without listening (tests use `inject` or listen on port 0).
 *
 * @example const app = buildApp(deps, { tls: { key, cert } }); await app.listen({ port: 8443 })
 */
export function buildApp(deps: AppDependencies, options: AppOptions = {}): FastifyInstance {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const serverTimeouts = {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  };
  const base = {
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: limits.requestTimeoutMs,
    ...(options.loggerInstance ? { loggerInstance: options.loggerInstance } : { logger: options.logger ?? false }),
    // One log line per decision (routes/admission.ts), not two per request.
    logController: new LogController({ disableRequestLogging: true }),
    // The apiserver keeps connections alive; idle ones are closed well after its own 90 s.
    keepAliveTimeout: 90_000,
    return503OnClosing: true,
  };
  // Both variants expose the same routing API; the union type just cannot express it.
  const app = (
    options.tls ? Fastify({ ...base, https: { key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2', ...serverTimeouts } }) : Fastify(base)
  ) as unknown as FastifyInstance;
  app.server.headersTimeout = limits.headersTimeoutMs;
  app.server.maxConnections = limits.maxConnections;
  app.setErrorHandler(createErrorHandler(deps.metrics));
  // Only JSON is an AdmissionReview: without this, text/plain bodies reach the decoder as strings (400, not 415).
  app.removeContentTypeParser('text/plain');
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: 'SG_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url}; use POST /validate or POST /mutate` });
  });
  registerAdmissionRoutes(app, deps);
  registerHealthRoutes(app, deps);
  registerMetricsRoute(app, deps);
  return app;
}
