import { ISTIO_REV, SIDECAR_INJECT } from './annotations.js';
import { findProxyContainer, isGatewayPod } from './mesh-membership.js';
import { isRecord, namespacedName } from './object-facts.js';
import type { Labels, PodFacts } from './types.js';
import { podTemplateOf } from './workload-view.js';

/**
 * The pod labels by which a pod opts in to injection on its own, in a namespace with neither
 * injection label (Istio's object selectors). The live view watches pods carrying either key with
 * one exists-selector each (label selectors cannot OR); any value counts, so a pod whose value
 * changes (`true` → `false`) stays in view, and only removing the key takes it out.
 */
export const OPT_IN_LABELS: readonly string[] = [SIDECAR_INJECT, ISTIO_REV];

/** True when the labels carry an opt-in key (with any value). */
export function hasOptInLabel(labels: Labels): boolean {
  return OPT_IN_LABELS.some((key) => Object.hasOwn(labels, key));
}

const POD = { group: '', kind: 'Pod' };

/**
 * A Pod object (as served by the API or read from YAML) reduced to `PodFacts`, or undefined when it
 * is not a Pod with a name and namespace, carries no opt-in label, or runs no `istio-proxy` (in
 * `containers`, or `initContainers` when native). Only labels are kept of its metadata; of its spec,
 * whether it is shaped like a gateway.
 */
export function toPodFacts(object: unknown, defaultNamespace?: string): PodFacts | undefined {
  if (!isRecord(object) || object.kind !== 'Pod' || object.apiVersion !== 'v1') return undefined;
  const named = namespacedName(object, defaultNamespace);
  if (!named) return undefined;
  const pod = podTemplateOf(POD, object);
  if (!pod || !hasOptInLabel(pod.labels) || findProxyContainer(pod) === undefined) return undefined;
  return { namespace: named.namespace, name: named.name, labels: pod.labels, gatewayShaped: isGatewayPod(pod) };
}
