/**
 * Readers for what Envoy's admin interface and Istio's tools print, into the samples and cluster
 * listings the recommenders read: `/clusters` (text and `?format=json`), `/config_dump` (and
 * `istioctl proxy-config all -o json`), plain `/stats`, `/memory`, and Prometheus HTTP API query
 * results. Each reader takes parsed content and returns what it holds; detecting which one a file
 * is happens in sources/detect-input.ts.
 */
import { MEMORY_SIGNAL_METRICS } from './observations.js';
import type { Sample } from './prometheus-text.js';
import { parseSampleValue } from './prometheus-text.js';

/** One cluster a proxy holds, with the traffic its hosts counted when the listing has counters. */
export interface ListedCluster {
  readonly name: string;
  /** Requests and connections summed over the cluster's hosts (`/clusters` host statistics). */
  readonly requests?: number;
  readonly connections?: number;
  /** Endpoints, when the listing shows them. */
  readonly endpoints?: number;
}

/** The clusters one proxy holds, from a listing rather than from stats. */
export interface ClusterListing {
  readonly clusters: readonly ListedCluster[];
  /** True when the listing counts traffic per cluster (`/clusters`); a config dump does not. */
  readonly counted: boolean;
}

type Json = unknown;
const isObject = (value: Json): value is Record<string, Json> => typeof value === 'object' && value !== null && !Array.isArray(value);
const asArray = (value: Json): Json[] => (Array.isArray(value) ? value : []);
/** Envoy prints protobuf JSON: snake_case from the admin API, camelCase from some tools; both are read. */
const field = (obj: Record<string, Json>, snake: string): Json => obj[snake] ?? obj[snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())];
/** uint64 values are strings in protobuf JSON, and zero is left out. */
const numberOf = (value: Json): number => {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return parseSampleValue(value) ?? 0;
  return 0;
};

const HOST_COUNTERS = { rq_total: 'requests', cx_total: 'connections' } as const;

/**
 * `/clusters` text: `cluster::key::value` and `cluster::host:port::stat::value` lines.
 *
 * @example parseClustersText('outbound|443||*.wikipedia.org::142.251.223.228:443::rq_total::3\n').clusters[0] // { name: 'outbound|443||*.wikipedia.org', requests: 3, connections: 0, endpoints: 1 }
 */
export function parseClustersText(text: string): ClusterListing {
  const clusters = new Map<string, { requests: number; connections: number; hosts: Set<string> }>();
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const name = trimmed.slice(0, trimmed.indexOf('::'));
    const cluster = clusters.get(name) ?? { requests: 0, connections: 0, hosts: new Set<string>() };
    clusters.set(name, cluster);
    // A host row: the address may itself hold "::" (IPv6), so the stat and value are read from the end.
    const host = /^(.+?)::(.+)::(cx_total|rq_total|cx_active|rq_active|health_flags|weight|cx_connect_fail|rq_error|rq_success|rq_timeout|hostname|region|zone|sub_zone|canary|priority|success_rate|local_origin_success_rate)::(.*)$/.exec(trimmed);
    if (host === null) continue;
    cluster.hosts.add(host[2] as string);
    const counter = HOST_COUNTERS[host[3] as keyof typeof HOST_COUNTERS] as 'requests' | 'connections' | undefined;
    if (counter !== undefined) cluster[counter] += parseSampleValue(host[4] as string) ?? 0;
  }
  return {
    counted: true,
    clusters: [...clusters].map(([name, c]) => ({ name, requests: c.requests, connections: c.connections, endpoints: c.hosts.size })),
  };
}

/**
 * True when text is `/clusters` output: every line `name::…`, and some line a cluster setting or a
 * host counter (`/listeners` text is `name::address` lines too, and must not pass for clusters).
 */
