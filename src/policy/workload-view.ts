import { ISTIO_INIT_CONTAINER, ISTIO_PROXY_CONTAINER } from './annotations.js';
import { MEMBERSHIP_ANNOTATIONS, MEMBERSHIP_LABELS } from './mesh-membership.js';
import type { ContainerResources, ContainerView, Labels, PodTemplateView } from './types.js';
import { isRecord, toLabels } from './object-facts.js';

/** The Kubernetes kinds whose pods sidecar-guard checks, and where each keeps its pod template. */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  '/Pod': [],
  'apps/Deployment': ['spec', 'template'],
  'apps/StatefulSet': ['spec', 'template'],
  'apps/DaemonSet': ['spec', 'template'],
  'apps/ReplicaSet': ['spec', 'template'],
  'batch/Job': ['spec', 'template'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template'],
};

const PATHS_BY_KIND = new Map<string, Map<string, readonly string[]>>();
for (const [key, path] of Object.entries(TEMPLATE_PATHS)) {
  const [group = '', kind = ''] = key.split('/');
  const byGroup = PATHS_BY_KIND.get(kind) ?? new Map<string, readonly string[]>();
  byGroup.set(group, path);
  PATHS_BY_KIND.set(kind, byGroup);
}

export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

/**
 * Label/annotation maps keep string values only; anything else cannot be a Kubernetes label.
 * A map that holds only strings (every map the API server sends) is used as it is: the view is
 * read-only, and copying a pod's two dozen annotations was a sixth of a mesh decision.
 */
function stringMap(value: unknown): Labels {
  if (!isRecord(value)) return {};
  for (const key in value) if (typeof value[key] !== 'string') return toLabels(value);
  return value as Labels;
}

/** Quantities may arrive as YAML numbers (`cpu: 1`); they mean the same as the string. */
function quantityMap(value: unknown): Labels | undefined {
  if (!isRecord(value)) return undefined;
  let allStrings = true;
  for (const key in value) {
    if (typeof value[key] !== 'string') {
      allStrings = false;
      break;
    }
  }
  if (allStrings) return value as Labels;
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string') out[key] = entry;
    else if (typeof entry === 'number' && Number.isFinite(entry)) out[key] = String(entry);
  }
  return out;
}

function readResources(value: unknown): ContainerResources | undefined {
  if (!isRecord(value)) return undefined;
  const requests = quantityMap(value.requests);
  const limits = quantityMap(value.limits);
  return { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) };
}

/**
 * The containers of a pod spec list. Resources are read for `istio-proxy` and `istio-init` only:
 * they are the only containers whose resources sidecar-guard reads or writes, and copying every
 * app container's resources was a fifth of a mesh pod's decision time.
 */
function readContainers(value: unknown, proxyNamesOnly = false): ContainerView[] {
  if (!Array.isArray(value)) return [];
  const containers: ContainerView[] = [];
  for (let index = 0; index < value.length; index++) {
    const entry: unknown = value[index];
    if (!isRecord(entry) || typeof entry.name !== 'string') continue;
    if (proxyNamesOnly) {
      if (entry.name === ISTIO_PROXY_CONTAINER) containers.push({ name: entry.name, index });
      continue;
    }
    const proxyOrInit = entry.name === ISTIO_PROXY_CONTAINER || entry.name === ISTIO_INIT_CONTAINER;
    const resources = proxyOrInit ? readResources(entry.resources) : undefined;
    containers.push({
      name: entry.name,
      index,
      ...(resources ? { resources } : {}),
      ...(typeof entry.restartPolicy === 'string' ? { restartPolicy: entry.restartPolicy } : {}),
    });
  }
  return containers;
}

/** Only `keys` of a label/annotation map, string values only (as stringMap reads them). */
function pickStrings(value: unknown, keys: readonly string[]): Labels {
  const out: Record<string, string> = {};
  if (!isRecord(value)) return out;
  for (const key of keys) {
    const entry = Object.hasOwn(value, key) ? value[key] : undefined;
    if (typeof entry === 'string') out[key] = entry;
  }
  return out;
}

/** True for the kinds whose pods (or pod templates) sidecar-guard checks. */
export function isPodBearingKind(groupKind: GroupKind): boolean {
  return podTemplatePath(groupKind) !== undefined;
}

/**
 * The JSON path segments from the object to its pod template (empty for a Pod itself),
 * or undefined for kinds that carry no pods.
 */
export function podTemplatePath(groupKind: GroupKind): readonly string[] | undefined {
  // Looked up by kind, then group: no key string built per request.
  const byGroup = PATHS_BY_KIND.get(groupKind.kind);
  return byGroup === undefined ? undefined : byGroup.get(groupKind.group);
}

/**
 * Reads the pod (or the pod template of a workload controller) out of an object. Fields of the
 * wrong type read as absent: the object is never rewritten from this view, so nothing is lost.
 *
 * @example podTemplateOf({ group: 'apps', kind: 'Deployment' }, deployment)?.labels
 */
export function podTemplateOf(groupKind: GroupKind, object: unknown): PodTemplateView | undefined {
  const node = templateNode(groupKind, object);
  if (node === undefined) return undefined;
  const metadata = isRecord(node.metadata) ? node.metadata : {};
  const spec = isRecord(node.spec) ? node.spec : {};
  return {
    labels: stringMap(metadata.labels),
    annotations: stringMap(metadata.annotations),
    hostNetwork: spec.hostNetwork === true,
    containers: readContainers(spec.containers),
    initContainers: readContainers(spec.initContainers),
  };
}

function templateNode(groupKind: GroupKind, object: unknown): Record<string, unknown> | undefined {
  const path = podTemplatePath(groupKind);
  if (path === undefined) return undefined;
  let node: unknown = object;
  for (const segment of path) node = isRecord(node) ? node[segment] : undefined;
  return isRecord(node) ? node : undefined;
}

/**
 * Just what decides mesh membership (decideMeshMembership gives the same answer on it as on the
 * full podTemplateOf view): the injection labels and annotation, hostNetwork, the `istio-proxy`
 * containers (by name and position; the other containers are left out).
 * A pod outside the mesh is decided from this without copying its maps and containers.
 */
export function membershipViewOf(groupKind: GroupKind, object: unknown): PodTemplateView | undefined {
  const node = templateNode(groupKind, object);
  if (node === undefined) return undefined;
  const metadata = isRecord(node.metadata) ? node.metadata : {};
  const spec = isRecord(node.spec) ? node.spec : {};
  return {
    labels: pickStrings(metadata.labels, MEMBERSHIP_LABELS),
    annotations: pickStrings(metadata.annotations, MEMBERSHIP_ANNOTATIONS),
    hostNetwork: spec.hostNetwork === true,
    containers: readContainers(spec.containers, true),
    initContainers: readContainers(spec.initContainers, true),
  };
}
