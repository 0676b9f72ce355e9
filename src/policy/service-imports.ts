import type { ServiceCatalogView, ServiceEntryFacts, ServiceFacts } from './service-facts.js';
import { MESH_WIDE_HOST, parseEgressHost, type EgressHost } from './sidecar-scope.js';
import type { SidecarFacts } from './types.js';

/**
 * Clusters every sidecar has whatever it imports. Static, from the bootstrap
 * (istio/istio tools/packaging/common/envoy_bootstrap.json): prometheus_stats, agent, sds-grpc,
 * xds-grpc. Dynamic, from istiod's cluster builder: BlackHoleCluster, PassthroughCluster,
 * InboundPassthroughCluster. A tracing cluster (zipkin, lightstep, datadog_agent) exists only when
 * tracing is configured and is not counted. Inbound clusters (one per port the workload serves)
 * are not counted either: they do not grow with the mesh.
 */
export const FIXED_CLUSTERS: readonly string[] = [
  'prometheus_stats',
  'agent',
  'sds-grpc',
  'xds-grpc',
  'BlackHoleCluster',
  'PassthroughCluster',
  'InboundPassthroughCluster',
];

/** Istio's mesh-wide default exportTo (MeshConfig `defaultServiceExportTo` unset): export everywhere. */
export const DEFAULT_EXPORT_TO: readonly string[] = ['*'];

export interface ImportedService {
  readonly kind: 'Service' | 'ServiceEntry';
  readonly namespace: string;
  readonly name: string;
  readonly clusters: number;
  readonly endpoints: number;
}

export interface ImportSummary {
  /** Services and ServiceEntries the proxy receives configuration for. */
  readonly services: number;
  /** Envoy clusters: service × port (ServiceEntry host × port), plus FIXED_CLUSTERS. */
  readonly clusters: number;
  /** Endpoints over all those clusters (a Service's endpoints count once per port). */
  readonly endpoints: number;
  /** True when nothing scopes the proxy: it imports everything exported to its namespace. */
  readonly unscoped: boolean;
}

export interface ImportResult extends ImportSummary {
  readonly imported: readonly ImportedService[];
}

/**
 * Whether config with this `exportTo` is visible in `namespace`: `*` everywhere, `.` in its own
 * namespace, `~` nowhere, a name in that namespace (Istio `exportTo` semantics; the Service
 * annotation and ServiceEntry `spec.exportTo` take the same values). Without an exportTo of its own,
 * the mesh's `defaultServiceExportTo` (`meshDefault`) applies.
 */
export function isExportedTo(exportTo: readonly string[] | undefined, owner: string, namespace: string, meshDefault: readonly string[] = DEFAULT_EXPORT_TO): boolean {
  for (const target of exportTo ?? meshDefault) {
    if (target === '*') return true;
    if (target === '.' ? owner === namespace : target === namespace) return true;
  }
  return false;
}

/**
 * Istio's host matching: `*` matches every host; `*.example.com` matches names ending in
 * `.example.com`; otherwise names must be equal. Either side may be a wildcard (a ServiceEntry
 * may declare `*.example.com`).
 */
export function hostMatches(pattern: string, host: string): boolean {
  if (pattern === '*' || host === '*') return true;
  const patternWild = pattern.startsWith('*');
  const hostWild = host.startsWith('*');
  if (!patternWild && !hostWild) return pattern === host;
  if (patternWild && hostWild) return host.slice(1).endsWith(pattern.slice(1)) || pattern.slice(1).endsWith(host.slice(1));
  if (patternWild) return host.endsWith(pattern.slice(1));
  return pattern.endsWith(host.slice(1));
}

interface HostBucket {
  readonly exact: Set<string>;
  readonly wildcards: string[];
}

/**
 * Egress hosts grouped by namespace (`*` for any), exact names in a set: a Sidecar listing
 * thousands of hosts costs a lookup per service, not a scan (a tenant writes Sidecars).
 */
