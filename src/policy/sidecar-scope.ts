import { BoundedMemo } from './bounded-memo.js';
import { toManifestYaml } from '../kube/manifest-yaml.js';
import type { Config } from '../config/types.js';
import type { ClusterFacts, Labels, SidecarFacts } from './types.js';

// The host "*/*" imports every service exported to the namespace: the same config volume as no Sidecar.
export const MESH_WIDE_HOST = '*/*';
export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';

/** Why an unscoped proxy matters, for messages. */
export const WHY_SCOPE =
  'Without a Sidecar that limits its egress, an istio-proxy gets the configuration of every service in the mesh, so its memory grows with the cluster until the pod is OOM-killed';

export interface EgressHost {
  /** `*` any, a namespace name, or undefined for `~` (no namespace). */
  readonly namespace: string | undefined;
  readonly dnsName: string;
  /** `~ns/host` (Istio 1.31+): subtracted from what the other hosts import. */
  readonly exclude: boolean;
}

/**
 * Parses a Sidecar egress host `namespace/dnsName` (istio/api sidecar.proto, IstioEgressListener.hosts):
 * namespace `*` (any), `.` (the workload's own), `~` (none), a name, or `~name` (an exclusion, 1.31+).
 * The name is lower-cased without a trailing dot. Returns undefined for a host without a `/`, which
 * Istio's validation rejects.
 */
export function parseEgressHost(host: string, workloadNamespace: string): EgressHost | undefined {
  const slash = host.indexOf('/');
  if (slash < 0) return undefined;
  const ns = host.slice(0, slash).trim();
  const dnsName = host.slice(slash + 1).trim().toLowerCase().replace(/\.$/, '');
  if (dnsName === '' || ns === '') return undefined;
  if (ns === '~') return { namespace: undefined, dnsName, exclude: false };
  if (ns.startsWith('~')) {
    const excluded = ns.slice(1);
    return { namespace: excluded === '.' ? workloadNamespace : excluded, dnsName, exclude: true };
  }
  return { namespace: ns === '.' ? workloadNamespace : ns, dnsName, exclude: false };
}

/**
 * True for an egress host that imports (nearly) every service of the mesh: namespace `*` with a
 * name that covers every in-cluster service name `<svc>.<ns>.svc.<domain>`: `*`, `*.svc.<domain>`,
 * `*.<domain>` or a shorter suffix such as `*.local`. Istio matches wildcard hosts by suffix
 * (sidecar.proto, egress hosts: "namespace/dnsName", dnsName may start with a wildcard).
 *
 * @example isMeshWideHost('*\/*.svc.cluster.local') // true; isMeshWideHost('*\/*.example.com') // false
 */
export function isMeshWideHost(host: string, clusterDomain: string = DEFAULT_CLUSTER_DOMAIN): boolean {
  const parsed = parseEgressHost(host, '');
  if (parsed === undefined || parsed.exclude || parsed.namespace !== '*') return false;
  const name = parsed.dnsName;
  if (name === '*') return true;
  if (!name.startsWith('*.')) return false;
  return `.svc.${clusterDomain.toLowerCase()}`.endsWith(name.slice(1));
}

/** The hosts of a Sidecar that import every service, for messages. */
export function meshWideHosts(sidecar: SidecarFacts, clusterDomain: string = DEFAULT_CLUSTER_DOMAIN): string[] {
  return sidecar.egressHosts.filter((h) => isMeshWideHost(h, clusterDomain));
}

/**
 * True when the Sidecar declares egress hosts and none imports every service. A Sidecar without
 * egress (only ingress, or only outboundTrafficPolicy) inherits the mesh default of `*\/*`.
 */
export function isScopingSidecar(sidecar: SidecarFacts, clusterDomain: string = DEFAULT_CLUSTER_DOMAIN): boolean {
  return sidecar.hasEgress && sidecar.egressHosts.length > 0 && meshWideHosts(sidecar, clusterDomain).length === 0;
}

/** True when every selector label is on the pod (an empty selector selects every pod, as in Istio). */
export function selectorMatches(selector: Labels, podLabels: Labels): boolean {
  return Object.entries(selector).every(([key, value]) => podLabels[key] === value);
}