export function looksLikeClustersText(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  return (
    lines.length > 0 &&
    lines.every((l) => /^[^\s:{}#][^\s]*?::\S/.test(l.trim())) &&
    lines.some((l) => /::(added_via_api|default_priority|high_priority|observability_name|outlier)::|::(cx_total|rq_total)::/.test(l))
  );
}

/**
 * `/clusters?format=json`: `cluster_statuses[].host_statuses[].stats[]`.
 *
 * @example parseClustersJson({ cluster_statuses: [{ name: 'outbound|9080||reviews…', host_statuses: [] }] }).clusters[0].name
 */
export function parseClustersJson(body: Record<string, Json>): ClusterListing {
  const clusters = asArray(field(body, 'cluster_statuses')).filter(isObject).map((status): ListedCluster => {
    let requests = 0;
    let connections = 0;
    const hosts = asArray(field(status, 'host_statuses')).filter(isObject);
    for (const host of hosts) {
      for (const stat of asArray(host['stats']).filter(isObject)) {
        const counter = HOST_COUNTERS[String(stat['name']) as keyof typeof HOST_COUNTERS] as 'requests' | 'connections' | undefined;
        if (counter === 'requests') requests += numberOf(stat['value']);
        if (counter === 'connections') connections += numberOf(stat['value']);
      }
    }
    return { name: String(status['name'] ?? ''), requests, connections, endpoints: hosts.length };
  });
  return { counted: true, clusters: clusters.filter((c) => c.name !== '') };
}

/** Who a config dump's proxy is: Istio's node id `TYPE~IP~POD.NAMESPACE~DOMAIN`, and its labels when the metadata has them. */
export interface ProxyNode {
  readonly namespace: string;
  readonly pod: string;
  /** `router` for gateways, `sidecar` for sidecars (Istio's node type). */
  readonly type: string;
  readonly labels: Readonly<Record<string, string>>;
}

function configEntries(body: Record<string, Json>): Record<string, Json>[] {
  const configs = body['configs'];
  // Envoy prints a list; dumps from before Envoy 1.7 keyed it by name.
  return (Array.isArray(configs) ? configs : isObject(configs) ? Object.values(configs) : []).filter(isObject);
}
const ofType = (entries: readonly Record<string, Json>[], suffix: string): Record<string, Json>[] =>
  entries.filter((e) => String(e['@type'] ?? '').endsWith(suffix));

/**
 * A config dump's node: from `bootstrap.node.id` (`sidecar~10.0.0.1~reviews-v1-x.default~default.svc.cluster.local`),
 * else the POD_NAME/NAMESPACE metadata.
 */
export function configDumpNode(body: Record<string, Json>): ProxyNode | undefined {
  const bootstrap = ofType(configEntries(body), 'BootstrapConfigDump')[0];
  const node = bootstrap === undefined ? undefined : field(bootstrap, 'bootstrap');
  const nodeObj = isObject(node) ? node['node'] : undefined;
  if (!isObject(nodeObj)) return undefined;
  const metadata = isObject(nodeObj['metadata']) ? nodeObj['metadata'] : {};
  const labelsJson = metadata['LABELS'];
  const labels = isObject(labelsJson) ? Object.fromEntries(Object.entries(labelsJson).map(([k, v]) => [k, String(v)])) : {};
  const [type = '', , podDotNs = ''] = String(nodeObj['id'] ?? '').split('~');
  const dot = podDotNs.lastIndexOf('.');
  const pod = typeof metadata['POD_NAME'] === 'string' ? metadata['POD_NAME'] : dot > 0 ? podDotNs.slice(0, dot) : undefined;
  const namespace = typeof metadata['NAMESPACE'] === 'string' ? metadata['NAMESPACE'] : dot > 0 ? podDotNs.slice(dot + 1) : undefined;
  if (pod === undefined || namespace === undefined || pod === '' || namespace === '') return undefined;
  return { namespace, pod, type, labels };
}

/**
 * The clusters a config dump holds: static and dynamic active clusters, with their endpoint
 * counts when the dump includes endpoints (`?include_eds`). A dump counts no traffic.
 *
 * @example parseConfigDump(dump).clusters.map((c) => c.name) // ["xds-grpc", "outbound|15004||istio-policy.istio-system.svc.cluster.local"]
 */
export function parseConfigDump(body: Record<string, Json>): ClusterListing {
  const entries = configEntries(body);
  const names: string[] = [];
  for (const dump of ofType(entries, 'ClustersConfigDump')) {
    for (const key of ['static_clusters', 'dynamic_active_clusters']) {
      for (const item of asArray(field(dump, key)).filter(isObject)) {
        const cluster = isObject(item['cluster']) ? item['cluster'] : item;
        if (typeof cluster['name'] === 'string') names.push(cluster['name']);
      }
    }
  }
  const endpoints = new Map<string, number>();
  for (const dump of ofType(entries, 'EndpointsConfigDump')) {
    for (const key of ['static_endpoint_configs', 'dynamic_endpoint_configs']) {
      for (const item of asArray(field(dump, key)).filter(isObject)) {
        const config = field(item, 'endpoint_config');
        if (!isObject(config)) continue;
        const count = asArray(config['endpoints']).filter(isObject).reduce((sum, locality) => sum + asArray(field(locality, 'lb_endpoints')).length, 0);
        endpoints.set(String(field(config, 'cluster_name')), count);
      }
    }
  }
  return { counted: false, clusters: [...new Set(names)].map((name) => ({ name, ...(endpoints.has(name) ? { endpoints: endpoints.get(name) as number } : {}) })) };
}

/** True for a config dump: `{"configs": …}` holding Envoy admin dump types. */
export function isConfigDump(body: Json): body is Record<string, Json> {
  return isObject(body) && configEntries(body).some((e) => String(e['@type'] ?? '').includes('envoy.admin.'));
}

/**
 * `/memory`: Envoy's allocator figures, as the samples `/stats/prometheus` names them
 * (`total_physical_bytes` is what `server.memory_physical_size` reports).
 *
 * @example memorySamples({ allocated: '7340032', heap_size: '14680064', total_physical_bytes: '17301504' })[0].name // "envoy_server_memory_allocated"
 */
export function memorySamples(body: Record<string, Json>): Sample[] {
  const map = [
    ['allocated', MEMORY_SIGNAL_METRICS.allocated],
    ['heap_size', MEMORY_SIGNAL_METRICS.heap],
    ['total_physical_bytes', MEMORY_SIGNAL_METRICS.physical],
  ] as const;
  return map.filter(([key]) => body[key] !== undefined).map(([key, name]) => ({ name, labels: {}, value: numberOf(body[key]) }));
}

/** True for `/memory` output. */
export function isMemoryJson(body: Json): body is Record<string, Json> {
  return isObject(body) && body['allocated'] !== undefined && body['heap_size'] !== undefined;
}

// First segments of Envoy's per-cluster statistics (cluster manager docs): where a dotted cluster name ends.
const CLUSTER_STAT_ROOTS = new Set([
  'upstream_cx_total', 'upstream_rq_total', 'upstream_cx_active', 'upstream_rq_active', 'membership_total', 'membership_healthy',
  'membership_change', 'membership_degraded', 'membership_excluded', 'circuit_breakers', 'client_ssl_socket_factory', 'ssl', 'outlier_detection',
  'internal', 'external', 'canary', 'http1', 'http2', 'http3', 'lb_healthy_panic', 'update_attempt', 'update_success', 'update_failure',
  'update_empty', 'update_no_rebuild', 'version', 'max_host_weight', 'bind_errors', 'original_dst_host_invalid', 'assignment_stale',
  'assignment_timeout_received', 'retry_or_shadow_abandoned', 'default', 'upstream_rq', 'upstream_cx', 'zone', 'health_check',
]);

/** Reads `cluster.<name>.<stat>`, where an Istio cluster name (`outbound|9080||reviews.default.svc…`) holds dots. */
function splitClusterStat(rest: string): { cluster: string; stat: string } | undefined {
  // Istio's own tag regex for cluster_name ends a service host at .svc.cluster.local (its bootstrap's extraStatTags).
  const service = /^(.+?\|.*?\.svc\.cluster\.local)\.(.+)$/.exec(rest);
  if (service !== null) return { cluster: service[1] as string, stat: (service[2] as string).replace(/\./g, '_') };
  const parts = rest.split('.');
  for (let i = 1; i < parts.length; i += 1) {
    const root = parts[i] as string;
    if (rest.includes('|') && (root === 'default' || root === 'zone' || root === 'canary')) continue;
    if (CLUSTER_STAT_ROOTS.has(root) || /^upstream_/.test(root) || /^lb_/.test(root)) {
      return { cluster: parts.slice(0, i).join('.'), stat: parts.slice(i).join('_') };
    }
  }
  return undefined;
}

/**
 * Tag names of Istio's standard metrics (istio.io/latest/docs/reference/config/metrics/) and of
 * `istio_build`: where a tag name ends the previous tag's value in a native stats filter name.
 */
const ISTIO_TAGS = new Set([
  'reporter', 'source_workload', 'source_canonical_service', 'source_canonical_revision', 'source_workload_namespace',
  'source_principal', 'source_app', 'source_version', 'source_cluster', 'destination_workload', 'destination_workload_namespace',
  'destination_principal', 'destination_app', 'destination_version', 'destination_service', 'destination_canonical_service',
  'destination_canonical_revision', 'destination_service_name', 'destination_service_namespace', 'destination_cluster',
  'destination_port', 'request_protocol', 'response_code', 'grpc_response_status', 'response_flags', 'connection_security_policy',
  'component', 'tag',
]);
// Tags added with the Telemetry API or extraStatTags (request_host, request_path, …) are named like the standard ones.
const isIstioTag = (segment: string): boolean => ISTIO_TAGS.has(segment) || /^(source|destination|request|response|grpc|connection)_[a-z_]+$/.test(segment);

/**
 * Istio's native stats filter (istio/proxy `istio_stats.cc`, stat namespace `istiocustom`) names a
 * stat in plain `/stats` as the metric then tag name/value pairs, all joined by dots:
 * `istiocustom.istio_requests_total.reporter.source.source_workload.sleep.…`. Values hold dots
 * (`reviews.default.svc.cluster.local`) or are empty (`grpc_response_status.response_flags.-`), so a
 * value runs until the next segment that is a tag name.
 */
function istioCustomStat(name: string): { metric: string; labels: Record<string, string> } | undefined {
  const [namespace, metric, ...rest] = name.split('.');
  if (namespace !== 'istiocustom' || metric === undefined || !/^istio_[a-z_]+$/.test(metric) || rest.length === 0 || !isIstioTag(rest[0] as string)) return undefined;
  const labels: Record<string, string> = {};
  let tag = '';
  let value: string[] = [];
  for (const segment of rest) {
    // A segment naming the tag being read, or one already read, is part of a value.
    if (isIstioTag(segment) && segment !== tag && !(segment in labels)) {
      if (tag !== '') labels[tag] = value.join('.');
      tag = segment;
      value = [];
    } else {
      value.push(segment);
    }
  }
  labels[tag] = value.join('.');
  return { metric, labels };
}

/** Istio's tagged stat name in plain `/stats` before the native filter: `reporter=.=source;.;source_workload=.=productpage-v1;.;…;.;istio_requests_total`. */
function istioTaggedStat(name: string): { metric: string; labels: Record<string, string> } | undefined {
  if (name.startsWith('istiocustom.')) return istioCustomStat(name);
  const parts = name.split(';.;');
  const metric = parts.pop() as string;
  if (parts.length === 0 || !/^istio_[a-z_]+$/.test(metric)) return undefined;
  const labels: Record<string, string> = {};
  for (const part of parts) {
    const at = part.indexOf('=.=');
    if (at < 0) return undefined;
    labels[part.slice(0, at)] = part.slice(at + 3);
  }
  return { metric, labels };
}

/**
 * Plain `/stats` (`name: value` lines) as the samples `/stats/prometheus` would print: per-cluster
 * counters, the cluster manager's count, server memory and Istio's tagged metrics (both the
 * `reporter=.=…;.;` and the `istiocustom.…` naming); histograms and text values are skipped.
 *
 * @example parseStatsText('cluster.xds-grpc.upstream_rq_total: 1\n')[0] // { name: 'envoy_cluster_upstream_rq_total', labels: { cluster_name: 'xds-grpc' }, value: 1 }
 */
export function parseStatsText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split(/\r?\n/)) {
    const at = line.lastIndexOf(': ');
    if (at < 0) continue;
    const name = line.slice(0, at).trim();
    const value = parseSampleValue(line.slice(at + 2).trim());
    if (value === undefined) continue;
    const tagged = istioTaggedStat(name);
    if (tagged !== undefined) {
      samples.push({ name: tagged.metric, labels: tagged.labels, value });
    } else if (name.startsWith('cluster.')) {
      const split = splitClusterStat(name.slice('cluster.'.length));
      if (split !== undefined) samples.push({ name: `envoy_cluster_${split.stat}`, labels: { cluster_name: split.cluster }, value });
    } else if (/^(server|cluster_manager)\.[a-z_]+$/.test(name)) {
      samples.push({ name: `envoy_${name.replace('.', '_')}`, labels: {}, value });
    }
  }
  return samples;
}

