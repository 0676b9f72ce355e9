import { egressSelector } from '../policy/service-imports.js';
import type { Labels, PodFacts, ProxyClusters, ProxyRef, RequestEdge, ScopeEvidence } from './observations.js';
import { podFactsFromName } from './workload-identity.js';
import type { Workload } from './workloads.js';
import { groupWorkloads, selectorFor, workloadKey } from './workloads.js';

/** An Envoy cluster Istio built for a service: `outbound|PORT|SUBSET|HOST`. */
export interface OutboundCluster {
  readonly port: number;
  readonly subset: string;
  readonly host: string;
}

/**
 * Reads an Istio outbound cluster name; undefined for anything else (inbound|…, BlackHoleCluster, xds-grpc…).
 *
 * @example parseOutboundCluster('outbound|9080|v2|reviews.bookinfo.svc.cluster.local') // { port: 9080, subset: 'v2', host: 'reviews.bookinfo.svc.cluster.local' }
 */
export function parseOutboundCluster(name: string): OutboundCluster | undefined {
  const parts = name.split('|');
  if (parts.length !== 4 || parts[0] !== 'outbound') return undefined;
  const [, port = '', subset = '', host = ''] = parts;
  if (!/^\d+$/.test(port) || host === '') return undefined;
  return { port: Number(port), subset, host };
}

/**
 * The namespace of a Kubernetes service host (`name.namespace.svc.<domain>`); undefined for
 * ServiceEntry hosts, whose namespace the name does not tell.
 *
 * @example hostNamespace('reviews.bookinfo.svc.cluster.local') // "bookinfo"
 */
export function hostNamespace(host: string, clusterDomain = 'cluster.local'): string | undefined {
  const suffix = `.svc.${clusterDomain}`;
  if (!host.endsWith(suffix)) return undefined;
  const parts = host.slice(0, -suffix.length).split('.');
  return parts.length === 2 ? parts[1] : undefined;
}

/**
 * The Sidecar egress host (`namespace/dnsName`, istio-facts §4) that imports a host: its own
 * namespace for a service, `*` (any namespace exporting it) for a ServiceEntry host.
 *
 * @example egressHost('ratings.bookinfo.svc.cluster.local') // "bookinfo/ratings.bookinfo.svc.cluster.local"
 */
export function egressHost(host: string, clusterDomain = 'cluster.local'): string {
  return `${hostNamespace(host, clusterDomain) ?? '*'}/${host}`;
}

/**
 * True when the egress hosts import this host, by Istio's semantics (egressSelector, the same
 * matcher the catalog uses): the owner of a Kubernetes service host is its namespace; a
 * ServiceEntry host's owner is not in its name, so only `*\/…` hosts are known to import it.
 * `.` is the Sidecar's own namespace.
 *
 * @example isImported(['istio-system/*'], 'istiod.istio-system.svc.cluster.local') // true
 */
export function isImported(hosts: readonly string[], host: string, clusterDomain = 'cluster.local', ownNamespace?: string): boolean {
  return egressSelector(hosts, ownNamespace ?? '').imports(hostNamespace(host, clusterDomain), [host]);
}

export interface ScopeOptions {
  /** One Sidecar per namespace, or one per workload with a `workloadSelector`. */
  readonly per: 'namespace' | 'workload';
  /** Always imported: the control plane and its telemetry live there. */
  readonly alwaysInclude: readonly string[];
  readonly clusterDomain: string;
  /** Istio's root namespace: a selector-less Sidecar there is the mesh-wide default (istio-facts §4). */
  readonly rootNamespace: string;
}

export const DEFAULT_SCOPE_OPTIONS: ScopeOptions = {
  per: 'namespace',
  alwaysInclude: ['istio-system/*'],
  clusterDomain: 'cluster.local',
  rootNamespace: 'istio-system',
};