/** Istio resolves ties by age, then name (pilot/pkg/model/config.go sortConfigByCreationTime). */
function byAge(a: SidecarFacts, b: SidecarFacts): number {
  const at = a.creationTimestamp ?? '';
  const bt = b.creationTimestamp ?? '';
  if (at !== bt) return at < bt ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export type SidecarSource = 'workload-selector' | 'namespace' | 'root-namespace';

export interface EffectiveSidecar {
  readonly sidecar: SidecarFacts;
  readonly source: SidecarSource;
}

/**
 * The Sidecar Istio applies to a pod with these labels, in Istio's precedence order
 * (`doGetSidecarScope`): a selector that matches the pod, else the namespace's selector-less
 * Sidecar, else the root namespace's selector-less default.
 */
export function findEffectiveSidecar(podLabels: Labels, facts: ClusterFacts): EffectiveSidecar | undefined {
  const local = precedenceOf(facts.sidecars);
  const selected = oldestMatchingSelector(local, podLabels);
  if (selected) return { sidecar: selected, source: 'workload-selector' };
  if (local.namespaceWide) return { sidecar: local.namespaceWide, source: 'namespace' };
  const root = precedenceOf(facts.rootSidecars).namespaceWide;
  return root ? { sidecar: root, source: 'root-namespace' } : undefined;
}

interface Precedence {
  /** Selector Sidecars, oldest first. */
  readonly selectors: readonly SidecarFacts[];
  /** Positions in `selectors` by one label of each selector, key then value. */
  readonly byLabel: ReadonlyMap<string, ReadonlyMap<string, readonly number[]>>;
  /** Positions of selectors with no labels (they match every pod). */
  readonly empty: readonly number[];
  /** The oldest selector-less Sidecar. */
  readonly namespaceWide?: SidecarFacts;
}

/** Only selectors sharing a label with the pod can match it: look those up, keep the oldest match. */
function oldestMatchingSelector(precedence: Precedence, podLabels: Labels): SidecarFacts | undefined {
  if (precedence.selectors.length === 0) return undefined;
  let best = Number.POSITIVE_INFINITY;
  const consider = (positions: readonly number[] | undefined) => {
    if (positions === undefined) return;
    for (const position of positions) {
      if (position < best && selectorMatches(precedence.selectors[position]?.workloadSelector ?? {}, podLabels)) best = position;
    }
  };
  consider(precedence.empty);
  for (const key in podLabels) {
    const byValue = precedence.byLabel.get(key);
    if (byValue !== undefined) consider(byValue.get(podLabels[key] as string));
  }
  return Number.isFinite(best) ? precedence.selectors[best] : undefined;
}

// Keyed by the list the cluster view hands out, which it keeps until the namespace changes: a
// namespace with 20,000 Sidecars is sorted once per change, not once per admission request.
const precedenceCache = new WeakMap<readonly SidecarFacts[], Precedence>();

function precedenceOf(sidecars: readonly SidecarFacts[]): Precedence {
  let cached = precedenceCache.get(sidecars);
  if (cached === undefined) {
    const sorted = [...sidecars].sort(byAge);
    const namespaceWide = sorted.find((s) => s.workloadSelector === undefined);
    const selectors = sorted.filter((s) => s.workloadSelector !== undefined);
    const byLabel = new Map<string, Map<string, number[]>>();
    const empty: number[] = [];
    selectors.forEach((s, position) => {
      const first = Object.entries(s.workloadSelector ?? {})[0];
      if (first === undefined) {
        empty.push(position);
        return;
      }
      const [key, value] = first;
      const byValue = byLabel.get(key) ?? new Map<string, number[]>();
      byLabel.set(key, byValue);
      const list = byValue.get(value);
      if (list) list.push(position);
      else byValue.set(value, [position]);
    });
    cached = { selectors, byLabel, empty, ...(namespaceWide ? { namespaceWide } : {}) };
    precedenceCache.set(sidecars, cached);
  }
  return cached;
}

export type ScopeCode = 'SCOPED' | 'NO_SIDECAR' | 'SIDECAR_NOT_SCOPING' | 'ROOT_DEFAULT_NOT_ACCEPTED';

export interface ScopeVerdict {
  readonly scoped: boolean;
  readonly code: ScopeCode;
  readonly sidecar?: EffectiveSidecar;
}

/** Whether a pod with these labels is covered by a Sidecar that scopes its egress. */
export function decideScope(podLabels: Labels, facts: ClusterFacts, scope: Config['scope']): ScopeVerdict {
  return scopeVerdict(findEffectiveSidecar(podLabels, facts), scope);
}

/** decideScope for a Sidecar already looked up (findEffectiveSidecar). */
export function scopeVerdict(effective: EffectiveSidecar | undefined, scope: Config['scope']): ScopeVerdict {
  if (effective === undefined) return { scoped: false, code: 'NO_SIDECAR' };
  if (!isScopingSidecar(effective.sidecar, scope.clusterDomain)) return { scoped: false, code: 'SIDECAR_NOT_SCOPING', sidecar: effective };
  if (effective.source === 'root-namespace' && !scope.acceptRootNamespaceDefault) {
    return { scoped: false, code: 'ROOT_DEFAULT_NOT_ACCEPTED', sidecar: effective };
  }
  return { scoped: true, code: 'SCOPED', sidecar: effective };
}

const manifestCache = new BoundedMemo<string>(1024);

/**
 * A ready-to-apply namespace-wide Sidecar for `namespace`, as YAML. Memoised (bounded): rendering
 * YAML was a quarter of the decision time of a denial, and denials repeat per namespace.
 */
export function suggestSidecarManifest(namespace: string, egressHosts: readonly string[]): string {
  const key = `${namespace}\u0000${egressHosts.join('\u0000')}`;
  return manifestCache.get(key) ?? manifestCache.set(key, renderSidecarManifest(namespace, egressHosts));
}

function renderSidecarManifest(namespace: string, egressHosts: readonly string[]): string {
  return toManifestYaml({
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name: 'default', namespace },
    spec: { egress: [{ hosts: [...egressHosts] }] },
  });
}

/** Why a scope verdict fails, in one sentence naming the Sidecar involved. */
export function describeScopeProblem(verdict: ScopeVerdict, namespace: string): string {
  const name = verdict.sidecar ? `${verdict.sidecar.sidecar.namespace}/${verdict.sidecar.sidecar.name}` : '';
  switch (verdict.code) {
    case 'NO_SIDECAR':
      return `namespace "${namespace}" has no Sidecar that applies to it`;
    case 'SIDECAR_NOT_SCOPING':
      return verdict.sidecar?.sidecar.hasEgress
        ? `the Sidecar that applies to it, ${name}, has egress hosts (${verdict.sidecar.sidecar.egressHosts.map((h) => `"${h}"`).join(', ') || 'none'}) that import every service in the mesh, so it limits nothing`
        : `the Sidecar that applies to it, ${name}, declares no egress hosts, so it gets Istio's default "*/*": every service in the mesh`;
    case 'ROOT_DEFAULT_NOT_ACCEPTED':
      return `namespace "${namespace}" has no Sidecar of its own, and the only one that would apply, the root-namespace default ${name}, is not accepted here (scope.acceptRootNamespaceDefault: false)`;
    case 'SCOPED':
      return `Sidecar ${name} scopes this workload`;
  }
}
