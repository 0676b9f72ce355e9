import type { Config } from '../config/types.js';
import { finding, type Finding } from './decision.js';
import { globMatches } from './profiles.js';
import { decideScope, describeScopeProblem, isScopingSidecar, selectorMatches, WHY_SCOPE, type ScopeVerdict } from './sidecar-scope.js';
import type { ClusterFacts, PodFacts, SidecarFacts } from './types.js';

/** How many pods a denial names before it counts the rest. */
const NAMED_PODS = 5;

/**
 * The opted-in pods a Sidecar applies to: all, except gateways where the admin recognises them (a
 * Sidecar does not apply to gateways, sidecar.proto NOTE 3). Pods without a proxy (hostNetwork,
 * `inject: "false"`, labelled after their CREATE) never reach `PodFacts`.
 */
export function podsSidecarsApplyTo(pods: readonly PodFacts[], namespace: string, config: Pick<Config, 'tenancy'>): PodFacts[] {
  const gatewaysHere = config.tenancy.gatewayNamespaces.some((glob) => globMatches(glob, namespace));
  return gatewaysHere ? pods.filter((pod) => !pod.gatewayShaped) : [...pods];
}

/** The namespace's Sidecars after a change: the old version out, the new one in. */
export function sidecarsAfterChange(sidecars: readonly SidecarFacts[], before: SidecarFacts | undefined, after: SidecarFacts | undefined): SidecarFacts[] {
  const kept = sidecars.filter((s) => s.name !== before?.name && s.name !== after?.name);
  return after ? [...kept, after] : kept;
}

/**
 * `decideScope` for many pods against one set of Sidecars, except that a pod falling to the
 * namespace-wide Sidecar counts as scoped only when every selector-less Sidecar there scopes: which
 * of two Istio applies is undefined (IST0111). Verdicts are memoised by label set: the replicas of
 * a workload share their labels, so 20,000 pods are a few hundred lookups.
 */
function scopeJudge(facts: ClusterFacts, scope: Config['scope']): (labels: PodFacts['labels']) => ScopeVerdict {
  const loose = facts.sidecars.find((s) => s.workloadSelector === undefined && !isScopingSidecar(s, scope.clusterDomain));
  const memo = new Map<string, ScopeVerdict>();
  return (labels) => {
    // Replicas list their labels in the same order; another order is only a cache miss.
    const key = JSON.stringify(labels);
    let verdict = memo.get(key);
    if (verdict === undefined) {
      verdict = decideScope(labels, facts, scope);
      if (verdict.scoped && verdict.sidecar?.source === 'namespace' && loose) verdict = { scoped: false, code: 'SIDECAR_NOT_SCOPING', sidecar: { sidecar: loose, source: 'namespace' } };
      memo.set(key, verdict);
    }
    return verdict;
  };
}

export interface UnscopedPod {
  readonly pod: PodFacts;
  /** Why it would not be scoped after the change. */
  readonly verdict: ScopeVerdict;
}

/**
 * The pods a Sidecar change (CREATE: no `before`; DELETE: no `after`) takes out of scope: scoped
 * by the namespace's Sidecars now, not by those after the change. Pods not scoped now are left
 * alone: the change does not make them worse.
 *
 * @example podsUnscopedByChange(pods, facts, oldSidecar, undefined, config.scope).map((u) => u.pod.name)
 */
export function podsUnscopedByChange(
  pods: readonly PodFacts[],
  facts: ClusterFacts,
  before: SidecarFacts | undefined,
  after: SidecarFacts | undefined,
  scope: Config['scope'],
): UnscopedPod[] {
  if (pods.length === 0) return [];
  // A change to selector Sidecars only can move just the pods that the old or new selector matches.
  const selectors = [before, after].flatMap((s) => (s ? [s.workloadSelector] : []));
  const candidates = selectors.every((s) => s !== undefined) ? pods.filter((p) => selectors.some((s) => s !== undefined && selectorMatches(s, p.labels))) : pods;
  if (candidates.length === 0) return [];
  const afterFacts: ClusterFacts = { ...facts, sidecars: sidecarsAfterChange(facts.sidecars, before, after) };
  const [now, then] = [scopeJudge(facts, scope), scopeJudge(afterFacts, scope)];
  const unscoped: UnscopedPod[] = [];
  for (const pod of candidates) {
    if (!now(pod.labels).scoped) continue;
    const verdict = then(pod.labels);
    if (!verdict.scoped) unscoped.push({ pod, verdict });
  }
  return unscoped;
}

const HOW: Readonly<Record<string, string>> = { CREATE: 'Creating', UPDATE: 'Changing', DELETE: 'Deleting' };

/**
 * The denial for a Sidecar change in a namespace without an injection label that would unscope pods
 * which opted in there on their own; names the pods (the first few) and what each would fall to.
 */
export function optedInPodsFinding(operation: string, sidecar: SidecarFacts, unscoped: readonly UnscopedPod[]): Finding | undefined {
  if (unscoped.length === 0) return undefined;
  const ref = `${sidecar.namespace}/${sidecar.name}`;
  const named = unscoped.slice(0, NAMED_PODS);
  const more = unscoped.length > named.length ? `, and ${unscoped.length - named.length} more` : '';
  const list = named.map((u) => `Pod "${u.pod.name}" (${describeScopeProblem(u.verdict, sidecar.namespace)})`).join('; ');
  const names = named.map((u) => u.pod.name).join(', ') + (more ? ` +${unscoped.length - named.length}` : '');
  const pods = unscoped.length === 1 ? 'a pod' : `${unscoped.length} pods`;
  return finding(
    'SIDECAR_UNSCOPES_OPTED_IN_PODS',
    `${HOW[operation] ?? 'Changing'} Sidecar ${ref} would leave ${pods} without a scope. ` +
      `Namespace "${sidecar.namespace}" has no injection label; ${unscoped.length === 1 ? 'this pod opted in to injection on its own' : 'these pods opted in to injection on their own'} ` +
      `(a sidecar.istio.io/inject or istio.io/rev label): ${list}${more}. ` +
      `istiod would push the change with no further admission call: ${WHY_SCOPE}. ` +
      'Keep a scoping Sidecar over them (apply the new one before removing the old), or delete those pods first.',
    `would unscope ${pods} that opted in on their own in "${sidecar.namespace}": ${names}`,
  );
}
