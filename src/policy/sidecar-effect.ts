import type { Config } from '../config/types.js';
import { finding, type Finding } from './decision.js';
import { globMatches } from './profiles.js';
import { decideScope, describeScopeProblem, isScopingSidecar, WHY_SCOPE, type ScopeVerdict } from './sidecar-scope.js';
import type { ClusterFacts, PodFacts, SidecarFacts } from './types.js';

/** How many pods a denial names before it counts the rest. */
const NAMED_PODS = 5;

/**
 * The opted-in pods a Sidecar applies to: those running a proxy, except gateways where the admin
 * recognises them (a Sidecar does not apply to gateways, sidecar.proto NOTE 3). A pod that carries
 * an opt-in label but no proxy (hostNetwork, `inject: "false"`, or labelled after its CREATE) has
 * nothing for istiod to push.
 */
export function podsSidecarsApplyTo(pods: readonly PodFacts[], namespace: string, config: Pick<Config, 'tenancy'>): PodFacts[] {
  const gatewaysHere = config.tenancy.gatewayNamespaces.some((glob) => globMatches(glob, namespace));
  return pods.filter((pod) => pod.proxy && !(gatewaysHere && pod.gatewayShaped));
}

/** The namespace's Sidecars after a change: the old version out, the new one in. */
export function sidecarsAfterChange(sidecars: readonly SidecarFacts[], before: SidecarFacts | undefined, after: SidecarFacts | undefined): SidecarFacts[] {
  const kept = sidecars.filter((s) => s.name !== before?.name && s.name !== after?.name);
  return after ? [...kept, after] : kept;
}

/**
 * `decideScope`, except that a pod falling to the namespace-wide Sidecar counts as scoped only when
 * every selector-less Sidecar there scopes: which of two Istio applies is undefined (IST0111).
 */
function strictScope(labels: PodFacts['labels'], facts: ClusterFacts, scope: Config['scope']): ScopeVerdict {
  const verdict = decideScope(labels, facts, scope);
  if (!verdict.scoped || verdict.sidecar?.source !== 'namespace') return verdict;
  const loose = facts.sidecars.find((s) => s.workloadSelector === undefined && !isScopingSidecar(s, scope.clusterDomain));
  return loose ? { scoped: false, code: 'SIDECAR_NOT_SCOPING', sidecar: { sidecar: loose, source: 'namespace' } } : verdict;
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
  const afterFacts: ClusterFacts = { ...facts, sidecars: sidecarsAfterChange(facts.sidecars, before, after) };
  const unscoped: UnscopedPod[] = [];
  for (const pod of pods) {
    if (!strictScope(pod.labels, facts, scope).scoped) continue;
    const verdict = strictScope(pod.labels, afterFacts, scope);
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
    `${HOW[operation] ?? 'Changing'} Sidecar ${ref} would take ${pods} out of scope that opted in to injection on their own ` +
      `(namespace "${sidecar.namespace}" has no injection label; their sidecar.istio.io/inject or istio.io/rev label meshed them): ${list}${more}. ` +
      `istiod would push the change with no further admission call: ${WHY_SCOPE}. ` +
      'Keep a scoping Sidecar over them (apply the new one before removing the old), or delete those pods first.',
    `would unscope ${pods} that opted in on their own in "${sidecar.namespace}": ${names}`,
  );
}
