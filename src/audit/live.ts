import type { KubeConfig } from '@kubernetes/client-node';
import { FileClusterView } from '../cluster/file-cluster-view.js';
import { isRecord } from '../cluster/objects.js';
import type { Config } from '../config/types.js';
import { listAll } from '../kube/list-all.js';
import { auditCluster, workloadKey, type AuditReport } from './audit.js';
import { findWorkloads, type WorkloadObject } from './workloads.js';

const COLLECTIONS = [
  '/apis/apps/v1/deployments',
  '/apis/apps/v1/statefulsets',
  '/apis/apps/v1/daemonsets',
  '/apis/apps/v1/replicasets',
  '/apis/batch/v1/jobs',
  '/apis/batch/v1/cronjobs',
  '/api/v1/pods',
];

interface Owner {
  kind: string;
  name: string;
}

function ownerOf(object: Record<string, unknown>): Owner | undefined {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  const owners = Array.isArray(metadata.ownerReferences) ? metadata.ownerReferences : [];
  const controller = owners.find((o: unknown) => isRecord(o) && o.controller === true) ?? owners[0];
  return isRecord(controller) && typeof controller.kind === 'string' && typeof controller.name === 'string'
    ? { kind: controller.kind, name: controller.name }
    : undefined;
}

function metaOf(object: Record<string, unknown>): { name: string; namespace: string } {
  const metadata = isRecord(object.metadata) ? object.metadata : {};
  return { name: String(metadata.name ?? ''), namespace: String(metadata.namespace ?? '') };
}

/** What a live audit reads besides the cluster view: workloads at their top-level owner, and a running pod of each. */
export interface LiveWorkloads {
  readonly workloads: readonly WorkloadObject[];
  readonly runningPods: ReadonlyMap<string, Record<string, unknown>>;
}

type ReadCollection = (path: string) => Promise<Record<string, unknown>[]>;

function collectionReader(kubeConfig: KubeConfig, options: { pageSize?: number; progress?: (text: string) => void }): ReadCollection {
  return (path) =>
    listAll(kubeConfig, path, {
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      onPage: (count) => options.progress?.(`listing ${path}: ${count}`),
    });
}

/**
 * Workload controllers and pods, read with paged lists. Controller-owned objects are reported once,
 * at their top-level owner (a Deployment, not its ReplicaSets and pods); a running pod shows the
 * owner's current proxy resources. `audit` and the report mode (src/reports) both read them here.
 */
export async function listLiveWorkloads(
  kubeConfig: KubeConfig,
  options: { pageSize?: number; progress?: (text: string) => void; /** only this namespace's workloads (kubectl's -n) */ namespace?: string },
): Promise<LiveWorkloads> {
  const read = collectionReader(kubeConfig, options);
  const lists = await Promise.all(COLLECTIONS.map(read));
  const all = lists.flat();

  const byKey = new Map(all.map((o) => [workloadKey(metaOf(o).namespace, String(o.kind), metaOf(o).name), o]));
  /** The top-level workload an object belongs to (itself when it has no owner we know). */
  const topOf = (object: Record<string, unknown>): Record<string, unknown> => {
    let current = object;
    for (let depth = 0; depth < 4; depth += 1) {
      const owner = ownerOf(current);
      const parent = owner ? byKey.get(workloadKey(metaOf(current).namespace, owner.kind, owner.name)) : undefined;
      if (!parent) return current;
      current = parent;
    }
    return current;
  };

  const runningPods = new Map<string, Record<string, unknown>>();
  const tops: Record<string, unknown>[] = [];
  for (const object of all) {
    const top = topOf(object);
    if (top === object) tops.push(object);
    else if (object.kind === 'Pod') {
      const key = workloadKey(metaOf(top).namespace, String(top.kind), metaOf(top).name);
      if (!runningPods.has(key)) runningPods.set(key, object);
    }
  }
  const only = options.namespace;
  return { workloads: findWorkloads(tops, 'default').filter((w) => only === undefined || w.namespace === only), runningPods };
}

/**
 * Audits a live cluster: Namespaces, Sidecars, workload controllers and pods read with paged
 * lists (workloads as `listLiveWorkloads` reads them).
 */
export async function auditLiveCluster(
  kubeConfig: KubeConfig,
  config: Config,
  options: { now: Date; pageSize?: number; sidecarVersion: string; progress?: (text: string) => void; /** only this namespace's workloads (kubectl's -n) */ namespace?: string },
): Promise<{ report: AuditReport; view: FileClusterView }> {
  const read = collectionReader(kubeConfig, options);
  const namespaces = await read('/api/v1/namespaces');
  const sidecars = await read(`/apis/networking.istio.io/${options.sidecarVersion}/sidecars`);
  const { workloads, runningPods } = await listLiveWorkloads(kubeConfig, options);
  // Namespaces and Sidecars stay cluster-wide even for one namespace: the root namespace's Sidecar applies to it.
  const view = FileClusterView.fromObjects([...namespaces, ...sidecars, ...(await readCatalog(read, options))]);
  const only = options.namespace;
  const report = auditCluster({
    workloads,
    view,
    namespaces: namespaces.map((n) => metaOf(n).name).filter((name) => only === undefined || name === only),
    config,
    now: options.now,
    runningPods,
  });
  return { report, view };
}

/**
 * Services, EndpointSlices and ServiceEntries for the memory prediction. Optional: when they
 * cannot be listed (no permission, no Istio CRD) the audit goes on without predictions and says so.
 */
async function readCatalog(
  read: ReadCollection,
  options: { sidecarVersion: string; progress?: (text: string) => void },
): Promise<Record<string, unknown>[]> {
  try {
    const lists = await Promise.all(
      ['/api/v1/services', '/apis/discovery.k8s.io/v1/endpointslices', `/apis/networking.istio.io/${options.sidecarVersion}/serviceentries`].map(read),
    );
    return lists.flat();
  } catch (error) {
    options.progress?.(`no memory prediction: cannot list Services, EndpointSlices or ServiceEntries (${(error as Error).message})`);
    return [];
  }
}
