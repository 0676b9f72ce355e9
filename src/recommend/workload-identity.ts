import { parseQuantity } from '../policy/quantity.js';
import type { Labels, PodFacts, WorkloadKind } from './observations.js';

/**
 * How a pod is tied to its workload. Owner references are exact, so they win: a ReplicaSet
 * owner is `<deployment>-<pod-template-hash>` and the hash is on the pod as a label. Without the
 * pod object (Prometheus, saved dumps) the pod name is read the way the controllers build it.
 * Labels (`app`, `version`) are not used for identity, since `app: reviews` spans three
 * Deployments in Bookinfo; they are used only to write rules that select the workload.
 */

// Controllers name pods with k8s.io/apimachinery rand.SafeEncodeString: no vowels, no 0/1/3.
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const DEPLOYMENT_POD = new RegExp(`^(.+)-${SAFE}{6,10}-${SAFE}{5}$`);
const GENERATED_POD = new RegExp(`^(.+)-${SAFE}{5}$`);
const STATEFUL_POD = /^(.+)-\d+$/;

export interface WorkloadName {
  readonly workload: string;
  readonly kind: WorkloadKind;
}

/**
 * The workload a pod name points to, without the pod object.
 *
 * @example workloadFromPodName('reviews-v1-7d4b9c8f6d-x2kqp') // { workload: 'reviews-v1', kind: 'Deployment' }
 */
export function workloadFromPodName(pod: string): WorkloadName {
  const deployment = DEPLOYMENT_POD.exec(pod);
  if (deployment) return { workload: deployment[1] as string, kind: 'Deployment' };
  const stateful = STATEFUL_POD.exec(pod);
  if (stateful) return { workload: stateful[1] as string, kind: 'StatefulSet' };
  // DaemonSet, Job and bare ReplicaSet pods all look alike: `<owner>-<5 chars>`.
  const generated = GENERATED_POD.exec(pod);
  if (generated) return { workload: generated[1] as string, kind: 'unknown' };
  return { workload: pod, kind: 'Pod' };
}

/** The subset of a Kubernetes Pod this module reads (client-node's V1Pod fits it). */
export interface PodObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly labels?: Labels;
    readonly annotations?: Labels;
    readonly ownerReferences?: readonly { readonly kind: string; readonly name: string; readonly controller?: boolean }[];
  };
  readonly spec?: {
    readonly containers?: readonly ContainerObject[];
    readonly initContainers?: readonly ContainerObject[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly containerStatuses?: readonly ContainerStatusObject[];
    readonly initContainerStatuses?: readonly ContainerStatusObject[];
  };
}

export interface ContainerObject {
  readonly name: string;
  readonly resources?: { readonly requests?: Labels; readonly limits?: Labels };
}

interface TerminatedObject {
  readonly terminated?: { readonly reason?: string };
}

export interface ContainerStatusObject {
  readonly name: string;
  readonly restartCount?: number;
  readonly state?: TerminatedObject;
  readonly lastState?: TerminatedObject;
}

export const PROXY_CONTAINER = 'istio-proxy';

/** True when the pod runs istio-proxy, as a container or as a native sidecar (init container). */
export function hasProxy(pod: PodObject): boolean {
  const named = (c: ContainerObject): boolean => c.name === PROXY_CONTAINER;
  return (pod.spec?.containers ?? []).some(named) || (pod.spec?.initContainers ?? []).some(named);
}

/** The workload that owns a pod: owner references first, the pod name as a fallback. */
export function workloadOfPod(pod: PodObject): WorkloadName {
  const name = pod.metadata?.name ?? '';
  const owners = pod.metadata?.ownerReferences ?? [];
  const owner = owners.find((o) => o.controller === true) ?? owners[0];
  if (owner === undefined) return { workload: name, kind: 'Pod' };
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet') {
    if (hash !== undefined && owner.name.endsWith(`-${hash}`)) {
      return { workload: owner.name.slice(0, -hash.length - 1), kind: 'Deployment' };
    }
    return { workload: owner.name, kind: 'ReplicaSet' };
  }
  const known: readonly WorkloadKind[] = ['StatefulSet', 'DaemonSet', 'Job'];
  const kind = known.find((k) => k === owner.kind) ?? 'unknown';
  return { workload: owner.name, kind };
}

function isGateway(labels: Labels, annotations: Labels): boolean {
  if ((annotations['inject.istio.io/templates'] ?? '').split(',').includes('gateway')) return true;
  if (labels['gateway.networking.k8s.io/gateway-name'] !== undefined) return true;
  return /gateway$/.test(labels['istio'] ?? '');
}

function memoryOf(values: Labels | undefined, annotation: string | undefined): number | undefined {
  const text = values?.['memory'] ?? annotation;
  return text === undefined ? undefined : parseQuantity(text);
}

function wasOomKilled(status: ContainerStatusObject | undefined): boolean {
  if (status === undefined) return false;
  return status.lastState?.terminated?.reason === 'OOMKilled' || status.state?.terminated?.reason === 'OOMKilled';
}

/**
 * PodFacts from a Pod object: workload, labels, istio-proxy's memory request/limit (container
 * resources, else the sidecar.istio.io annotations) and whether it was OOM-killed.
 *
 * @example podFactsFromPod(v1Pod).workload // "reviews-v1"
 */
export function podFactsFromPod(pod: PodObject): PodFacts {
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  const proxy = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === PROXY_CONTAINER);
  const status = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find(
    (s) => s.name === PROXY_CONTAINER,
  );
  const { workload, kind } = workloadOfPod(pod);
  const memoryRequest = memoryOf(proxy?.resources?.requests, annotations['sidecar.istio.io/proxyMemory']);
  const memoryLimit = memoryOf(proxy?.resources?.limits, annotations['sidecar.istio.io/proxyMemoryLimit']);
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    pod: pod.metadata?.name ?? '',
    workload,
    workloadKind: kind,
    labels,
    ...(memoryRequest === undefined ? {} : { memoryRequest }),
    ...(memoryLimit === undefined ? {} : { memoryLimit }),
    oomKills: wasOomKilled(status) ? 1 : 0,
    gateway: isGateway(labels, annotations),
  };
}

/**
 * PodFacts for a pod known only by name (saved dumps, Prometheus without kube-state-metrics).
 *
 * @example podFactsFromName('bookinfo', 'ratings-v1-6f8c9b7d5c-h4k2n').workload // "ratings-v1"
 */
export function podFactsFromName(namespace: string, pod: string, extra: Partial<PodFacts> = {}): PodFacts {
  const { workload, kind } = workloadFromPodName(pod);
  return { namespace, pod, workload, workloadKind: kind, labels: {}, oomKills: 0, gateway: false, ...extra };
}