/** True when text is plain `/stats`: `name: value` lines, no Prometheus braces. */
export function looksLikeStatsText(text: string): boolean {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) return false;
  const plain = lines.filter((l) => /^[A-Za-z_][^\s{}]*: \S/.test(l));
  return plain.length === lines.length && lines.some((l) => /^(server|cluster|cluster_manager|listener_manager|http)\./.test(l));
}

/** One point of a Prometheus API result: its series labels (with `__name__`) and value. */
export interface TimedSample extends Sample {
  readonly timestamp: number;
}

/**
 * A Prometheus HTTP API response (`/api/v1/query` vector or `/api/v1/query_range` matrix) as
 * samples with their timestamps. Series without `__name__` (an expression's result) name no metric.
 *
 * @example prometheusApiSamples({ status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'up' }, value: [1, '1'] }] } })
 */
export function prometheusApiSamples(body: Record<string, Json>): { samples: TimedSample[]; unnamed: number } {
  const data = isObject(body['data']) ? body['data'] : {};
  const samples: TimedSample[] = [];
  let unnamed = 0;
  for (const series of asArray(data['result']).filter(isObject)) {
    const metric = isObject(series['metric']) ? series['metric'] : {};
    const { __name__: name, ...labels } = Object.fromEntries(Object.entries(metric).map(([k, v]) => [k, String(v)]));
    if (name === undefined) {
      unnamed += 1;
      continue;
    }
    const points = data['resultType'] === 'matrix' ? asArray(series['values']) : [series['value']];
    for (const point of points) {
      if (!Array.isArray(point)) continue;
      const value = parseSampleValue(String(point[1]));
      if (value !== undefined) samples.push({ name, labels, value, timestamp: numberOf(point[0]) });
    }
  }
  return { samples, unnamed };
}

/** True for a Prometheus API query response. */
export function isPrometheusApiResponse(body: Json): body is Record<string, Json> {
  if (!isObject(body) || !isObject(body['data'])) return false;
  return body['status'] === 'success' && ['vector', 'matrix'].includes(String(body['data']['resultType']));
}

/** True for `/clusters?format=json`. */
export function isClustersJson(body: Json): body is Record<string, Json> {
  return isObject(body) && Array.isArray(field(body, 'cluster_statuses'));
}
