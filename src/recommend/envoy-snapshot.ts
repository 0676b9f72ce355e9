import type { ClusterUse, MemorySeries, MemorySignal, ProxyClusters, ProxyRef, ProxyRequestLabels, RequestEdge } from './observations.js';
import { AGENT_RSS_METRIC, AGENT_SUMS, EXAMPLE_VALUES, MEMORY_SIGNALS, MEMORY_SIGNAL_METRICS } from './observations.js';
import type { ClusterListing, ListedCluster } from './envoy-admin.js';
import type { Sample } from './prometheus-text.js';

/** One scrape of one proxy's `/stats/prometheus`. */
export interface StatsSnapshot extends ProxyRef {
  readonly samples: readonly Sample[];
}

const proxyKey = (ref: ProxyRef): string => `${ref.namespace}/${ref.pod}`;

/** Snapshots grouped per proxy, keeping their order (oldest first). */
function byProxy(snapshots: readonly StatsSnapshot[]): Map<string, StatsSnapshot[]> {
  const groups = new Map<string, StatsSnapshot[]>();
  for (const snapshot of snapshots) {
    const key = proxyKey(snapshot);
    groups.set(key, [...(groups.get(key) ?? []), snapshot]);
  }
  return groups;
}

/** The largest value of a metric in one scrape; cAdvisor's working set only for the istio-proxy container. */
function metricValue(samples: readonly Sample[], metric: string): number | undefined {
  const matching = samples.filter(
    (s) =>
      s.name === metric &&
      Number.isFinite(s.value) &&
      (metric === MEMORY_SIGNAL_METRICS.working_set ? s.labels['container'] === 'istio-proxy' : (s.labels['container'] ?? 'istio-proxy') === 'istio-proxy'),
  );
  return matching.length === 0 ? undefined : Math.max(...matching.map((s) => s.value));
}

/** One scrape's value of a signal; a two-part signal only when both parts are in the same scrape. */
function signalValue(samples: readonly Sample[], signal: MemorySignal): number | undefined {
  if (signal === 'agent_physical' || signal === 'agent_heap') {
    const agent = metricValue(samples, AGENT_RSS_METRIC);
    const envoy = metricValue(samples, MEMORY_SIGNAL_METRICS[AGENT_SUMS[signal]]);
    return agent === undefined || envoy === undefined ? undefined : agent + envoy;
  }
  return metricValue(samples, MEMORY_SIGNAL_METRICS[signal]);
}

/**
 * The memory values each proxy reported, one per snapshot and signal. The working set counts
 * only from cAdvisor series for the istio-proxy container (a federated dump may hold them);
 * pilot-agent's RSS is in the merged scrape (port 15020), not in Envoy's own (15090).
 *
 * @example memoryFromSnapshots([{ namespace: 'ns', pod: 'p', samples }])[0].signal // "agent_physical"
 */
export function memoryFromSnapshots(snapshots: readonly StatsSnapshot[]): MemorySeries[] {
  const series: MemorySeries[] = [];
  for (const group of byProxy(snapshots).values()) {
    const first = group[0] as StatsSnapshot;
    for (const signal of MEMORY_SIGNALS) {
      const values = group.map((snapshot) => signalValue(snapshot.samples, signal)).filter((v): v is number => v !== undefined);
      if (values.length > 0) series.push({ namespace: first.namespace, pod: first.pod, signal, values });
    }
  }
  return series;
}

const CLUSTER_PREFIX = 'envoy_cluster_';
const REQUESTS = 'envoy_cluster_upstream_rq_total';
const CONNECTIONS = 'envoy_cluster_upstream_cx_total';
const ACTIVE_CLUSTERS = 'envoy_cluster_manager_active_clusters';
const UPTIME = 'envoy_server_uptime';

function countersByCluster(samples: readonly Sample[], metric: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const s of samples) {
    const cluster = s.labels['cluster_name'];
    if (s.name !== metric || cluster === undefined) continue;
    totals.set(cluster, (totals.get(cluster) ?? 0) + s.value);
  }
  return totals;
}

/** A counter's increase between two scrapes; a lower value means Envoy restarted, so count from 0. */
function increase(first: number | undefined, last: number | undefined): number {
  if (last === undefined) return 0;
  if (first === undefined || last < first) return last;
  return last - first;
}

/**
 * The clusters each proxy holds (from its latest snapshot) with their traffic: the counter's
 * increase between the first and the last snapshot, or its value since the proxy started when
 * there is only one snapshot.
 *
 * @example clustersFromSnapshots(snaps)[0].clusters[0] // { cluster: 'outbound|9080||reviews…', requests: 42, connections: 3 }
 */