/** A Sidecar to apply, with the before/after cluster counts that justify it. */
export interface ScopeRecommendation {
  readonly namespace: string;
  readonly name: string;
  /** Set for a per-workload Sidecar. */
  readonly workload?: string;
  readonly workloadSelector?: Labels;
  readonly hosts: readonly string[];
  readonly proxies: number;
  /** Outbound clusters with requests or connections above zero over the window. */
  readonly calledClusters: readonly string[];
  /** Clusters the busiest-configured proxy holds today, and would hold with this Sidecar. */
  readonly clustersBefore: number;
  readonly clustersAfter: number;
  /** Outbound clusters that would no longer be pushed. */
  readonly removedClusters: number;
  /** Proxies (`namespace/pod`) whose stats do not show what they call: the Sidecar must not be applied. */
  readonly unseen: readonly string[];
  /** Selector-less in the root namespace: it would scope every proxy of the mesh without its own Sidecar. */
  readonly meshWide: boolean;
  /** With `per: 'workload'`: the workloads (`namespace/name`) no label selector singles out, folded into this namespace Sidecar. */
  readonly unselectable: readonly string[];
  /**
   * Workloads (`namespace/name`) the Sidecar would also apply to that the source lists as running
   * but has no stats for (a failed scrape, a dump not given): applying it would cut their calls.
   */
  readonly unobserved: readonly string[];
  /** The source cannot list the namespace's istio-proxy pods, so it cannot tell whether any went unobserved. */
  readonly inventoryMissing: boolean;
  /** Workloads (`namespace/name`) whose destinations came from request metrics, their proxies having no outbound cluster stats. */
  readonly fromRequestMetrics: readonly string[];
  /** Calls in the request metrics whose destination names no host (`unknown`, an IP address): no egress host can keep them. */
  readonly unnamedDestinations: readonly string[];
  /** The observed proxies (`namespace/pod`) the Sidecar applies to: verification checks their traffic. */
  readonly members: readonly string[];
  /** Their workloads' names, for the request metrics (`source_workload`). */
  readonly memberWorkloads: readonly string[];
}

/**
 * True when a proxy's stats can show which services it calls: it counts traffic on outbound
 * clusters. With `cluster.outbound` in its stats inclusion every outbound cluster is counted,
 * zero or not; with Istio's defaults none is.
 *
 * @example showsDestinations({ namespace: 'ns', pod: 'p', clusters: [{ cluster: 'xds-grpc', requests: 1, connections: 1, counted: true }] }) // false
 */
export function showsDestinations(proxy: ProxyClusters): boolean {
  return proxy.clusters.some((use) => use.counted && parseOutboundCluster(use.cluster) !== undefined);
}

/** A networking.istio.io/v1 Sidecar manifest. */
export interface SidecarManifest {
  readonly apiVersion: 'networking.istio.io/v1';
  readonly kind: 'Sidecar';
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: { readonly workloadSelector?: { readonly labels: Labels }; readonly egress: readonly [{ readonly hosts: readonly string[] }] };
}

/**
 * The Sidecar manifest for a recommendation.
 *
 * @example toSidecarManifest(rec).spec.egress[0].hosts // ["bookinfo/reviews.bookinfo.svc.cluster.local", "istio-system/*"]
 */
export function toSidecarManifest(rec: ScopeRecommendation): SidecarManifest {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name: rec.name, namespace: rec.namespace },
    spec: {
      ...(rec.workloadSelector ? { workloadSelector: { labels: { ...rec.workloadSelector } } } : {}),
      egress: [{ hosts: [...rec.hosts] }],
    },
  };
}

/**
 * The host a request metric's `destination_service` names, without a port; undefined for
 * "unknown" and IP addresses (passthrough traffic), which no egress host can name.
 *
 * @example requestDestinationHost('reviews.bookinfo.svc.cluster.local') // "reviews.bookinfo.svc.cluster.local"
 */
export function requestDestinationHost(value: string): string | undefined {
  if (value === '' || value === 'unknown') return undefined;
  if (value.includes(':') && !/^[^:]+:\d+$/.test(value)) return undefined;
  const host = value.replace(/:\d+$/, '');
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return undefined;
  return host;
}

interface GroupContext {
  readonly podOf: (ref: ProxyRef) => PodFacts;
  readonly edges: readonly RequestEdge[];
  readonly unobserved: readonly string[];
  readonly inventoryMissing: boolean;
}

