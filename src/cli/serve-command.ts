import { type Command, Option } from 'commander';
import type { Logger } from 'pino';
import { createServerLogger } from '../observability/logger.js';
import { ensureCertDir } from '../certs/cert-dir.js';
import { servingPairProblem, serviceNameProblem } from '../certs/check-serving.js';
import { CertificateReloader } from '../certs/reload.js';
import { SelfManagedCertificates } from '../certs/self-managed.js';
import { createKubeSelfManagedApi } from '../certs/self-managed-kube.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import { loadFileClusterView } from '../cluster/file-cluster-view.js';
import { WatchClusterView } from '../cluster/watch-cluster-view.js';
import { ConfigStore } from '../config/config-store.js';
import { clusterFailure } from '../kube/cluster-access.js';
import { resolveKubeConfig } from '../kube/kubeconfig.js';
import { trackCertificateExpiry } from '../observability/certificate-expiry.js';
import { createMetrics } from '../observability/metrics.js';
import { registerMemoryGauges } from '../observability/memory-gauges.js';
import { startWebhookServer, type WebhookServer } from '../server.js';
import type { RegisterCommand } from './commands.js';
import { usageError } from './exit-codes.js';
import { withExamples } from './help.js';
import { integerIn } from './option-parsers.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { electionTimingProblem } from '../reports/lease-elector.js';
import { DEFAULT_MAX_RESULTS, REPORT_API_NAMES, type ReportApi } from '../reports/report-objects.js';
import { startReportMode, type ReportMode, type ReportSettings } from '../reports/report-mode.js';

export interface ServeOptions {
  port: number;
  host: string;
  certDir: string;
  tlsMode: TlsMode;
  tlsSecret?: string;
  mutatingWebhookConfiguration?: string;
  validatingWebhookConfiguration?: string;
  config?: string;
  clusterState?: string;
  kubeconfig?: string;
  service: string;
  namespace: string;
  logLevel: string;
  staleAfterSeconds: number;
  tlsSyncSeconds: number;
  drainDelaySeconds: number;
  shutdownGraceSeconds: number;
  reports: boolean;
  reportsApi: ReportApi;
  reportsLeaseName?: string;
  reportsIdentity?: string;
  reportsLeaseDurationSeconds: number;
  reportsRenewDeadlineSeconds: number;
  reportsRetryPeriodSeconds: number;
  reportsDebounceSeconds: number;
  reportsResyncSeconds: number;
  reportsWritesPerSecond: number;
  reportsMaxResults: number;
}

const TLS_MODES = ['files', 'self-managed'] as const;
type TlsMode = (typeof TLS_MODES)[number];

interface TlsSource {
  readonly initial: { cert: string; key: string };
  /** Keeps the served certificate current once the server runs (telling `onCert` each new one); returns a stop function. */
  follow(server: WebhookServer, onCert: (cert: string) => void): () => void;
}

async function filesTls(options: ServeOptions, logger: Logger): Promise<TlsSource> {
  const tls = await ensureCertDir(options.certDir, { service: options.service, namespace: options.namespace });
  if (tls.generated) logger.info({ certDir: options.certDir }, 'generated a CA and serving certificate');
  const problem = servingPairProblem(tls, tls.paths, new Date());
  if (problem !== undefined) throw usageError(`--cert-dir: ${problem}`);
  // Not fatal: a webhook configured by URL (not Service) is verified against other names.
  const mismatch = serviceNameProblem(tls.cert, options.service, options.namespace, tls.paths.cert);
  if (mismatch !== undefined) logger.warn({ certDir: options.certDir }, `${mismatch}; set --service/--namespace to the Service it was issued for, or reissue it`);
  return {
    initial: { cert: tls.cert, key: tls.key },
    follow: (server, onCert) => {
      const reloader = new CertificateReloader(server.tlsServer, {
        initial: { cert: tls.cert, key: tls.key },
        onReload: (pems) => {
          onCert(pems.cert);
          logger.info({ certDir: options.certDir }, 'serving certificate reloaded');
        },
        onError: (error) => logger.warn({ reason: (error as Error).message }, 'certificate reload failed; still serving the previous one'),
      }).watchFiles({ certFile: tls.paths.cert, keyFile: tls.paths.key });
      return () => reloader.stop();
    },
  };
}

