/**
 * What every source (Prometheus API, pod proxy, saved dumps) hands the pure recommenders.
 * Sources differ in how they measure; the recommenders never know which one ran.
 */

export type Labels = Readonly<Record<string, string>>;

/** One istio-proxy, named by its pod. */
export interface ProxyRef {
  readonly namespace: string;
  readonly pod: string;
}

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'ReplicaSet' | 'Pod' | 'unknown';

/** What is known about a pod besides its stats; fields a source cannot see are left out. */
export interface PodFacts extends ProxyRef {
  readonly workload: string;
  readonly workloadKind: WorkloadKind;
  readonly labels: Labels;
  /** istio-proxy's memory request and limit in bytes. */
  readonly memoryRequest?: number;
  readonly memoryLimit?: number;
  /** How often istio-proxy was OOM-killed (at least 1 when its last termination was OOMKilled). */
  readonly oomKills: number;
  /** Gateways ignore the proxy annotations (istio-facts design note 2), so profiles skip them. */
  readonly gateway: boolean;
}

/**
 * Memory signals in the order the recommender prefers them: the container working set is what
 * the kubelet and the OOM killer see; Envoy's physical size is its closest estimate of it; heap
 * size is reserved (it can be ten times the allocated bytes, istio/istio#38549); allocated
 * misses allocator overhead.
 */
export const MEMORY_SIGNALS = ['working_set', 'physical', 'heap', 'allocated'] as const;
export type MemorySignal = (typeof MEMORY_SIGNALS)[number];

/** The metric each signal is read from. */
export const MEMORY_SIGNAL_METRICS: Readonly<Record<MemorySignal, string>> = {
  working_set: 'container_memory_working_set_bytes',
  physical: 'envoy_server_memory_physical_size',
  heap: 'envoy_server_memory_heap_size',
  allocated: 'envoy_server_memory_allocated',
};

/** Observed values of one signal for one pod over the window, in bytes. */
export interface MemorySeries extends ProxyRef {
  readonly signal: MemorySignal;
  readonly values: readonly number[];
}

export interface MemoryEvidence {
  readonly pods: readonly PodFacts[];
  readonly series: readonly MemorySeries[];
}

/** Traffic to one upstream cluster over the window (counter increases). */
export interface ClusterUse {
  readonly cluster: string;
  readonly requests: number;
  readonly connections: number;
}

/** The upstream clusters one proxy holds, with their traffic. */
export interface ProxyClusters extends ProxyRef {
  readonly clusters: readonly ClusterUse[];
  /** `envoy_cluster_manager_active_clusters`: every cluster, listed per-cluster stats or not. */
  readonly activeClusters?: number;
}

export interface ScopeEvidence {
  readonly pods: readonly PodFacts[];
  readonly proxies: readonly ProxyClusters[];
}

/** A `destination_service` value that came from the Host header, and who reported it. */
export interface FallbackValue {
  readonly value: string;
  readonly reporter: string;
}

/** Distinct label values of `istio_requests_total` on one proxy. */
export interface ProxyRequestLabels extends ProxyRef {
  /** Label name → number of distinct values. */
  readonly distinct: Readonly<Record<string, number>>;
  /** Values with `destination_service_namespace="unknown"`: the host-header fallback's mark. */
  readonly fallback: readonly FallbackValue[];
}

export interface CardinalityEvidence {
  readonly pods: readonly PodFacts[];
  readonly proxies: readonly ProxyRequestLabels[];
}