function scopeFor(
  group: { namespace: string; name: string; workload?: string; workloadSelector?: Labels; unselectable?: readonly string[] },
  proxies: readonly ProxyClusters[],
  options: ScopeOptions,
  context: GroupContext,
): ScopeRecommendation {
  const called = new Set<string>();
  for (const proxy of proxies) {
    for (const use of proxy.clusters) {
      if ((use.requests > 0 || use.connections > 0) && parseOutboundCluster(use.cluster)) called.add(use.cluster);
    }
  }
  const calledHosts = new Set([...called].map((c) => (parseOutboundCluster(c) as OutboundCluster).host));
  // Where a proxy counts no outbound cluster traffic, the request metrics name what its workload called.
  const blind = proxies.filter((p) => !showsDestinations(p));
  const blindWorkloads = new Set(blind.map((p) => context.podOf(p).workload));
  const edgesOf = (workload: string): RequestEdge[] =>
    context.edges.filter((e) => e.count > 0 && e.sourceNamespace === group.namespace && e.sourceWorkload === workload);
  const unnamed = new Set<string>();
  for (const workload of blindWorkloads) {
    for (const edge of edgesOf(workload)) {
      const host = requestDestinationHost(edge.destinationService);
      if (host === undefined) unnamed.add(`${group.namespace}/${workload} → ${edge.destinationService} (${edge.metric})`);
      else calledHosts.add(host);
    }
  }
  const fromRequests = new Set([...blindWorkloads].filter((w) => edgesOf(w).length > 0));
  const hosts = [...new Set([...calledHosts].map((h) => egressHost(h, options.clusterDomain)))]
    .filter((h) => !isImported(options.alwaysInclude, h.slice(h.indexOf('/') + 1), options.clusterDomain, group.namespace))
    .sort();
  const allHosts = [...hosts, ...options.alwaysInclude];
  const selector = egressSelector(allHosts, group.namespace);
  let before = 0;
  let after = 0;
  for (const proxy of proxies) {
    const removed = proxy.clusters.filter((use) => {
      const outbound = parseOutboundCluster(use.cluster);
      return outbound !== undefined && !selector.imports(hostNamespace(outbound.host, options.clusterDomain), [outbound.host]);
    }).length;
    const held = Math.max(proxy.activeClusters ?? 0, proxy.clusters.length);
    if (held > before) {
      before = held;
      after = held - removed;
    }
  }
  return {
    ...group,
    hosts: allHosts,
    proxies: proxies.length,
    calledClusters: [...called].sort(),
    clustersBefore: before,
    clustersAfter: after,
    removedClusters: before - after,
    unseen: blind.filter((p) => !fromRequests.has(context.podOf(p).workload)).map((p) => `${p.namespace}/${p.pod}`),
    meshWide: group.workloadSelector === undefined && group.namespace === options.rootNamespace,
    unselectable: group.unselectable ?? [],
    unobserved: context.unobserved,
    inventoryMissing: context.inventoryMissing,
    fromRequestMetrics: [...fromRequests].sort().map((w) => `${group.namespace}/${w}`),
    unnamedDestinations: [...unnamed].sort(),
    members: proxies.map((p) => `${p.namespace}/${p.pod}`).sort(),
    memberWorkloads: [...new Set(proxies.map((p) => context.podOf(p).workload))].sort(),
  };
}

/**
 * A gateway, from its labels (the pod list, kube-state-metrics) or, in the root namespace where
 * Istio's installers put them, from its workload name (`istio-ingressgateway`, `istio-egressgateway`,
 * `…-gateway`). Sidecar resources do not apply to gateways, so none is written for them.
 */
export function isGateway(pod: PodFacts, options: Pick<ScopeOptions, 'rootNamespace'>): boolean {
  return pod.gateway || (pod.namespace === options.rootNamespace && /gateway$/.test(pod.workload));
}

/** Each proxy's facts: the source's pod list where it has the pod, else what its name tells. */
function podLookup(evidence: ScopeEvidence): (ref: ProxyRef) => PodFacts {
  const known = new Map(evidence.pods.map((p) => [`${p.namespace}/${p.pod}`, p]));
  return (ref) => known.get(`${ref.namespace}/${ref.pod}`) ?? podFactsFromName(ref.namespace, ref.pod);
}

/** Listed as running, no stats, not a gateway, and no pod of their workload observed: nothing says what they call. */
function unobservedPods(evidence: ScopeEvidence, options: Pick<ScopeOptions, 'rootNamespace'>, podOf: (ref: ProxyRef) => PodFacts): PodFacts[] {
  const observed = new Set(evidence.proxies.map((p) => `${p.namespace}/${p.pod}`));
  const observedWorkloads = new Set(
    evidence.proxies
      .map(podOf)
      .filter((p) => !isGateway(p, options))
      .map((p) => `${p.namespace}/${p.workload}`),
  );
  return (evidence.inventory?.pods ?? []).filter(
    (p) => !observed.has(`${p.namespace}/${p.pod}`) && !isGateway(p, options) && !observedWorkloads.has(`${p.namespace}/${p.workload}`),
  );
}