async function selfManagedTls(options: ServeOptions, logger: Logger): Promise<TlsSource> {
  const { kubeConfig, origin } = resolveKubeConfig(options.kubeconfig !== undefined ? { kubeconfigPath: options.kubeconfig } : {});
  let reloader: CertificateReloader | undefined;
  let served: (cert: string) => void = () => {};
  const certs = new SelfManagedCertificates({
    api: createKubeSelfManagedApi(kubeConfig),
    service: options.service,
    namespace: options.namespace,
    ...(options.tlsSecret ? { secretName: options.tlsSecret } : {}),
    webhookConfigurations: {
      ...(options.mutatingWebhookConfiguration ? { mutating: options.mutatingWebhookConfiguration } : {}),
      ...(options.validatingWebhookConfiguration ? { validating: options.validatingWebhookConfiguration } : {}),
    },
    onChange: (material) => {
      if (reloader?.update(material)) {
        served(material.cert);
        logger.info({ secret: certs.secretName }, 'serving certificate rotated');
      }
    },
    onError: (error) => logger.warn({ reason: (error as Error).message }, 'certificate sync failed; retrying'),
  });
  const initial = await certs.sync().catch((error: unknown) => {
    throw clusterFailure(error, kubeConfig, origin);
  });
  logger.info({ secret: `${options.namespace}/${certs.secretName}` }, 'serving certificate from the shared Secret');
  return {
    initial: { cert: initial.cert, key: initial.key },
    follow: (server, onCert) => {
      served = onCert;
      reloader = new CertificateReloader(server.tlsServer, { initial: { cert: initial.cert, key: initial.key } });
      certs.start({ intervalMs: options.tlsSyncSeconds * 1000 });
      return () => certs.stop();
    },
  };
}

async function clusterView(options: ServeOptions, logger: Logger, registry: import('prom-client').Registry): Promise<ClusterView> {
  if (options.clusterState !== undefined) {
    const view = await loadFileClusterView([options.clusterState]);
    logger.info({ clusterState: options.clusterState }, 'cluster view loaded from files');
    return view;
  }
  // A kubeconfig that is missing or unusable is a setup mistake: exit 3 now. Everything met on the way to
  // the API server (down, refused, RBAC or Istio CRDs not applied yet) may heal: retry, readyz false meanwhile.
  const { kubeConfig, origin } = resolveKubeConfig(options.kubeconfig !== undefined ? { kubeconfigPath: options.kubeconfig } : {});
  const server = kubeConfig.getCurrentCluster()?.server;
  let lastProblem: string | undefined;
  const view = WatchClusterView.startRetrying({
    kubeConfig,
    registry,
    staleAfterMs: options.staleAfterSeconds * 1000,
    onRestart: (resource, reason, error) => logger.warn({ resource, reason, error: error ? String(error) : undefined }, 'watch restarted'),
    onDiscoveryError: (error, attempt, retryInMs) => {
      const problem = clusterFailure(error, kubeConfig, origin).message;
      const fields = { server, kubeconfig: origin, context: kubeConfig.getCurrentContext(), attempt, retryInSeconds: retryInMs / 1000, problem };
      // The first failure and every change of cause at error level; repeats of the same one at warn.
      if (problem !== lastProblem) logger.error(fields, 'cannot use the cluster yet; retrying in the background, /readyz fails until the watches sync');
      else logger.warn(fields, 'still cannot use the cluster; retrying');
      lastProblem = problem;
    },
    onStarted: (sidecarVersion) => logger.info({ server, sidecarVersion }, 'watching Namespaces and Sidecars'),
  });
  return view;
}