export function clustersFromSnapshots(snapshots: readonly StatsSnapshot[], listings: readonly ListedProxy[] = []): ProxyClusters[] {
  const proxies = new Map<string, ProxyClusters>();
  for (const all of byProxy(snapshots).values()) {
    // Another file of the same pod (its /memory) names no cluster: only scrapes that do are compared.
    const withClusters = all.filter((s) => s.samples.some((x) => x.name.startsWith(CLUSTER_PREFIX)));
    const group = withClusters.length > 0 ? withClusters : all;
    const first = group[0] as StatsSnapshot;
    const last = group[group.length - 1] as StatsSnapshot;
    const single = group.length === 1;
    const held = new Set<string>();
    for (const s of last.samples) {
      const cluster = s.labels['cluster_name'];
      if (s.name.startsWith(CLUSTER_PREFIX) && cluster !== undefined) held.add(cluster);
    }
    const [rqFirst, rqLast, cxFirst, cxLast] = [
      countersByCluster(first.samples, REQUESTS),
      countersByCluster(last.samples, REQUESTS),
      countersByCluster(first.samples, CONNECTIONS),
      countersByCluster(last.samples, CONNECTIONS),
    ];
    const clusters: ClusterUse[] = [...held].sort().map((cluster) => ({
      cluster,
      requests: single ? (rqLast.get(cluster) ?? 0) : increase(rqFirst.get(cluster), rqLast.get(cluster)),
      connections: single ? (cxLast.get(cluster) ?? 0) : increase(cxFirst.get(cluster), cxLast.get(cluster)),
      counted: rqLast.has(cluster) || cxLast.has(cluster),
      ...(single ? {} : { sinceStart: (rqLast.get(cluster) ?? 0) + (cxLast.get(cluster) ?? 0) }),
    }));
    const active = last.samples.find((s) => s.name === ACTIVE_CLUSTERS);
    const uptime = last.samples.find((s) => s.name === UPTIME && Number.isFinite(s.value));
    proxies.set(proxyKey(first), {
      namespace: first.namespace,
      pod: first.pod,
      clusters,
      ...(active === undefined ? {} : { activeClusters: active.value }),
      ...(uptime === undefined ? {} : { uptimeSeconds: uptime.value }),
      scrapes: group.length,
    });
  }
  // Listings (`/clusters`, config dumps) name every cluster held; `/clusters` also counts each host's traffic.
  const listed = new Map<string, ListedProxy[]>();
  for (const listing of listings) listed.set(proxyKey(listing), [...(listed.get(proxyKey(listing)) ?? []), listing]);
  for (const [key, group] of listed) {
    const counted = group.filter((l) => l.counted);
    // By name, once: a /clusters listing holds thousands of clusters, looked up for each name.
    const [firstCount, lastCount] = [counted[0], counted[counted.length - 1]].map((l) => new Map((l?.clusters ?? []).map((c) => [c.name, c])));
    const countOf = (listing: ReadonlyMap<string, ListedCluster> | undefined, name: string, field: 'requests' | 'connections'): number | undefined =>
      listing?.get(name)?.[field];
    const names = new Set(group.flatMap((l) => l.clusters.map((c) => c.name)));
    const existing = proxies.get(key);
    const byName = new Map((existing?.clusters ?? []).map((c) => [c.cluster, c]));
    for (const name of names) {
      const before = byName.get(name);
      const traffic = (field: 'requests' | 'connections'): number =>
        counted.length <= 1 ? (countOf(lastCount, name, field) ?? 0) : increase(countOf(firstCount, name, field), countOf(lastCount, name, field));
      byName.set(name, {
        cluster: name,
        requests: Math.max(before?.requests ?? 0, traffic('requests')),
        connections: Math.max(before?.connections ?? 0, traffic('connections')),
        counted: (before?.counted ?? false) || counted.length > 0,
      });
    }
    const first = group[0] as ListedProxy;
    proxies.set(key, {
      namespace: first.namespace,
      pod: first.pod,
      clusters: [...byName.values()].sort((a, b) => a.cluster.localeCompare(b.cluster)),
      ...(existing?.activeClusters === undefined ? {} : { activeClusters: existing.activeClusters }),
      ...(existing?.uptimeSeconds === undefined ? {} : { uptimeSeconds: existing.uptimeSeconds }),
      scrapes: Math.max(existing?.scrapes ?? 0, Math.max(counted.length, 1)),
    });
  }
  return [...proxies.values()];
}

/** A proxy's cluster listing, as clustersFromSnapshots merges it with its stats. */
export interface ListedProxy extends ProxyRef, ClusterListing {}

export const REQUESTS_METRIC = 'istio_requests_total';

/**
 * Distinct values of each label in `istio_requests_total` per proxy (series seen in any
 * snapshot), and the `destination_service` values whose namespace is "unknown".
 *
 * @example requestLabelsFromSnapshots(snaps, ['destination_service'])[0].distinct // { destination_service: 212 }
 */
