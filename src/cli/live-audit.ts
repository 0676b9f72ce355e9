import { CustomObjectsApi } from '@kubernetes/client-node';
import type { AuditReport } from '../audit/audit.js';
import { auditLiveCluster } from '../audit/live.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import { discoverSidecarVersion } from '../cluster/watch-cluster-view.js';
import type { Config } from '../config/types.js';
import { clusterFailure } from '../kube/cluster-access.js';
import { resolveKubeConfig, type KubeConfigSource } from '../kube/kubeconfig.js';
import { listAll } from '../kube/list-all.js';
import type { AuditOptions } from './audit-command.js';
import { loadCommandConfig } from './command-config.js';
import type { CommandIo } from './command-io.js';

/** --kubeconfig and --context as kubectl reads them. */
function kubeConfigSource(options: Pick<AuditOptions, 'kubeconfig' | 'context'>): KubeConfigSource {
  return { ...(options.kubeconfig !== undefined ? { kubeconfigPath: options.kubeconfig } : {}), ...(options.context !== undefined ? { context: options.context } : {}) };
}

/** `audit` without `-f`: the live cluster of the kubeconfig, with progress on stderr. */
export async function liveAudit(options: AuditOptions, io: CommandIo): Promise<{ report: AuditReport; view: ClusterView; config: Config }> {
  const config = await loadCommandConfig(options.config, io);
  const { kubeConfig, origin } = resolveKubeConfig(kubeConfigSource(options));
  try {
    const sidecarVersion = await discoverSidecarVersion(kubeConfig.makeApiClient(CustomObjectsApi));
    const { report, view } = await auditLiveCluster(kubeConfig, config, {
      now: io.now(),
      sidecarVersion,
      pageSize: options.pageSize,
      ...(options.onlyNamespace !== undefined ? { namespace: options.onlyNamespace } : {}),
      progress: (text) => io.stderr(`${text}\n`),
    });
    return { report, view, config };
  } catch (error) {
    throw clusterFailure(error, kubeConfig, origin);
  }
}

/** `audit -f … --cluster`: the live cluster's Namespaces and Sidecars, as context for the manifests. */
export async function readLiveNamespacesAndSidecars(options: Pick<AuditOptions, 'kubeconfig' | 'context' | 'pageSize'>): Promise<unknown[]> {
  const { kubeConfig, origin } = resolveKubeConfig(kubeConfigSource(options));
  try {
    const sidecarVersion = await discoverSidecarVersion(kubeConfig.makeApiClient(CustomObjectsApi));
    const [namespaces, sidecars] = await Promise.all([
      listAll(kubeConfig, '/api/v1/namespaces', { pageSize: options.pageSize }),
      listAll(kubeConfig, `/apis/networking.istio.io/${sidecarVersion}/sidecars`, { pageSize: options.pageSize }),
    ]);
    return [...namespaces, ...sidecars];
  } catch (error) {
    throw clusterFailure(error, kubeConfig, origin);
  }
}
