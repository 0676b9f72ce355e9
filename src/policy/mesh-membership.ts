import {
  DATAPLANE_MODE,
  INJECT_TEMPLATES,
  ISTIO_INJECTION,
  ISTIO_PROXY_CONTAINER,
  ISTIO_REV,
  SIDECAR_INJECT,
  SIDECAR_STATUS,
} from './annotations.js';
import type { ContainerView, Labels, PodTemplateView } from './types.js';

/** Namespaces Istio's injector never touches (istio/istio pkg/kube/inject/initializer.go). */
export const IGNORED_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'];

export type MembershipCode =
  | 'ALREADY_INJECTED'
  | 'IGNORED_NAMESPACE'
  | 'HOST_NETWORK'
  | 'POD_OPTED_OUT'
  | 'POD_OPTED_IN'
  | 'POD_REVISION'
  | 'NAMESPACE_INJECTION'
  | 'NAMESPACE_REVISION'
  | 'AMBIENT'
  | 'NOT_IN_MESH';

export interface Membership {
  readonly meshed: boolean;
  readonly code: MembershipCode;
  readonly reason: string;
}

/** Every pod label and annotation decideMeshMembership reads (membershipViewOf keeps only these). */
export const MEMBERSHIP_LABELS: readonly string[] = [SIDECAR_INJECT, ISTIO_REV, DATAPLANE_MODE];
export const MEMBERSHIP_ANNOTATIONS: readonly string[] = [SIDECAR_INJECT];

/** The `istio-proxy` container, in `containers` or (native sidecar) in `initContainers`. */
export function findProxyContainer(pod: PodTemplateView): { list: 'containers' | 'initContainers'; container: ContainerView } | undefined {
  const regular = pod.containers.find((c) => c.name === ISTIO_PROXY_CONTAINER);
  if (regular) return { list: 'containers', container: regular };
  const native = pod.initContainers.find((c) => c.name === ISTIO_PROXY_CONTAINER);
  return native ? { list: 'initContainers', container: native } : undefined;
}

/** True when Istio's injector already ran on this pod. */
export function isInjected(pod: PodTemplateView): boolean {
  return SIDECAR_STATUS in pod.annotations;
}

/**
 * A gateway pod: injected with the `gateway` template, or (as the gateway chart renders it)
 * one whose only container is a user-declared `istio-proxy`. A Sidecar does not apply to
 * gateways (sidecar.proto NOTE 3), and the gateway template ignores the resource annotations.
 */
export function isGatewayPod(pod: PodTemplateView): boolean {
  const templates = (pod.annotations[INJECT_TEMPLATES] ?? '').split(',').map((t) => t.trim());
  if (templates.includes('gateway')) return true;
  return pod.containers.length === 1 && pod.containers[0]?.name === ISTIO_PROXY_CONTAINER && !isInjected(pod);
}

/** True when Istio injects sidecars into pods of this namespace by default (istio-facts §2.1, §3.1). */
export function isMeshNamespace(namespaceLabels: Labels): boolean {
  const injection = namespaceLabels[ISTIO_INJECTION];
  if (injection === 'enabled') return true;
  return injection === undefined && namespaceLabels[ISTIO_REV] !== undefined;
}

/**
 * The pod's own injection choice, exactly as Istio's `injectRequired` reads it
 * (istio/istio pkg/kube/inject/inject.go): the label, when present with *any* value, replaces the
 * annotation; only exactly "true" and "false" count, and anything else ("yes", "", "True") falls
 * back to the namespace default. So label "yes" + annotation "false" is injected in a meshed
 * namespace: reading the annotation there would let a pod pass as opted out and still get a proxy.
 */
function podInjectChoice(pod: PodTemplateView): 'true' | 'false' | undefined {
  const value = Object.hasOwn(pod.labels, SIDECAR_INJECT) ? pod.labels[SIDECAR_INJECT] : pod.annotations[SIDECAR_INJECT];
  return value === 'true' || value === 'false' ? value : undefined;
}

/**
 * Whether a pod of `namespaceName` will run an Istio sidecar. Mirrors Istio's injector: the
 * webhook selectors (labels only, istio-facts §3.1), then `injectRequired` (hostNetwork, ignored
 * namespaces, pod label over annotation). A pod that already carries `istio-proxy` is meshed.
 *
 * @example decideMeshMembership(pod, 'shop', { 'istio-injection': 'enabled' }).meshed
 */
export function decideMeshMembership(pod: PodTemplateView, namespaceName: string, namespaceLabels: Labels): Membership {
  const byLabels = injectionByLabels(pod, namespaceName, namespaceLabels);
  if (findProxyContainer(pod) === undefined) return byLabels;
  // Validation meets pods after Istio's injector: the labels that made it inject are the reason
  // worth telling; a proxy with no such reason was put there by hand (istioctl kube-inject).
  return byLabels.meshed ? byLabels : { meshed: true, code: 'ALREADY_INJECTED', reason: 'the pod already has an istio-proxy container' };
}

function injectionByLabels(pod: PodTemplateView, namespaceName: string, namespaceLabels: Labels): Membership {
  if (IGNORED_NAMESPACES.includes(namespaceName)) {
    return { meshed: false, code: 'IGNORED_NAMESPACE', reason: `Istio never injects pods in ${namespaceName}` };
  }
  if (pod.hostNetwork) {
    return { meshed: false, code: 'HOST_NETWORK', reason: 'Istio never injects hostNetwork pods' };
  }
  const choice = podInjectChoice(pod);
  if (choice === 'false') {
    return { meshed: false, code: 'POD_OPTED_OUT', reason: `the pod sets ${SIDECAR_INJECT}: "false"` };
  }

  const nsInjection = namespaceLabels[ISTIO_INJECTION];
  const nsRevision = namespaceLabels[ISTIO_REV];
  const podLabel = pod.labels[SIDECAR_INJECT];
  if (nsInjection === 'enabled') {
    return { meshed: true, code: 'NAMESPACE_INJECTION', reason: `namespace ${namespaceName} has ${ISTIO_INJECTION}=enabled` };
  }
  if (nsInjection === undefined && nsRevision !== undefined) {
    return { meshed: true, code: 'NAMESPACE_REVISION', reason: `namespace ${namespaceName} has ${ISTIO_REV}=${nsRevision}` };
  }
  // The object selectors only fire in namespaces without either injection label.
  if (nsInjection === undefined && nsRevision === undefined) {
    if (pod.labels[ISTIO_REV] !== undefined) {
      return { meshed: true, code: 'POD_REVISION', reason: `the pod has ${ISTIO_REV}=${pod.labels[ISTIO_REV]}` };
    }
    if (podLabel === 'true') {
      return { meshed: true, code: 'POD_OPTED_IN', reason: `the pod has label ${SIDECAR_INJECT}=true` };
    }
  }
  if (pod.labels[DATAPLANE_MODE] === 'ambient' || namespaceLabels[DATAPLANE_MODE] === 'ambient') {
    return { meshed: false, code: 'AMBIENT', reason: 'ambient mode: no sidecar, ztunnel carries the traffic' };
  }
  return { meshed: false, code: 'NOT_IN_MESH', reason: `namespace ${namespaceName} does not enable sidecar injection` };
}