export function requestLabelsFromSnapshots(snapshots: readonly StatsSnapshot[], labels: readonly string[]): ProxyRequestLabels[] {
  const proxies: ProxyRequestLabels[] = [];
  for (const group of byProxy(snapshots).values()) {
    const first = group[0] as StatsSnapshot;
    const values = new Map<string, Set<string>>(labels.map((label) => [label, new Set<string>()]));
    const fallback = new Map<string, { value: string; reporter: string }>();
    for (const s of group.flatMap((snapshot) => snapshot.samples)) {
      if (s.name !== REQUESTS_METRIC) continue;
      for (const label of labels) {
        const value = s.labels[label];
        if (value !== undefined) values.get(label)?.add(value);
      }
      const destination = s.labels['destination_service'];
      if (s.labels['destination_service_namespace'] === 'unknown' && destination !== undefined && destination !== 'unknown') {
        const reporter = s.labels['reporter'] ?? 'unknown';
        fallback.set(`${reporter}\u0000${destination}`, { value: destination, reporter });
      }
    }
    proxies.push({
      namespace: first.namespace,
      pod: first.pod,
      distinct: Object.fromEntries([...values].map(([label, set]) => [label, set.size])),
      examples: Object.fromEntries([...values].map(([label, set]) => [label, [...set].sort().slice(0, EXAMPLE_VALUES)])),
      fallback: [...fallback.values()].sort((a, b) => a.value.localeCompare(b.value) || a.reporter.localeCompare(b.reporter)),
    });
  }
  return proxies;
}

export const TCP_OPENED_METRIC = 'istio_tcp_connections_opened_total';
const EDGE_METRICS = [REQUESTS_METRIC, TCP_OPENED_METRIC] as const;

/**
 * Caller → destination pairs from `istio_requests_total` and `istio_tcp_connections_opened_total`,
 * whichever proxy reported them (the caller as `reporter="source"`, the callee as
 * `reporter="destination"`): the counter's increase between the first and the last snapshot of
 * the reporting proxy, or its value since that proxy started when there is one snapshot.
 *
 * @example requestEdgesFromSnapshots(snaps)[0] // { sourceNamespace: 'default', sourceWorkload: 'productpage-v1', destinationService: 'reviews.default.svc.cluster.local', … }
 */
export function requestEdgesFromSnapshots(snapshots: readonly StatsSnapshot[]): RequestEdge[] {
  const edges = new Map<string, { edge: Omit<RequestEdge, 'count'>; count: number }>();
  for (const all of byProxy(snapshots).values()) {
    const withEdges = all.filter((s) => s.samples.some((x) => x.name === REQUESTS_METRIC || x.name === TCP_OPENED_METRIC));
    if (withEdges.length === 0) continue;
    const group = withEdges;
    const first = group[0] as StatsSnapshot;
    const last = group[group.length - 1] as StatsSnapshot;
    const totals = (snapshot: StatsSnapshot): Map<string, { edge: Omit<RequestEdge, 'count'>; value: number }> => {
      const out = new Map<string, { edge: Omit<RequestEdge, 'count'>; value: number }>();
      for (const s of snapshot.samples) {
        const metric = EDGE_METRICS.find((m) => m === s.name);
        const sourceWorkload = s.labels['source_workload'];
        const sourceNamespace = s.labels['source_workload_namespace'];
        const destinationService = s.labels['destination_service'];
        if (metric === undefined || sourceWorkload === undefined || sourceNamespace === undefined || destinationService === undefined) continue;
        if (!Number.isFinite(s.value)) continue;
        const destinationNamespace = s.labels['destination_service_namespace'];
        const key = [metric, sourceNamespace, sourceWorkload, destinationService, destinationNamespace ?? ''].join('\u0000');
        const entry = out.get(key) ?? {
          edge: { sourceNamespace, sourceWorkload, destinationService, ...(destinationNamespace === undefined ? {} : { destinationNamespace }), metric },
          value: 0,
        };
        entry.value += s.value;
        out.set(key, entry);
      }
      return out;
    };
    const [before, after] = [totals(first), totals(last)];
    for (const [key, { edge, value }] of after) {
      const count = group.length === 1 ? value : increase(before.get(key)?.value, value);
      const entry = edges.get(key) ?? { edge, count: 0 };
      entry.count += count;
      edges.set(key, entry);
    }
  }
  return [...edges.values()]
    .map(({ edge, count }) => ({ ...edge, count }))
    .sort((a, b) => `${a.sourceNamespace}/${a.sourceWorkload}→${a.destinationService}`.localeCompare(`${b.sourceNamespace}/${b.sourceWorkload}→${b.destinationService}`) || a.metric.localeCompare(b.metric));
}
