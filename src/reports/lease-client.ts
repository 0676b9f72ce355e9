import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { LeaseClient, LeaseRecord, StoredLease } from './lease-elector.js';
import { apiStatus } from '../kube/api-error.js';

/**
 * {@link LeaseClient} over client-node's CoordinationV1Api: get, create and update (PUT with the
 * resourceVersion read, so a lost race is a 409) on one Lease. RBAC: leases get/create/update in
 * its namespace. Times are sent as V1MicroTime: the API server parses a Lease's times with six
 * fractional digits and refuses Date's three (kubernetes-client/javascript#828).
 */
export function createKubeLeaseClient(kubeConfig: KubeConfig, namespace: string, name: string): LeaseClient {
  const api = kubeConfig.makeApiClient(CoordinationV1Api);
  const body = (record: LeaseRecord, resourceVersion?: string): V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'sidecar-guard' }, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: record.holderIdentity,
      leaseDurationSeconds: record.leaseDurationSeconds,
      leaseTransitions: record.leaseTransitions,
      ...(record.acquireTime ? { acquireTime: new V1MicroTime(record.acquireTime.getTime()) } : {}),
      ...(record.renewTime ? { renewTime: new V1MicroTime(record.renewTime.getTime()) } : {}),
    },
  });
  return {
    description: `${namespace}/${name}`,
    async get() {
      try {
        return toStored(await api.readNamespacedLease({ namespace, name }));
      } catch (error) {
        if (apiStatus(error) === 404) return undefined;
        throw error;
      }
    },
    async create(record) {
      return toStored(await api.createNamespacedLease({ namespace, body: body(record) }));
    },
    async update(record, resourceVersion) {
      return toStored(await api.replaceNamespacedLease({ namespace, name, body: body(record, resourceVersion) }));
    },
  };
}

/** client-node leaves MicroTime as the server's string (its serializer does not know the type). */
function toDate(value: unknown): Date | undefined {
  if (value instanceof Date) return value;
  if (typeof value !== 'string') return undefined;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? undefined : parsed;
}

function toStored(lease: V1Lease): StoredLease {
  const spec = lease.spec ?? {};
  const acquireTime = toDate(spec.acquireTime);
  const renewTime = toDate(spec.renewTime);
  return {
    resourceVersion: lease.metadata?.resourceVersion ?? '',
    record: {
      holderIdentity: spec.holderIdentity ?? '',
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      leaseTransitions: spec.leaseTransitions ?? 0,
      ...(acquireTime ? { acquireTime } : {}),
      ...(renewTime ? { renewTime } : {}),
    },
  };
}