/**
 * The gateways among the proxies (`namespace/workload`), for saying they were left out.
 *
 * @example gatewaysSkipped(evidence, DEFAULT_SCOPE_OPTIONS) // ["istio-system/istio-ingressgateway"]
 */
export function gatewaysSkipped(evidence: ScopeEvidence, options: Pick<ScopeOptions, 'rootNamespace'>): string[] {
  const pods = evidence.proxies.map(podLookup(evidence));
  return [...new Set(pods.filter((p) => isGateway(p, options)).map((p) => `${p.namespace}/${p.workload}`))].sort();
}

/**
 * The tightest Sidecars that keep every called service: per namespace (named `default`) or per
 * workload (named after it, with a `workloadSelector` from its `app`/`version` labels; a
 * workload whose labels cannot single it out is folded into a namespace Sidecar). Egress hosts
 * are the called services plus `alwaysInclude`. Counts: a proxy holds
 * max(active_clusters, listed clusters) today and loses the outbound clusters not imported.
 *
 * @example recommendScopes(evidence)[0].hosts // ["bookinfo/details.bookinfo.svc.cluster.local", …, "istio-system/*"]
 */
export function recommendScopes(evidence: ScopeEvidence, options: ScopeOptions = DEFAULT_SCOPE_OPTIONS): ScopeRecommendation[] {
  const podOf = podLookup(evidence);
  const proxiesOf = (members: readonly PodFacts[]): ProxyClusters[] => {
    const keys = new Set(members.map((p) => `${p.namespace}/${p.pod}`));
    return evidence.proxies.filter((p) => keys.has(`${p.namespace}/${p.pod}`));
  };
  const meshPods = evidence.proxies.map(podOf).filter((p) => !isGateway(p, options));
  const unobservedListed = unobservedPods(evidence, options, podOf);
  const listed = (namespace: string): boolean =>
    evidence.inventory !== undefined && (evidence.inventory.completeIn.includes('*') || evidence.inventory.completeIn.includes(namespace));
  const edges = evidence.requests ?? [];
  const recommendations: ScopeRecommendation[] = [];
  const namespaces = [...new Set(meshPods.map((p) => p.namespace))].sort();
  for (const namespace of namespaces) {
    const inNamespace = meshPods.filter((p) => p.namespace === namespace);
    const unobservedHere = groupWorkloads(unobservedListed.filter((p) => p.namespace === namespace));
    const context = (unobserved: readonly Workload[]): GroupContext => ({
      podOf,
      edges,
      unobserved: unobserved.map((w) => `${w.namespace}/${w.name}`),
      inventoryMissing: !listed(namespace),
    });
    if (options.per === 'namespace') {
      recommendations.push(scopeFor({ namespace, name: 'default' }, proxiesOf(inNamespace), options, context(unobservedHere)));
      continue;
    }
    const workloads = groupWorkloads(inNamespace);
    const unselectable: Workload[] = [];
    for (const workload of workloads) {
      // Selectors are checked against the unobserved workloads too, so no Sidecar selects one of them.
      const selector = selectorFor(workload, [...workloads, ...unobservedHere].filter((w) => workloadKey(w) !== workloadKey(workload)));
      if (selector === undefined) {
        unselectable.push(workload);
        continue;
      }
      recommendations.push(
        scopeFor({ namespace, name: workload.name, workload: workload.name, workloadSelector: selector }, proxiesOf(workload.pods), options, context([])),
      );
    }
    if (unselectable.length > 0) {
      const names = unselectable.map((w) => `${w.namespace}/${w.name}`);
      recommendations.push(
        scopeFor({ namespace, name: 'default', unselectable: names }, proxiesOf(unselectable.flatMap((w) => w.pods)), options, context(unobservedHere)),
      );
    }
  }
  return recommendations;
}

/**
 * Workloads the source lists as running with no stats for them, for saying a per-workload run
 * wrote no Sidecar for them.
 */
export function unobservedWorkloads(evidence: ScopeEvidence, options: Pick<ScopeOptions, 'rootNamespace'>): string[] {
  return [...new Set(unobservedPods(evidence, options, podLookup(evidence)).map((p) => `${p.namespace}/${p.workload}`))].sort();
}