class HostIndex {
  readonly #buckets = new Map<string, HostBucket>();

  constructor(hosts: readonly EgressHost[]) {
    for (const host of hosts) {
      if (host.namespace === undefined) continue;
      let bucket = this.#buckets.get(host.namespace);
      if (!bucket) this.#buckets.set(host.namespace, (bucket = { exact: new Set(), wildcards: [] }));
      if (host.dnsName.startsWith('*')) bucket.wildcards.push(host.dnsName);
      else bucket.exact.add(host.dnsName);
    }
  }

  /** The namespaces named, or undefined when a host names any namespace (`*`). */
  namespaces(): Iterable<string> | undefined {
    return this.#buckets.has('*') ? undefined : this.#buckets.keys();
  }

  selects(owner: string | undefined, names: readonly string[]): boolean {
    return (owner !== undefined && this.#inBucket(this.#buckets.get(owner), names)) || this.#inBucket(this.#buckets.get('*'), names);
  }

  #inBucket(bucket: HostBucket | undefined, names: readonly string[]): boolean {
    if (!bucket) return false;
    for (const name of names) {
      if (bucket.exact.has(name)) return true;
      if (bucket.wildcards.some((pattern) => hostMatches(pattern, name))) return true;
      // A wildcard ServiceEntry host (`*.example.com`) is selected by an exact egress host under it.
      if (name.startsWith('*')) for (const exact of bucket.exact) if (hostMatches(exact, name)) return true;
    }
    return false;
  }
}

export interface ImportOptions {
  readonly clusterDomain: string;
  /** MeshConfig `defaultServiceExportTo`: the exportTo of a Service or ServiceEntry that sets none (default `*`). */
  readonly defaultExportTo?: readonly string[];
  /** Include every imported service in the result (explain); off for admission, which needs totals. */
  readonly list?: boolean;
}

function serviceHost(service: ServiceFacts, clusterDomain: string): string {
  return `${service.name}.${service.namespace}.svc.${clusterDomain}`.toLowerCase();
}

function describeService(service: ServiceFacts, catalog: ServiceCatalogView): ImportedService {
  const endpoints = catalog.endpoints(service.namespace, service.name);
  return { kind: 'Service', namespace: service.namespace, name: service.name, clusters: service.ports, endpoints: endpoints * service.ports };
}

function describeEntry(entry: ServiceEntryFacts): ImportedService {
  const clusters = entry.hosts.length * entry.ports;
  return { kind: 'ServiceEntry', namespace: entry.namespace, name: entry.name, clusters, endpoints: entry.endpoints * clusters };
}

/**
 * True when this Sidecar scopes imports at all: it declares egress hosts. A Sidecar without egress
 * inherits the defaults (everything exported to the namespace).
 */
function scopingHosts(sidecar: SidecarFacts | undefined): readonly string[] | undefined {
  if (sidecar === undefined || !sidecar.hasEgress || sidecar.egressHosts.length === 0) return undefined;
  return sidecar.egressHosts;
}

/** What a set of egress hosts imports, by Istio's Sidecar egress host semantics. */
export interface EgressSelector {
  /** True when a host imports everything (`*\/*`): the proxy is not scoped. */
  readonly unscoped: boolean;
  /** The namespaces the hosts name, or undefined when one names any namespace (`*`). */
  namespaces(): Iterable<string> | undefined;
  /**
   * True when config owned by `owner` (its namespace; undefined when unknown, as for a
   * ServiceEntry host seen only in traffic) with these host names is imported: an include selects
   * it and no exclusion (`~ns/host`) removes it. An unknown owner is only selected by `*\/…` hosts.
   */
  imports(owner: string | undefined, names: readonly string[]): boolean;
}

