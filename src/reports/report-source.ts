import type { KubeConfig } from '@kubernetes/client-node';
import { auditCluster, type AuditReport } from '../audit/audit.js';
import { listLiveWorkloads } from '../audit/live.js';
import type { WatchClusterView } from '../cluster/watch-cluster-view.js';
import type { Config } from '../config/types.js';

export interface LiveAuditSourceOptions {
  readonly kubeConfig: KubeConfig;
  /** The cluster view `serve` keeps: Namespaces, Sidecars and the service catalog. */
  readonly view: Pick<WatchClusterView, 'isSynced' | 'catalog' | 'namespaceNames' | 'namespace' | 'sidecars' | 'optedInPods' | 'close'>;
  readonly config: () => Config;
  readonly pageSize?: number;
  /** How long after the view synced to wait for the service catalog before auditing without predictions. */
  readonly catalogGraceMs?: number;
  readonly now?: () => number;
}

/**
 * The audit the reports are built from: `auditCluster`, the code `audit` runs, over the server's
 * own cluster view (Namespaces, Sidecars, catalog) and the workloads `audit` lists
 * (`listLiveWorkloads`, read per pass: controllers and pods are not watched). Undefined while the
 * view is not synced, so a report never says less than the cluster holds.
 */
export function liveAuditSource(options: LiveAuditSourceOptions): (now: Date) => Promise<AuditReport | undefined> {
  const clock = options.now ?? Date.now;
  let syncedSince: number | undefined;
  return async (now) => {
    if (!options.view.isSynced()) {
      syncedSince = undefined;
      return undefined;
    }
    syncedSince ??= clock();
    if (options.view.catalog() === undefined && clock() - syncedSince < (options.catalogGraceMs ?? 30_000)) return undefined;
    const { workloads, runningPods } = await listLiveWorkloads(options.kubeConfig, { ...(options.pageSize ? { pageSize: options.pageSize } : {}) });
    return auditCluster({ workloads, view: options.view, namespaces: options.view.namespaceNames(), config: options.config(), now, runningPods });
  };
}
