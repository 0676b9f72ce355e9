import type { Labels, NamespaceFacts, SidecarFacts } from './types.js';

/** The Istio API group that serves `Sidecar`, and the versions we accept. */
export const ISTIO_NETWORKING_GROUP = 'networking.istio.io';
export const SIDECAR_API_VERSIONS: readonly string[] = ['v1', 'v1beta1', 'v1alpha3'].map(
  (version) => `${ISTIO_NETWORKING_GROUP}/${version}`,
);

export type ObjectKindName = 'Namespace' | 'Sidecar';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keeps the string-valued entries of a label/annotation map; anything else reads as empty. */
export function toLabels(value: unknown): Labels {
  if (!isRecord(value)) return {};
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string') out[key] = entry;
  }
  return out;
}

/** One string entry of a label/annotation map, as `toLabels(value)[key]` reads it, without copying the map. */
export function labelValue(value: unknown, key: string): string | undefined {
  if (!isRecord(value) || !Object.hasOwn(value, key)) return undefined;
  const entry = value[key];
  return typeof entry === 'string' ? entry : undefined;
}

/** How many entries of `value` are objects (0 when it is not an array): `value.filter(isRecord).length` without the array. */
export function countRecords(value: unknown): number {
  if (!Array.isArray(value)) return 0;
  let count = 0;
  for (const entry of value) if (isRecord(entry)) count += 1;
  return count;
}

/** Which of the objects we cache this is, judged by apiVersion and kind. */
export function classifyObject(object: unknown): ObjectKindName | undefined {
  if (!isRecord(object)) return undefined;
  if (object.kind === 'Namespace' && object.apiVersion === 'v1') return 'Namespace';
  if (object.kind === 'Sidecar' && typeof object.apiVersion === 'string' && SIDECAR_API_VERSIONS.includes(object.apiVersion)) {
    return 'Sidecar';
  }
  return undefined;
}

function metadataOf(object: Record<string, unknown>): Record<string, unknown> {
  return isRecord(object.metadata) ? object.metadata : {};
}

/**
 * A namespaced object's metadata, namespace and name; `defaultNamespace` when it carries no
 * namespace (a manifest applied with `-n`). Undefined when it is not an object or lacks either.
 */
export function namespacedName(object: unknown, defaultNamespace?: string): { metadata: Record<string, unknown>; namespace: string; name: string } | undefined {
  if (!isRecord(object)) return undefined;
  const metadata = metadataOf(object);
  const namespace = typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : defaultNamespace;
  if (typeof metadata.name !== 'string' || metadata.name === '' || namespace === undefined) return undefined;
  return { metadata, namespace, name: metadata.name };
}

/** A Namespace object (as served by the API or read from YAML) reduced to what the policy reads. */
export function toNamespaceFacts(object: unknown): NamespaceFacts | undefined {
  if (!isRecord(object)) return undefined;
  const metadata = metadataOf(object);
  if (typeof metadata.name !== 'string' || metadata.name === '') return undefined;
  const status = isRecord(object.status) ? object.status : {};
  const terminating = metadata.deletionTimestamp != null || status.phase === 'Terminating';
  return {
    name: metadata.name,
    labels: toLabels(metadata.labels),
    annotations: toLabels(metadata.annotations),
    ...(terminating ? { terminating } : {}),
  };
}

/**
 * A Sidecar object reduced to what the policy reads. `defaultNamespace` is used when the
 * object carries none (a manifest applied with `-n`).
 */
export function toSidecarFacts(object: unknown, defaultNamespace?: string): SidecarFacts | undefined {
  const named = namespacedName(object, defaultNamespace);
  if (!named || !isRecord(object)) return undefined;
  const { metadata, namespace, name } = named;
  const spec = isRecord(object.spec) ? object.spec : {};
  const egress = Array.isArray(spec.egress) ? spec.egress : [];
  const egressHosts = egress.flatMap((listener) =>
    isRecord(listener) && Array.isArray(listener.hosts) ? listener.hosts.filter((h): h is string => typeof h === 'string') : [],
  );
  const selector = isRecord(spec.workloadSelector) ? spec.workloadSelector : undefined;
  const facts: SidecarFacts = {
    namespace,
    name,
    egressHosts,
    hasEgress: egress.length > 0,
    ...(selector !== undefined ? { workloadSelector: toLabels(selector.labels) } : {}),
    ...(typeof metadata.creationTimestamp === 'string' ? { creationTimestamp: metadata.creationTimestamp } : {}),
  };
  return facts;
}