/**
 * The one matcher for Sidecar egress hosts (istio/api sidecar.proto, IstioEgressListener.hosts):
 * `namespace/dnsName` with namespace `*`, `.` (the workload's), `~` (none) or a name, `~ns/host`
 * exclusions (1.31+), dnsName exact or a `*.suffix` wildcard, matched case-insensitively. Used for
 * the catalog (computeImports) and for observed traffic (recommend's verification).
 *
 * @example egressSelector(['./*', 'istio-system/*'], 'shop').imports('shop', ['cart.shop.svc.cluster.local']) // true
 */
export function egressSelector(hosts: readonly string[], workloadNamespace: string): EgressSelector {
  const parsed = hosts.map((h) => parseEgressHost(h, workloadNamespace)).filter((h): h is EgressHost => h !== undefined);
  const includes = parsed.filter((h) => !h.exclude);
  const unscoped = includes.some((h) => h.namespace === '*' && h.dnsName === '*');
  const included = new HostIndex(includes);
  const excluded = new HostIndex(parsed.filter((h) => h.exclude));
  return {
    unscoped,
    namespaces: () => (unscoped ? undefined : included.namespaces()),
    imports: (owner, names) => {
      const lower = names.some((n) => /[A-Z]|\.$/.test(n)) ? names.map((n) => n.toLowerCase().replace(/\.$/, '')) : names;
      return (unscoped || included.selects(owner, lower)) && !excluded.selects(owner, lower);
    },
  };
}

/**
 * What a proxy in `namespace` under `sidecar` (the effective one, or undefined) imports: every
 * Service and ServiceEntry exported to the namespace that one of the Sidecar's egress hosts selects
 * (and no exclusion removes); without a scoping Sidecar, everything exported to the namespace.
 *
 * @example computeImports('shop', sidecar, catalog, { clusterDomain: 'cluster.local' }).clusters
 */
export function computeImports(namespace: string, sidecar: SidecarFacts | undefined, catalog: ServiceCatalogView, options: ImportOptions): ImportResult {
  const hosts = scopingHosts(sidecar);
  const selector = egressSelector(hosts ?? [MESH_WIDE_HOST], namespace);
  const unscoped = selector.unscoped;
  const wanted = (owner: string, names: readonly string[]) => selector.imports(owner, names);

  const imported: ImportedService[] = [];
  let services = 0;
  let clusters = FIXED_CLUSTERS.length;
  let endpoints = 0;
  const add = (entry: ImportedService) => {
    services += 1;
    clusters += entry.clusters;
    endpoints += entry.endpoints;
    if (options.list) imported.push(entry);
  };
  for (const owner of selector.namespaces() ?? catalog.namespaces()) {
    for (const service of catalog.services(owner)) {
      if (!isExportedTo(service.exportTo, owner, namespace, options.defaultExportTo)) continue;
      if (wanted(owner, [serviceHost(service, options.clusterDomain)])) add(describeService(service, catalog));
    }
    for (const entry of catalog.serviceEntries(owner)) {
      if (!isExportedTo(entry.exportTo, owner, namespace, options.defaultExportTo)) continue;
      if (wanted(owner, entry.hosts)) add(describeEntry(entry));
    }
  }
  return { services, clusters, endpoints, unscoped, imported };
}

interface SummaryCache {
  version: number;
  readonly entries: Map<string, ImportSummary>;
}
const summaryCaches = new WeakMap<ServiceCatalogView, SummaryCache>();
const SUMMARY_CACHE_LIMIT = 4096;

/**
 * computeImports without the list, memoised per catalog version: admission asks the same question
 * for every pod of a namespace, and an unscoped one walks every Service of the mesh.
 */
