/**
 * Domain types shared by the pure policy core and the layers around it.
 * Nothing here knows about HTTP, Kubernetes clients or the clock.
 */

export type Labels = Readonly<Record<string, string>>;

import type { ServiceCatalogView } from './service-facts.js';

/** A Namespace as the policy needs it. */
export interface NamespaceFacts {
  readonly name: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  /** Being deleted (`deletionTimestamp` set or phase `Terminating`): its Sidecars go with it. */
  readonly terminating?: boolean;
}

/** An Istio `networking.istio.io` Sidecar as the policy needs it. */
export interface SidecarFacts {
  readonly namespace: string;
  readonly name: string;
  /** `spec.workloadSelector.labels`; undefined for a selector-less (namespace-wide) Sidecar. */
  readonly workloadSelector?: Labels;
  /** Every `spec.egress[].hosts[]` entry, flattened. */
  readonly egressHosts: readonly string[];
  /** Whether the Sidecar declares `spec.egress` at all (no egress inherits the mesh defaults). */
  readonly hasEgress: boolean;
  /** `metadata.creationTimestamp`; Istio gives precedence to the oldest. */
  readonly creationTimestamp?: string;
}

/**
 * A pod that carries an opt-in label (`sidecar.istio.io/inject` or `istio.io/rev`, any value) and
 * runs an `istio-proxy`, reduced to what Sidecar-change judgement needs: where it runs and the
 * labels a `workloadSelector` matches. Pods without a proxy are not kept: containers never change
 * after CREATE, so such a pod never takes a Sidecar.
 */
export interface PodFacts {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  /** Shaped like a gateway (see `isGatewayPod`); counts as one only in `tenancy.gatewayNamespaces`. */
  readonly gatewayShaped: boolean;
}

/** The cluster facts one admission decision reads. Assembled before the policy runs. */
export interface ClusterFacts {
  /** False while the cluster view has not synced (or has gone stale). */
  readonly synced: boolean;
  /** The request's namespace; undefined when the cluster view does not know it. */
  readonly namespace?: NamespaceFacts;
  /** Sidecars in the request's namespace. */
  readonly sidecars: readonly SidecarFacts[];
  /** Sidecars in the configured root namespace. */
  readonly rootSidecars: readonly SidecarFacts[];
  /** Pods of the request's namespace that carry an opt-in label (see `PodFacts`); absent reads as none. */
  readonly optedInPods?: readonly PodFacts[];
  /** What the mesh offers to import, when the view keeps it (memory prediction). */
  readonly catalog?: ServiceCatalogView;
}

export interface ContainerResources {
  readonly requests?: Labels;
  readonly limits?: Labels;
}

export interface ContainerView {
  readonly name: string;
  /** Position in the pod spec's list, for patch paths. */
  readonly index: number;
  readonly resources?: ContainerResources;
  /** Set on native sidecars (`restartPolicy: Always` init containers). */
  readonly restartPolicy?: string;
}

/** A pod, or the pod template of a workload controller, as the policy needs it. */
export interface PodTemplateView {
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly hostNetwork: boolean;
  readonly containers: readonly ContainerView[];
  readonly initContainers: readonly ContainerView[];
}
