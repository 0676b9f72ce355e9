import type {
  CardinalityEvidence,
  FallbackValue,
  MemoryEvidence,
  MemorySeries,
  PodFacts,
  ProxyClusters,
  ProxyRequestLabels,
  RequestEdge,
  ScopeEvidence,
} from '../observations.js';
import type { MemorySignal } from '../observations.js';
import { AGENT_RSS_METRIC, AGENT_SUMS, EXAMPLE_VALUES, MEMORY_SIGNALS, MEMORY_SIGNAL_METRICS } from '../observations.js';
import { parseSampleValue } from '../prometheus-text.js';
import { podFactsFromName } from '../workload-identity.js';
import type { RecommendSource } from './source.js';

export interface PrometheusSourceOptions {
  /** Base URL of the server, e.g. http://prometheus.istio-system:9090. */
  readonly url: string;
  /** Look-back window in seconds. */
  readonly windowSeconds: number;
  /** query_range resolution in seconds. */
  readonly stepSeconds: number;
  /** Only this namespace; every namespace when absent. */
  readonly namespace?: string;
  /** Labels the scrape config puts the pod's namespace and name in. */
  readonly namespaceLabel?: string;
  readonly podLabel?: string;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
}

type Metric = Readonly<Record<string, string>>;
interface MatrixResult {
  readonly metric: Metric;
  readonly values: readonly [number, string][];
}
interface VectorResult {
  readonly metric: Metric;
  readonly value: readonly [number, string];
}
interface ApiResponse {
  readonly status: 'success' | 'error';
  readonly data?: { readonly resultType: string; readonly result: readonly unknown[] };
  readonly errorType?: string;
  readonly error?: string;
}

/** kube-state-metrics' `kube_pod_labels` names → pod label keys the rules can select on. */
const KSM_LABELS: Readonly<Record<string, string>> = {
  label_app: 'app',
  label_version: 'version',
  label_app_kubernetes_io_name: 'app.kubernetes.io/name',
  label_app_kubernetes_io_version: 'app.kubernetes.io/version',
  label_istio: 'istio',
  label_gateway_networking_k8s_io_gateway_name: 'gateway.networking.k8s.io/gateway-name',
};

/**
 * Prometheus refuses a range query whose (end − start) / step is above 11,000 points per series
 * (web/api/v1/api.go: "exceeded maximum resolution of 11,000 points per timeseries").
 */
export const MAX_POINTS_PER_SERIES = 11_000;

/**
 * The step a range query over `windowSeconds` can use: the one asked for, or the smallest whole
 * number of seconds that keeps the query within Prometheus' points limit.
 *
 * @example rangeStep(30 * 86400, 60) // 236
 */
export function rangeStep(windowSeconds: number, stepSeconds: number): number {
  return windowSeconds / stepSeconds > MAX_POINTS_PER_SERIES ? Math.ceil(windowSeconds / MAX_POINTS_PER_SERIES) : stepSeconds;
}

/** Escapes a PromQL double-quoted string. */
const quote = (value: string): string => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * Prometheus as a source: memory over the window with `query_range`, everything else with
 * instant queries at the window's end. Pods are named by `namespace`/`pod` labels (configurable);
 * workloads come from pod names; labels, memory request/limit and OOM kills come from
 * kube-state-metrics when it is scraped.
 *
 * @example prometheusSource({ url: 'http://localhost:9090', windowSeconds: 7 * 86400, stepSeconds: 300 })
 */
