import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Server as HttpsServer } from 'node:https';
import type { ClusterView } from './cluster/cluster-view.js';
import type { ConfigStore } from './config/config-store.js';
import { buildApp, type ConnectionLimits } from './http/app.js';
import type { WebhookMetrics } from './observability/metrics.js';

export interface WebhookServerOptions {
  readonly port: number;
  /** Loopback unless told: a local run should not listen on every interface. */
  readonly host?: string;
  readonly tls: { key: string; cert: string };
  readonly configStore: ConfigStore;
  readonly view: ClusterView;
  readonly metrics: WebhookMetrics;
  readonly logger?: FastifyBaseLogger;
  readonly now?: () => Date;
  /** Seconds between SIGTERM (readyz fails) and closing the listener, so endpoints drop us first. */
  readonly drainDelaySeconds?: number;
  /** Hard bound on shutdown: the process exits by then whatever is in flight. */
  readonly shutdownGraceSeconds?: number;
  /** Request timeouts and the connection cap; the defaults suit the API server's webhook timeout. */
  readonly limits?: ConnectionLimits;
}

export interface WebhookServer {
  readonly app: FastifyInstance;
  /** `https://host:port` actually bound (port 0 picks a free one). */
  readonly url: string;
  /** The underlying HTTPS server, for `setSecureContext` on certificate rotation. */
  readonly tlsServer: HttpsServer;
  /** Fails /readyz at once, waits the drain delay, then lets in-flight requests finish and closes. */
  shutdown(): Promise<void>;
}

/** Starts the HTTPS webhook on an already assembled config store and cluster view. */
export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  let draining = false;
  const app = buildApp(
    {
      config: () => options.configStore.current(),
      view: options.view,
      metrics: options.metrics,
      now: options.now ?? (() => new Date()),
      readiness: () => {
        if (draining) return { ready: false, reason: 'shutting down' };
        if (!options.view.isSynced()) return { ready: false, reason: 'cluster view not synced' };
        return { ready: true };
      },
    },
    { tls: options.tls, ...(options.logger !== undefined ? { loggerInstance: options.logger } : {}), ...(options.limits ? { limits: options.limits } : {}) },
  );
  app.server.on('secureConnection', () => options.metrics.tlsConnections.inc());
  const address = await app.listen({ port: options.port, host: options.host ?? '127.0.0.1' });
  const url = address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');

  let closing: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    closing ??= (async () => {
      draining = true;
      const graceMs = (options.shutdownGraceSeconds ?? 25) * 1000;
      const hardStop = setTimeout(() => app.server.closeAllConnections?.(), graceMs);
      hardStop.unref();
      await new Promise((resolve) => setTimeout(resolve, (options.drainDelaySeconds ?? 0) * 1000).unref());
      await app.close();
      clearTimeout(hardStop);
      options.configStore.close();
      await options.view.close();
    })();
    return closing;
  };
  return { app, url, tlsServer: app.server as unknown as HttpsServer, shutdown };
}
