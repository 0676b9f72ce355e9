import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { HASH_ANNOTATION, MANAGED_BY, MANAGED_BY_LABEL, REPORT_APIS, type ReportApi, type ReportObject } from './report-objects.js';
import { apiStatus } from '../kube/api-error.js';
import { listAll } from '../kube/list-all.js';

/** A report as stored: enough to update it safely (resourceVersion) and to know whether it changed (hash). */
export interface StoredReport {
  readonly namespace?: string;
  readonly name: string;
  readonly resourceVersion: string;
  readonly hash?: string;
}

/** The report API as the writer uses it; errors carry the HTTP status as `code`. */
export interface ReportStore {
  /** Every report sidecar-guard manages (label app.kubernetes.io/managed-by=sidecar-guard), namespaced and cluster-wide. */
  list(): Promise<StoredReport[]>;
  get(ref: { namespace?: string; name: string }): Promise<StoredReport | undefined>;
  create(report: ReportObject): Promise<StoredReport>;
  /** PUT with `resourceVersion`: 409 when someone wrote it since. */
  replace(report: ReportObject, resourceVersion: string): Promise<StoredReport>;
  /** DELETE with a resourceVersion precondition. */
  delete(ref: { namespace?: string; name: string }, resourceVersion: string): Promise<void>;
}

export function reportKey(ref: { namespace?: string; name: string }): string {
  return `${ref.namespace ?? ''}/${ref.name}`;
}

function toStored(object: unknown): StoredReport {
  const metadata = (object as { metadata?: { name?: string; namespace?: string; resourceVersion?: string; annotations?: Record<string, string> } }).metadata ?? {};
  const hash = metadata.annotations?.[HASH_ANNOTATION];
  return {
    name: metadata.name ?? '',
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
    resourceVersion: metadata.resourceVersion ?? '',
    ...(hash !== undefined ? { hash } : {}),
  };
}

/**
 * {@link ReportStore} over CustomObjectsApi for one report API (wgpolicyk8s.io PolicyReport and
 * ClusterPolicyReport, or openreports.io Report and ClusterReport). RBAC: get, list, create,
 * update, delete on exactly those two resources.
 */
export function createKubeReportStore(kubeConfig: KubeConfig, apiName: ReportApi, pageSize = 500): ReportStore {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const { group, version, plural, clusterPlural } = REPORT_APIS[apiName];
  const labelSelector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
  const listAllOf = async (which: string): Promise<StoredReport[]> => (await listAll(kubeConfig, `/apis/${group}/${version}/${which}`, { pageSize, labelSelector })).map(toStored);
  const withVersion = (report: ReportObject, resourceVersion: string) => ({ ...report, metadata: { ...report.metadata, resourceVersion } });
  return {
    async list() {
      return [...(await listAllOf(plural)), ...(await listAllOf(clusterPlural))];
    },
    async get(ref) {
      try {
        const object =
          ref.namespace !== undefined
            ? await api.getNamespacedCustomObject({ group, version, plural, namespace: ref.namespace, name: ref.name })
            : await api.getClusterCustomObject({ group, version, plural: clusterPlural, name: ref.name });
        return toStored(object);
      } catch (error) {
        if (apiStatus(error) === 404) return undefined;
        throw error;
      }
    },
    async create(report) {
      const namespace = report.metadata.namespace;
      return toStored(
        namespace !== undefined
          ? await api.createNamespacedCustomObject({ group, version, plural, namespace, body: report })
          : await api.createClusterCustomObject({ group, version, plural: clusterPlural, body: report }),
      );
    },
    async replace(report, resourceVersion) {
      const namespace = report.metadata.namespace;
      const name = report.metadata.name;
      const body = withVersion(report, resourceVersion);
      return toStored(
        namespace !== undefined
          ? await api.replaceNamespacedCustomObject({ group, version, plural, namespace, name, body })
          : await api.replaceClusterCustomObject({ group, version, plural: clusterPlural, name, body }),
      );
    },
    async delete(ref, resourceVersion) {
      const body = { preconditions: { resourceVersion } };
      if (ref.namespace !== undefined) await api.deleteNamespacedCustomObject({ group, version, plural, namespace: ref.namespace, name: ref.name, body });
      else await api.deleteClusterCustomObject({ group, version, plural: clusterPlural, name: ref.name, body });
    },
  };
}
