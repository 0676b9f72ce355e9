import type { Command } from 'commander';
import { pino } from 'pino';
import { ensureCertDir } from '../certs/cert-dir.js';
import { CertificateReloader } from '../certs/reload.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import { loadFileClusterView } from '../cluster/file-cluster-view.js';
import { ConfigStore } from '../config/config-store.js';
import { createMetrics } from '../observability/metrics.js';
import { startWebhookServer } from '../server.js';
import type { RegisterCommand } from './commands.js';

export interface ServeOptions {
  port: string;
  host: string;
  certDir: string;
  config?: string;
  clusterState?: string;
  service: string;
  namespace: string;
  logLevel: string;
  drainDelaySeconds: string;
  shutdownGraceSeconds: string;
}

function integer(value: string, flag: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) throw new Error(`${flag} must be an integer from ${min} to ${max}, got "${value}"`);
  return parsed;
}

/** `sidecar-guard serve`: the webhook over HTTPS. */
export async function serve(options: ServeOptions): Promise<void> {
  const logger = pino({ level: options.logLevel, name: 'sidecar-guard' });
  const port = integer(options.port, '--port', 0, 65535);
  const metrics = createMetrics();
  const configStore = await ConfigStore.open(options.config, {
    onReload: () => {
      metrics.configReloads.inc({ result: 'applied' });
      logger.info({ file: options.config }, 'configuration reloaded');
    },
    onReject: (error) => {
      metrics.configReloads.inc({ result: 'rejected' });
      logger.error({ file: options.config, reason: error.message }, 'configuration rejected; keeping the last good one');
    },
  });
  configStore.watch();

  let view: ClusterView;
  if (options.clusterState !== undefined) {
    view = await loadFileClusterView([options.clusterState]);
    logger.info({ clusterState: options.clusterState }, 'cluster view loaded from files');
  } else {
    const { startLiveClusterView } = await import('./live-cluster.js');
    view = await startLiveClusterView({ registry: metrics.registry, logger });
  }

  const tls = await ensureCertDir(options.certDir, { service: options.service, namespace: options.namespace });
  if (tls.generated) logger.info({ certDir: options.certDir }, 'generated a CA and serving certificate');
  const server = await startWebhookServer({
    port,
    host: options.host,
    tls: { key: tls.key, cert: tls.cert },
    configStore,
    view,
    metrics,
    logger,
    drainDelaySeconds: integer(options.drainDelaySeconds, '--drain-delay-seconds', 0, 300),
    shutdownGraceSeconds: integer(options.shutdownGraceSeconds, '--shutdown-grace-seconds', 1, 600),
  });
  const reloader = new CertificateReloader(server.tlsServer, {
    initial: { cert: tls.cert, key: tls.key },
    onReload: () => logger.info({ certDir: options.certDir }, 'serving certificate reloaded'),
    onError: (error) => logger.warn({ reason: (error as Error).message }, 'certificate reload failed; still serving the previous one'),
  }).watchFiles({ certFile: tls.paths.cert, keyFile: tls.paths.key });
  logger.info({ url: server.url, mode: configStore.current().mode, config: options.config ?? 'built-in defaults' }, 'sidecar-guard is serving');

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down: readyz fails now, in-flight requests finish');
    reloader.stop();
    void server.shutdown().then(() => logger.info('stopped'));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

export const registerServeCommand: RegisterCommand = (program: Command) => {
  program
    .command('serve')
    .description('serve the validating (/validate) and mutating (/mutate) webhooks over HTTPS')
    .option('--port <port>', 'HTTPS port', '8443')
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--cert-dir <dir>', 'tls.crt/tls.key (generated with a CA when absent)', 'certs')
    .option('--config <file>', 'configuration YAML (reloaded on change); built-in defaults when absent')
    .option('--cluster-state <dir>', 'read Namespaces and Sidecars from YAML files instead of a live cluster')
    .option('--service <name>', 'Service name, for the certificate SANs', 'sidecar-guard')
    .option('--namespace <name>', 'namespace of the webhook, for the certificate SANs', 'sidecar-guard')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--drain-delay-seconds <n>', 'after SIGTERM, seconds /readyz fails before the listener closes', '5')
    .option('--shutdown-grace-seconds <n>', 'after SIGTERM, exit within this many seconds', '25')
    .action(serve);
};
