import { isRecord } from '../cluster/objects.js';
import type { AdmissionInput } from '../policy/request.js';
import { isPodBearingKind } from '../policy/workload-view.js';

/** A pod-bearing object found in manifests or listed from a cluster, with its namespace settled. */
export interface WorkloadObject {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly object: Record<string, unknown>;
}

const RESOURCE_OF: Readonly<Record<string, string>> = {
  Pod: 'pods',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  ReplicaSet: 'replicasets',
  Job: 'jobs',
  CronJob: 'cronjobs',
  Sidecar: 'sidecars',
};

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/**
 * The pod-bearing objects among `objects` (Pods and workload controllers). Objects without a
 * namespace go to `defaultNamespace`, as kubectl does with `-n`.
 */
export function findWorkloads(objects: readonly unknown[], defaultNamespace: string): WorkloadObject[] {
  const found: WorkloadObject[] = [];
  for (const object of objects) {
    if (!isRecord(object) || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') continue;
    const { group, version } = splitApiVersion(object.apiVersion);
    if (!isPodBearingKind({ group, kind: object.kind })) continue;
    const metadata = isRecord(object.metadata) ? object.metadata : {};
    const namespace = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : defaultNamespace;
    const name = typeof metadata.name === 'string' ? metadata.name : typeof metadata.generateName === 'string' ? metadata.generateName : '';
    found.push({ group, version, kind: object.kind, namespace, name, object });
  }
  return found;
}

/** A CREATE AdmissionInput for an object, as the apiserver would send it (uid is deterministic). */
export function createInputFor(workload: WorkloadObject, uid = `audit-${workload.namespace}-${workload.kind}-${workload.name}`): AdmissionInput {
  return {
    uid,
    operation: 'CREATE',
    kind: { group: workload.group, version: workload.version, kind: workload.kind },
    resource: { group: workload.group, version: workload.version, resource: RESOURCE_OF[workload.kind] ?? `${workload.kind.toLowerCase()}s` },
    namespace: workload.namespace,
    name: workload.name,
    object: workload.object,
    oldObject: null,
    dryRun: true,
  };
}

/** The Pod a controller would create from its template, for the mutating webhook's view. */
export function podFromTemplate(workload: WorkloadObject, template: { metadata?: unknown; spec?: unknown } | undefined): WorkloadObject {
  return {
    group: '',
    version: 'v1',
    kind: 'Pod',
    namespace: workload.namespace,
    name: workload.name,
    object: { apiVersion: 'v1', kind: 'Pod', metadata: template?.metadata ?? {}, spec: template?.spec ?? {} },
  };
}