export function prometheusSource(options: PrometheusSourceOptions): RecommendSource {
  const ns = options.namespaceLabel ?? 'namespace';
  const podLabel = options.podLabel ?? 'pod';
  const doFetch = options.fetch ?? fetch;
  const end = (options.now ?? (() => new Date()))();
  const endSeconds = end.getTime() / 1000;
  const window = `${options.windowSeconds}s`;
  const warnings: string[] = [];
  const stepSeconds = rangeStep(options.windowSeconds, options.stepSeconds);
  if (stepSeconds !== options.stepSeconds) {
    warnings.push(
      `--step ${options.stepSeconds}s over --window ${window} would ask for ${Math.floor(options.windowSeconds / options.stepSeconds)} points per series, ` +
        `above Prometheus' limit of ${MAX_POINTS_PER_SERIES}: querying at step ${stepSeconds}s (peaks between points can be missed; a shorter window keeps the finer step)`,
    );
  }
  const selector = (...matchers: string[]): string => {
    const all = [...(options.namespace === undefined ? [] : [`${ns}=${quote(options.namespace)}`]), ...matchers];
    return all.length === 0 ? '' : `{${all.join(',')}}`;
  };

  async function call(path: string, params: Record<string, string>): Promise<readonly unknown[]> {
    const url = new URL(path, options.url.endsWith('/') ? options.url : `${options.url}/`);
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(params).toString(),
      });
    } catch (error) {
      // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, a TLS failure).
      const cause = (error as { cause?: unknown }).cause;
      const why = cause instanceof Error ? cause.message : (error as Error).message;
      throw new Error(`cannot reach Prometheus at ${options.url}: ${why}; check the URL (kubectl port-forward reaches an in-cluster server)`, { cause: error });
    }
    const text = await response.text();
    let body: ApiResponse;
    try {
      body = JSON.parse(text) as ApiResponse;
    } catch {
      throw new Error(`Prometheus ${url.pathname}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (body.status !== 'success' || body.data === undefined) {
      throw new Error(`Prometheus query ${params['query'] ?? ''} failed: ${body.errorType ?? 'error'}: ${body.error ?? `HTTP ${response.status}`}`);
    }
    return body.data.result;
  }

  const range = async (query: string): Promise<MatrixResult[]> =>
    (await call('api/v1/query_range', {
      query,
      start: String(endSeconds - options.windowSeconds),
      end: String(endSeconds),
      step: String(stepSeconds),
    })) as MatrixResult[];
  const instant = async (query: string): Promise<VectorResult[]> =>
    (await call('api/v1/query', { query, time: String(endSeconds) })) as VectorResult[];

  const refOf = (metric: Metric): { namespace: string; pod: string } | undefined => {
    const namespace = metric[ns];
    const pod = metric[podLabel];
    return namespace === undefined || pod === undefined ? undefined : { namespace, pod };
  };
  const valueOf = (result: VectorResult): number => parseSampleValue(result.value[1]) ?? Number.NaN;
  const byPod = (results: readonly VectorResult[]): Map<string, number> => {
    const values = new Map<string, number>();
    for (const r of results) {
      const ref = refOf(r.metric);
      if (ref) values.set(`${ref.namespace}/${ref.pod}`, Math.max(values.get(`${ref.namespace}/${ref.pod}`) ?? 0, valueOf(r)));
    }
    return values;
  };

  async function podFacts(refs: readonly { namespace: string; pod: string }[]): Promise<PodFacts[]> {
    const proxy = 'container="istio-proxy"';
    const [requests, limits, ooms, labels] = await Promise.all([
      instant(`kube_pod_container_resource_requests${selector(proxy, 'resource="memory"')}`),
      instant(`kube_pod_container_resource_limits${selector(proxy, 'resource="memory"')}`),
      instant(`max_over_time(kube_pod_container_status_last_terminated_reason${selector(proxy, 'reason="OOMKilled"')}[${window}])`),
      instant(`kube_pod_labels${selector()}`),
    ]);
    const [requestByPod, limitByPod, oomByPod] = [byPod(requests), byPod(limits), byPod(ooms)];
    const labelsByPod = new Map<string, Record<string, string>>();
    for (const r of labels) {
      const ref = refOf(r.metric);
      if (ref === undefined) continue;
      const podLabels: Record<string, string> = {};
      for (const [ksm, key] of Object.entries(KSM_LABELS)) {
        const value = r.metric[ksm];
        if (value !== undefined && value !== '') podLabels[key] = value;
      }
      labelsByPod.set(`${ref.namespace}/${ref.pod}`, podLabels);
    }
    if (requests.length + limits.length + labels.length === 0) {
      warnings.push('no kube-state-metrics series (kube_pod_labels, kube_pod_container_resource_*): current limits, labels and OOM kills are unknown');
    }
    return refs.map((ref) => {
      const key = `${ref.namespace}/${ref.pod}`;
      const podLabels = labelsByPod.get(key) ?? {};
      const memoryRequest = requestByPod.get(key);
      const memoryLimit = limitByPod.get(key);
      return podFactsFromName(ref.namespace, ref.pod, {
        labels: podLabels,
        oomKills: (oomByPod.get(key) ?? 0) > 0 ? 1 : 0,
        gateway: /gateway$/.test(podLabels['istio'] ?? '') || podLabels['gateway.networking.k8s.io/gateway-name'] !== undefined,
        ...(memoryRequest === undefined ? {} : { memoryRequest }),
        ...(memoryLimit === undefined ? {} : { memoryLimit }),
      });
    });
  }

  const uniqueRefs = (refs: readonly ({ namespace: string; pod: string } | undefined)[]): { namespace: string; pod: string }[] =>
    [...new Map(refs.filter((r) => r !== undefined).map((r) => [`${r.namespace}/${r.pod}`, r])).values()];

  return {
    warnings,
    async memory(): Promise<MemoryEvidence> {
      const metrics = {
        working_set: `${MEMORY_SIGNAL_METRICS.working_set}${selector('container="istio-proxy"')}`,
        agent: `${AGENT_RSS_METRIC}${selector()}`,
        physical: `${MEMORY_SIGNAL_METRICS.physical}${selector()}`,
        heap: `${MEMORY_SIGNAL_METRICS.heap}${selector()}`,
        allocated: `${MEMORY_SIGNAL_METRICS.allocated}${selector()}`,
      };
      const names = Object.keys(metrics) as (keyof typeof metrics)[];
      const results = await Promise.all(names.map((name) => range(metrics[name])));
      // Per pod and metric, timestamp → value. cAdvisor can report a pod twice (different `id`s)
      // and two jobs can scrape one proxy: the larger value at each instant counts.
      const pods = new Map<string, { ref: { namespace: string; pod: string }; points: Map<string, Map<number, number>> }>();
      names.forEach((name, i) => {
        for (const r of results[i] ?? []) {
          const ref = refOf(r.metric);
          if (ref === undefined) continue;
          const key = `${ref.namespace}/${ref.pod}`;
          const pod = pods.get(key) ?? { ref, points: new Map() };
          pods.set(key, pod);
          const points = pod.points.get(name) ?? new Map<number, number>();
          pod.points.set(name, points);
          for (const [time, text] of r.values) {
            const value = parseSampleValue(text);
            if (value !== undefined && Number.isFinite(value)) points.set(time, Math.max(points.get(time) ?? value, value));
          }
        }
      });
      const series: MemorySeries[] = [];
      for (const { ref, points } of pods.values()) {
        const valuesOf = (signal: MemorySignal): number[] => {
          if (signal === 'agent_physical' || signal === 'agent_heap') {
            // query_range puts every series on the same step grid, so the parts meet at equal timestamps.
            const agent = points.get('agent');
            const envoy = points.get(AGENT_SUMS[signal]);
            if (agent === undefined || envoy === undefined) return [];
            return [...agent].flatMap(([time, value]) => (envoy.has(time) ? [value + (envoy.get(time) as number)] : []));
          }
          return [...(points.get(signal) ?? new Map<number, number>()).values()];
        };
        for (const signal of MEMORY_SIGNALS) {
          const values = valuesOf(signal);
          if (values.length > 0) series.push({ ...ref, signal, values });
        }
      }
      return { pods: await podFacts(uniqueRefs(series)), series };
    },
    async scope(): Promise<ScopeEvidence> {
      const edgeQuery = (metric: string): string =>
        `sum by (source_workload_namespace, source_workload, destination_service, destination_service_namespace) (increase(${metric}${options.namespace === undefined ? '' : `{source_workload_namespace=${quote(options.namespace)}}`}[${window}]))`;
      // Every cluster any of a proxy's Envoy stats names (a stats inclusion of circuit breakers only, or
      // Istio 1.5's SDS counters, name clusters without counting their traffic), as a saved scrape shows them.
      const anyClusterStat = `{${['__name__=~"envoy_cluster_.+"', 'cluster_name!=""', ...(options.namespace === undefined ? [] : [`${ns}=${quote(options.namespace)}`])].join(',')}}`;
      const [rq, cx, held, active, listed, httpEdges, tcpEdges] = await Promise.all([
        instant(`increase(envoy_cluster_upstream_rq_total${selector()}[${window}])`),
        instant(`increase(envoy_cluster_upstream_cx_total${selector()}[${window}])`),
        instant(`group by (${ns}, ${podLabel}, cluster_name) (${anyClusterStat})`),
        instant(`envoy_cluster_manager_active_clusters${selector()}`),
        instant(`kube_pod_container_info${selector('container="istio-proxy"')}`),
        instant(edgeQuery('istio_requests_total')),
        instant(edgeQuery('istio_tcp_connections_opened_total')),
      ]);
      const requests: RequestEdge[] = [];
      for (const [results, metric] of [[httpEdges, 'istio_requests_total'], [tcpEdges, 'istio_tcp_connections_opened_total']] as const) {
        for (const r of results) {
          const { source_workload: sourceWorkload, source_workload_namespace: sourceNamespace, destination_service: destinationService, destination_service_namespace: destinationNamespace } = r.metric;
          if (sourceWorkload === undefined || sourceNamespace === undefined || destinationService === undefined) continue;
          requests.push({
            sourceNamespace,
            sourceWorkload,
            destinationService,
            ...(destinationNamespace === undefined ? {} : { destinationNamespace }),
            metric,
            count: Number.isFinite(valueOf(r)) ? valueOf(r) : 0,
          });
        }
      }
      const proxies = new Map<string, { namespace: string; pod: string; clusters: Map<string, { requests: number; connections: number; counted: boolean }> }>();
      const proxyOf = (ref: { namespace: string; pod: string }) => {
        const key = `${ref.namespace}/${ref.pod}`;
        const proxy = proxies.get(key) ?? { ...ref, clusters: new Map() };
        proxies.set(key, proxy);
        return proxy;
      };
      const add = (results: readonly VectorResult[], field: 'requests' | 'connections' | 'held'): void => {
        for (const r of results) {
          const ref = refOf(r.metric);
          const cluster = r.metric['cluster_name'];
          if (ref === undefined || cluster === undefined) continue;
          const proxy = proxyOf(ref);
          const use = proxy.clusters.get(cluster) ?? { requests: 0, connections: 0, counted: false };
          if (field !== 'held') {
            use[field] += Number.isFinite(valueOf(r)) ? valueOf(r) : 0;
            use.counted = true;
          }
          proxy.clusters.set(cluster, use);
        }
      };
      add(rq, 'requests');
      add(cx, 'connections');
      add(held, 'held');
      // A proxy whose stats name no cluster still holds some: its count alone is evidence, as in a saved scrape.
      for (const r of active) {
        const ref = refOf(r.metric);
        if (ref !== undefined) proxyOf(ref);
      }
      const activeByPod = byPod(active);
      const result: ProxyClusters[] = [...proxies.entries()].map(([key, p]) => {
        const activeClusters = activeByPod.get(key);
        return {
          namespace: p.namespace,
          pod: p.pod,
          clusters: [...p.clusters.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([cluster, use]) => ({ cluster, ...use })),
          ...(activeClusters === undefined ? {} : { activeClusters }),
        };
      });
      // kube-state-metrics lists every pod running istio-proxy: the inventory a namespace Sidecar is checked against.
      const listedRefs = uniqueRefs(listed.map((r) => refOf(r.metric)));
      const facts = await podFacts(uniqueRefs([...result, ...listedRefs]));
      const factOf = new Map(facts.map((f) => [`${f.namespace}/${f.pod}`, f]));
      const inventory =
        listedRefs.length === 0
          ? undefined
          : {
              pods: listedRefs.map((r) => factOf.get(`${r.namespace}/${r.pod}`) ?? podFactsFromName(r.namespace, r.pod)),
              completeIn: [options.namespace ?? '*'],
              from: 'kube-state-metrics (kube_pod_container_info{container="istio-proxy"})',
            };
      const seen = new Set(result.map((p) => `${p.namespace}/${p.pod}`));
      return { pods: facts.filter((f) => seen.has(`${f.namespace}/${f.pod}`)), proxies: result, requests, ...(inventory === undefined ? {} : { inventory }) };
    },
    async cardinality(labels): Promise<CardinalityEvidence> {
      const series = `last_over_time(istio_requests_total${selector()}[${window}])`;
      const counts = await Promise.all(labels.map((label) => instant(`count by (${ns}, ${podLabel}) (count by (${ns}, ${podLabel}, ${label}) (${series}))`)));
      // The values themselves, to tell a status code from a pod name or a path; a few per proxy are kept.
      const values = await Promise.all(labels.map((label) => instant(`group by (${ns}, ${podLabel}, ${label}) (${series})`)));
      const fallbackSeries = `last_over_time(istio_requests_total${selector('destination_service_namespace="unknown"', 'destination_service!="unknown"')}[${window}])`;
      const fallback = await instant(`group by (${ns}, ${podLabel}, reporter, destination_service) (${fallbackSeries})`);
      const proxies = new Map<string, { namespace: string; pod: string; distinct: Record<string, number>; fallback: FallbackValue[]; examples: Record<string, string[]> }>();
      const proxyFor = (ref: { namespace: string; pod: string }) => {
        const key = `${ref.namespace}/${ref.pod}`;
        const proxy = proxies.get(key) ?? { ...ref, distinct: {}, fallback: [], examples: {} };
        proxies.set(key, proxy);
        return proxy;
      };
      labels.forEach((label, i) => {
        for (const r of counts[i] ?? []) {
          const ref = refOf(r.metric);
          if (ref) proxyFor(ref).distinct[label] = valueOf(r);
        }
      });
      labels.forEach((label, i) => {
        for (const r of values[i] ?? []) {
          const ref = refOf(r.metric);
          const value = r.metric[label];
          if (ref === undefined || value === undefined) continue;
          const own = (proxyFor(ref).examples[label] ??= []);
          if (own.length < EXAMPLE_VALUES) own.push(value);
        }
      });
      for (const r of fallback) {
        const ref = refOf(r.metric);
        const value = r.metric['destination_service'];
        if (ref && value !== undefined) proxyFor(ref).fallback.push({ value, reporter: r.metric['reporter'] ?? 'unknown' });
      }
      const result: ProxyRequestLabels[] = [...proxies.values()].map((p) => ({
        ...p,
        fallback: [...p.fallback].sort((a, b) => a.value.localeCompare(b.value) || a.reporter.localeCompare(b.reporter)),
      }));
      return { pods: await podFacts(result), proxies: result };
    },
  };
}
