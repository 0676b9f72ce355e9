import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { WatchClusterView } from '../cluster/watch-cluster-view.js';
import type { Config } from '../config/types.js';
import { describeApiError } from '../kube/api-error.js';
import { createKubeLeaseClient } from './lease-client.js';
import { LeaderElector } from './lease-elector.js';
import { buildReports, REPORT_APIS, type ReportApi } from './report-objects.js';
import { ReportLoop } from './report-loop.js';
import { createReportMetrics } from './report-metrics.js';
import { liveAuditSource } from './report-source.js';
import { createKubeReportStore } from './report-store.js';
import { ReportWriter } from './report-writer.js';

export interface ReportSettings {
  readonly api: ReportApi;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  readonly debounceSeconds: number;
  readonly resyncSeconds: number;
  readonly writesPerSecond: number;
  readonly maxResults: number;
}

export interface ReportMode {
  /** Stops writing (a pass in flight ends before its next write), then releases the Lease. */
  stop(): Promise<void>;
}

/**
 * `serve --reports`: every replica campaigns for the Lease; the leader keeps one report per
 * namespace and a cluster report current from the server's cluster view (see docs/policy-reports.md).
 */
export function startReportMode(options: {
  kubeConfig: KubeConfig;
  view: WatchClusterView;
  config: () => Config;
  registry: Registry;
  logger: Logger;
  settings: ReportSettings;
}): ReportMode {
  const { kubeConfig, view, logger, settings } = options;
  const metrics = createReportMetrics(options.registry);
  const lease = `${settings.leaseNamespace}/${settings.leaseName}`;
  const api = REPORT_APIS[settings.api];
  let loop: ReportLoop | undefined;
  let lastError = '';
  const elector = new LeaderElector({
    client: createKubeLeaseClient(kubeConfig, settings.leaseNamespace, settings.leaseName),
    identity: settings.identity,
    leaseDurationMs: settings.leaseDurationSeconds * 1000,
    renewDeadlineMs: settings.renewDeadlineSeconds * 1000,
    retryPeriodMs: settings.retryPeriodSeconds * 1000,
    onStartedLeading: () => {
      metrics.leader.set(1);
      logger.info({ lease, identity: settings.identity }, 'reports: became the leader; writing every report from this replica\'s view');
      loop?.leadershipStarted();
    },
    onStoppedLeading: (reason) => {
      metrics.leader.set(0);
      if (reason === 'lost') logger.warn({ lease, identity: settings.identity }, 'reports: lost the lease (no renewal within the renew deadline, or another holder); no longer writing');
      else logger.info({ lease, identity: settings.identity }, 'reports: released the lease');
    },
    onNewLeader: (holder) => logger.info({ lease, leader: holder === '' ? '(none: released)' : holder, self: holder === settings.identity }, 'reports: leader observed'),
    onError: (error) => {
      const problem = describeApiError(error);
      // The first failure and every change of cause at warn, repeats at debug (a follower retries every period).
      if (problem !== lastError) logger.warn({ lease, problem }, 'reports: cannot read or write the lease; retrying');
      else logger.debug({ lease, problem }, 'reports: lease still failing');
      lastError = problem;
    },
  });
  const writer = new ReportWriter({
    store: createKubeReportStore(kubeConfig, settings.api),
    writesPerSecond: settings.writesPerSecond,
    canWrite: () => loop?.stopping === false && elector.isLeader(),
    onWrite: (operation) => metrics.written.inc({ operation }),
    onError: (operation, report, error) => {
      metrics.errors.inc({ operation });
      const target = report ? `${report.namespace ? `${report.namespace}/` : ''}${report.name}` : `${api.plural}.${api.group}`;
      logger.warn({ operation, report: target, problem: describeApiError(error) }, `reports: cannot write ${api.kind} ${target}; check that the ${api.group} CRDs are installed and the chart's reports RBAC is applied`);
    },
  });
  loop = new ReportLoop({
    audit: liveAuditSource({ kubeConfig, view, config: options.config }),
    build: (report, now) => {
      const { namespaced, cluster } = buildReports(report, { api: settings.api, now, sidecarVersion: view.sidecarVersion ?? 'v1', maxResults: settings.maxResults });
      return [...namespaced, cluster];
    },
    writer,
    isLeader: () => elector.isLeader(),
    debounceMs: settings.debounceSeconds * 1000,
    maxDelayMs: settings.debounceSeconds * 5000,
    resyncMs: settings.resyncSeconds * 1000,
    onPass: (result, report) => {
      metrics.passes.inc();
      const wrote = result.created + result.updated + result.deleted;
      logger[wrote > 0 || result.failed > 0 ? 'info' : 'debug'](
        { ...result, namespaces: report.summary.namespaces, workloads: report.summary.workloads },
        `reports: ${api.kind} pass done`,
      );
    },
    onError: (error) => {
      metrics.errors.inc({ operation: 'audit' });
      logger.warn({ problem: describeApiError(error) }, "reports: cannot audit the cluster (listing workloads failed); retrying at the next change or resync; grant list on the workload kinds (the chart's reports ClusterRole does)");
    },
  });
  const unsubscribe = view.onChange(() => loop?.trigger());
  loop.start();
  elector.start();
  logger.info({ lease, identity: settings.identity, api: `${api.group}/${api.version}` }, 'reports: campaigning for the lease');
  return {
    async stop() {
      unsubscribe();
      await loop?.stop();
      await elector.stop();
    },
  };
}