/** The report mode's settings, or a usage error naming the flag (before anything starts). */
function reportSettings(options: ServeOptions): ReportSettings {
  if (options.clusterState !== undefined) throw usageError('--reports writes PolicyReports to a live cluster: drop --cluster-state (or --reports)');
  const problem = electionTimingProblem({
    leaseDurationMs: options.reportsLeaseDurationSeconds * 1000,
    renewDeadlineMs: options.reportsRenewDeadlineSeconds * 1000,
    retryPeriodMs: options.reportsRetryPeriodSeconds * 1000,
  });
  if (problem !== undefined) throw usageError(`--reports-lease-duration-seconds, --reports-renew-deadline-seconds, --reports-retry-period-seconds: ${problem}`);
  return {
    api: options.reportsApi,
    leaseNamespace: options.namespace,
    leaseName: options.reportsLeaseName ?? `${options.service}-reports`,
    // client-go's examples: the hostname (the pod name in a pod) and a unique suffix, so a restarted pod is a new candidate.
    identity: options.reportsIdentity ?? `${hostname()}_${randomUUID()}`,
    leaseDurationSeconds: options.reportsLeaseDurationSeconds,
    renewDeadlineSeconds: options.reportsRenewDeadlineSeconds,
    retryPeriodSeconds: options.reportsRetryPeriodSeconds,
    debounceSeconds: options.reportsDebounceSeconds,
    resyncSeconds: options.reportsResyncSeconds,
    writesPerSecond: options.reportsWritesPerSecond,
    maxResults: options.reportsMaxResults,
  };
}

