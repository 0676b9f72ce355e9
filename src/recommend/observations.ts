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
 * Memory signals, best first. The `istio-proxy` container runs pilot-agent and Envoy, and the
 * container is what the OOM killer sees, so only the first three measure it: cAdvisor's working
 * set of the container; else pilot-agent's resident memory plus Envoy's physical size (its
 * closest estimate of its own resident memory), or plus its heap size, which is reserved and
 * larger (it can be ten times the allocated bytes, istio/istio#38549). The Envoy-only signals
 * are kept to say what was found when the container's memory was not.
 */
export const MEMORY_SIGNALS = ['working_set', 'agent_physical', 'agent_heap', 'physical', 'heap', 'allocated'] as const;
export type MemorySignal = (typeof MEMORY_SIGNALS)[number];

/** Signals that measure the whole istio-proxy container, best first: the only ones sizing uses. */
export const CONTAINER_SIGNALS: readonly MemorySignal[] = ['working_set', 'agent_physical', 'agent_heap'];

/** What each signal measures, as the output says it. */
export const MEMORY_SIGNAL_NAMES: Readonly<Record<MemorySignal, string>> = {
  working_set: 'container working set',
  agent_physical: 'agent RSS + Envoy physical',
  agent_heap: 'agent RSS + Envoy heap',
  physical: 'Envoy physical only',
  heap: 'Envoy heap only',
  allocated: 'Envoy allocated only',
};

/** The metric a single-metric signal is read from. */
export const MEMORY_SIGNAL_METRICS = {
  working_set: 'container_memory_working_set_bytes',
  physical: 'envoy_server_memory_physical_size',
  heap: 'envoy_server_memory_heap_size',
  allocated: 'envoy_server_memory_allocated',
} as const satisfies Partial<Record<MemorySignal, string>>;

/** pilot-agent's resident memory as the merged istio-proxy scrape (port 15020) exposes it. */
export const AGENT_RSS_METRIC = 'istio_agent_process_resident_memory_bytes';

/** The two-part signals: pilot-agent's RSS plus this Envoy signal, sample by sample. */
export const AGENT_SUMS = { agent_physical: 'physical', agent_heap: 'heap' } as const;

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
  /**
   * Whether the proxy reports traffic counters for this cluster at all. Istio's default stats
   * count only `cluster.xds-grpc`; other clusters can still be named by other stats, and zero
   * traffic there means nothing.
   */
  readonly counted: boolean;
  /**
   * Requests plus connections since the proxy started, when the source kept the counters' values
   * (several scrapes): above zero with no traffic in the window means it was called before.
   */
  readonly sinceStart?: number;
}

/** The upstream clusters one proxy holds, with their traffic. */
export interface ProxyClusters extends ProxyRef {
  readonly clusters: readonly ClusterUse[];
  /** `envoy_cluster_manager_active_clusters`: every cluster, listed per-cluster stats or not. */
  readonly activeClusters?: number;
  /** `envoy_server_uptime` (`server.uptime`) at the last scrape: how far back counters since start reach. */
  readonly uptimeSeconds?: number;
  /** Scrapes of this proxy the counters come from (1: values since start). */
  readonly scrapes?: number;
}

/**
 * Every istio-proxy pod a source knows to be running, observed or not: a Sidecar without a
 * selector applies to all of them, so a namespace is only scoped when every one was observed.
 */
export interface ProxyInventory {
  readonly pods: readonly PodFacts[];
  /** Namespaces whose running istio-proxy pods are all in `pods`; `*` for every namespace. */
  readonly completeIn: readonly string[];
  /** Where the list came from, for messages. */
  readonly from: string;
}

/**
 * One caller → destination pair from Istio's standard metrics (`istio_requests_total` for HTTP/gRPC,
 * `istio_tcp_connections_opened_total` for TCP): what default Istio records when per-cluster stats are off.
 */
export interface RequestEdge {
  readonly sourceNamespace: string;
  readonly sourceWorkload: string;
  /** `destination_service`: a service FQDN, a ServiceEntry host, a Host header, or "unknown". */
  readonly destinationService: string;
  /**
   * `destination_service_namespace`: "unknown" when Istio did not find the destination in its
   * registry (passthrough traffic, `destination_service` then holds the Host header).
   */
  readonly destinationNamespace?: string;
  readonly metric: 'istio_requests_total' | 'istio_tcp_connections_opened_total';
  /** Requests or connections counted (since the reporting proxy started, or over the window). */
  readonly count: number;
}

export interface ScopeEvidence {
  readonly pods: readonly PodFacts[];
  readonly proxies: readonly ProxyClusters[];
  /** Absent when the source cannot list the pods (saved dumps without --pods, Prometheus without kube-state-metrics). */
  readonly inventory?: ProxyInventory;
  /** Caller → destination pairs from the request metrics, when the source has them. */
  readonly requests?: readonly RequestEdge[];
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
  /** Some values of each label (at most EXAMPLE_VALUES), to tell what kind of values they are. */
  readonly examples?: Readonly<Record<string, readonly string[]>>;
}

/** How many values of a label are kept to classify it. */
export const EXAMPLE_VALUES = 20;

export interface CardinalityEvidence {
  readonly pods: readonly PodFacts[];
  readonly proxies: readonly ProxyRequestLabels[];
}