export function summarizeImports(namespace: string, sidecar: SidecarFacts | undefined, catalog: ServiceCatalogView, options: Pick<ImportOptions, 'clusterDomain' | 'defaultExportTo'>): ImportSummary {
  let cache = summaryCaches.get(catalog);
  if (cache === undefined) summaryCaches.set(catalog, (cache = { version: catalog.version, entries: new Map() }));
  if (cache.version !== catalog.version || cache.entries.size >= SUMMARY_CACHE_LIMIT) {
    cache.version = catalog.version;
    cache.entries.clear();
  }
  const hosts = scopingHosts(sidecar);
  const meshDefault = options.defaultExportTo ?? DEFAULT_EXPORT_TO;
  const key = `${namespace}\u0000${options.clusterDomain}\u0000${meshDefault.join(',')}\u0000${hosts ? hosts.join('\u0000') : '-'}`;
  let summary = cache.entries.get(key);
  if (summary === undefined) {
    summary = isPlainUnscoped(hosts) ? unscopedSummary(namespace, catalog, meshDefault) : withoutList(computeImports(namespace, sidecar, catalog, options));
    cache.entries.set(key, summary);
  }
  return summary;
}

function withoutList({ services, clusters, endpoints, unscoped }: ImportResult): ImportSummary {
  return { services, clusters, endpoints, unscoped };
}

/** No scoping hosts, or `*\/*` without exclusions: the proxy imports everything exported to its namespace. */
function isPlainUnscoped(hosts: readonly string[] | undefined): boolean {
  if (hosts === undefined) return true;
  const parsed = hosts.map((h) => parseEgressHost(h, ''));
  return parsed.some((h) => h && !h.exclude && h.namespace === '*' && h.dnsName === '*') && !parsed.some((h) => h?.exclude);
}

interface Totals {
  services: number;
  clusters: number;
  endpoints: number;
}

/** Per catalog version and mesh default: what is exported everywhere, summed once, and what only some namespaces see. */
interface UnscopedIndex {
  readonly version: number;
  readonly meshDefault: readonly string[];
  readonly everywhere: Totals;
  readonly specific: Map<string, Totals>;
}
const unscopedIndexes = new WeakMap<ServiceCatalogView, UnscopedIndex>();

function unscopedIndex(catalog: ServiceCatalogView, meshDefault: readonly string[]): UnscopedIndex {
  const cached = unscopedIndexes.get(catalog);
  if (cached !== undefined && cached.version === catalog.version && cached.meshDefault === meshDefault) return cached;
  const everywhere: Totals = { services: 0, clusters: 0, endpoints: 0 };
  const specific = new Map<string, Totals>();
  const add = (totals: Totals, entry: ImportedService) => {
    totals.services += 1;
    totals.clusters += entry.clusters;
    totals.endpoints += entry.endpoints;
  };
  const place = (owner: string, exportTo: readonly string[] | undefined, describe: () => ImportedService) => {
    const targets = exportTo ?? meshDefault;
    if (targets.includes('*')) return add(everywhere, describe());
    const namespaces = new Set(targets.filter((t) => t !== '~').map((t) => (t === '.' ? owner : t)));
    if (namespaces.size === 0) return;
    const entry = describe();
    for (const ns of namespaces) {
      let totals = specific.get(ns);
      if (!totals) specific.set(ns, (totals = { services: 0, clusters: 0, endpoints: 0 }));
      add(totals, entry);
    }
  };
  for (const owner of catalog.namespaces()) {
    for (const service of catalog.services(owner)) place(owner, service.exportTo, () => describeService(service, catalog));
    for (const entry of catalog.serviceEntries(owner)) place(owner, entry.exportTo, () => describeEntry(entry));
  }
  const index = { version: catalog.version, meshDefault, everywhere, specific };
  unscopedIndexes.set(catalog, index);
  return index;
}

/** computeImports for an unscoped proxy, from the index: O(1) per namespace instead of a walk over the mesh. */
function unscopedSummary(namespace: string, catalog: ServiceCatalogView, meshDefault: readonly string[]): ImportSummary {
  const { everywhere, specific } = unscopedIndex(catalog, meshDefault);
  const own = specific.get(namespace);
  return {
    services: everywhere.services + (own?.services ?? 0),
    clusters: FIXED_CLUSTERS.length + everywhere.clusters + (own?.clusters ?? 0),
    endpoints: everywhere.endpoints + (own?.endpoints ?? 0),
    unscoped: true,
  };
}