/** `sidecar-guard serve`: the webhook over HTTPS. */
export async function serve(options: ServeOptions): Promise<void> {
  const settings = options.reports ? reportSettings(options) : undefined;
  const { logger, flush } = createServerLogger(options.logLevel);
  process.once('exit', flush);
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
    onNotice: (notice) => logger.warn({ file: options.config, notice }, 'configuration notice'),
  });
  configStore.watch();
  const view = await clusterView(options, logger, metrics.registry);
  registerMemoryGauges(metrics.registry, view, () => configStore.current());
  const tls = await (options.tlsMode === 'self-managed' ? selfManagedTls(options, logger) : filesTls(options, logger)).catch(async (error: unknown) => {
    await view.close(); // no retry loop or watch may keep a failed start alive
    throw error;
  });
  const server = await startWebhookServer({
    port: options.port,
    host: options.host,
    tls: tls.initial,
    configStore,
    view,
    metrics,
    logger,
    drainDelaySeconds: options.drainDelaySeconds,
    shutdownGraceSeconds: options.shutdownGraceSeconds,
  });
  let servedCert = tls.initial.cert;
  trackCertificateExpiry(metrics.registry, () => servedCert);
  const stopTls = tls.follow(server, (cert) => (servedCert = cert));
  let reports: ReportMode | undefined;
  if (settings !== undefined && view instanceof WatchClusterView) {
    reports = startReportMode({ kubeConfig: view.kubeConfig, view, config: () => configStore.current(), registry: metrics.registry, logger, settings });
  }
  logger.info({ url: server.url, mode: configStore.current().mode, config: options.config ?? 'built-in defaults', tlsMode: options.tlsMode }, 'sidecar-guard is serving');

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down: readyz fails now, in-flight requests finish');
    stopTls();
    // Reports first: stop writing and release the Lease, so another replica takes over at its next retry.
    const reportsStopped = reports?.stop().catch((error: unknown) => logger.warn({ reason: (error as Error).message }, 'reports: stopping failed'));
    void Promise.all([reportsStopped, server.shutdown()]).then(() => {
      logger.info('stopped');
      flush();
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

export const registerServeCommand: RegisterCommand = (program: Command) => {
  const env = process.env;
  const command = program
    .command('serve')
    .description('serve the validating (/validate) and mutating (/mutate) webhooks over HTTPS')
    .option('--port <port>', 'HTTPS port', integerIn(0, 65535), 8443)
    .option('--host <host>', 'address to listen on: loopback unless told (0.0.0.0 or :: for every interface, as in a pod)', env.SIDECAR_GUARD_HOST || '127.0.0.1')
    .addOption(
      new Option('--tls-mode <mode>', 'files: tls.crt/tls.key in --cert-dir (generated with a CA when absent), reloaded on change; self-managed: a shared Secret, caBundle patched')
        .choices(TLS_MODES)
        .default('files'),
    )
    .option('--cert-dir <dir>', 'directory of tls.crt/tls.key (and ca.crt)', 'certs')
    .option('--tls-secret <name>', 'self-managed: the Secret (default <service>-tls)', env.SIDECAR_GUARD_TLS_SECRET)
    .option('--mutating-webhook-configuration <name>', 'self-managed: whose caBundle to keep current', env.SIDECAR_GUARD_MUTATING_WEBHOOK_CONFIGURATION)
    .option('--validating-webhook-configuration <name>', 'self-managed: whose caBundle to keep current', env.SIDECAR_GUARD_VALIDATING_WEBHOOK_CONFIGURATION)
    .option('--config <file>', 'configuration YAML (reloaded on change); built-in defaults when absent')
    .option('--cluster-state <dir>', 'read Namespaces and Sidecars from YAML files instead of watching a cluster')
    .option('--kubeconfig <file>', 'kubeconfig (default: in-cluster service account, then KUBECONFIG or ~/.kube/config)')
    .option('--service <name>', 'Service name, for the certificate SANs', env.SIDECAR_GUARD_SERVICE ?? 'sidecar-guard')
    .option('--namespace <name>', 'namespace of the webhook', env.SIDECAR_GUARD_NAMESPACE ?? 'sidecar-guard')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .option('--tls-sync-seconds <n>', 'self-managed: seconds between checks of the shared Secret (renewal, rotation by another replica, caBundle)', integerIn(1, 86_400), 60)
    .option('--stale-after-seconds <n>', 'restart a watch silent for this long; the view counts as unsynced meanwhile', integerIn(10, 86_400), 300)
    .option('--drain-delay-seconds <n>', 'after SIGTERM, seconds /readyz fails before the listener closes', integerIn(0, 300), 5)
    .option('--shutdown-grace-seconds <n>', 'after SIGTERM, exit within this many seconds', integerIn(1, 600), 25)
    .option('--reports', 'write a PolicyReport per namespace and a cluster report from the audit, kept current (one replica writes, elected by a Lease)', false)
    .addOption(new Option('--reports-api <api>', 'wgpolicyk8s: wgpolicyk8s.io/v1alpha2 PolicyReport/ClusterPolicyReport; openreports: openreports.io/v1alpha1 Report/ClusterReport').choices(REPORT_API_NAMES).default('wgpolicyk8s'))
    .option('--reports-lease-name <name>', 'the coordination.k8s.io Lease in --namespace the replicas elect the writer by (default <service>-reports)', env.SIDECAR_GUARD_REPORTS_LEASE)
    .option('--reports-identity <id>', "this replica's identity in the Lease (default <hostname>_<uuid>)")
    .option('--reports-lease-duration-seconds <n>', 'a follower takes over a lease not renewed for this long', integerIn(1, 3600), 15)
    .option('--reports-renew-deadline-seconds <n>', 'the leader stops writing when it could not renew for this long', integerIn(1, 3600), 10)
    .option('--reports-retry-period-seconds <n>', 'seconds between lease attempts (and renewals)', integerIn(1, 3600), 2)
    .option('--reports-debounce-seconds <n>', 'after a change, wait this long for more before writing (at most 5x as long in a stream of changes)', integerIn(0, 600), 2)
    .option('--reports-resync-seconds <n>', 'a full pass this often without a change (workloads are listed, not watched)', integerIn(5, 86_400), 60)
    .option('--reports-writes-per-second <n>', 'report writes (create, update, delete) per second at most', integerIn(1, 1000), 5)
    .option('--reports-max-results <n>', 'results per report at most (failures and warnings kept first)', integerIn(1, 10_000), DEFAULT_MAX_RESULTS)
    .action(serve);
  withExamples(command, [
    'sidecar-guard serve --cluster-state examples/cluster        # local: port 8443, certificates generated in certs/',
    'sidecar-guard serve --kubeconfig ~/.kube/config --config sidecar-guard.yaml',
    'sidecar-guard serve --tls-mode self-managed                 # in a pod (the chart passes the names)',
    'sidecar-guard serve --kubeconfig ~/.kube/config --reports   # and keep PolicyReports current (wgpolicyk8s.io/v1alpha2)',
  ]);
};
