import type { ContainerResources, ContainerView, Labels, PodTemplateView } from './types.js';
import { isRecord } from './object-facts.js';

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

export interface GroupKind {
  readonly group: string;
  readonly kind: string;
}

/** Label/annotation maps keep string values only; anything else cannot be a Kubernetes label. */
function stringMap(value: unknown): Labels {
  if (!isRecord(value)) return {};
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) if (typeof entry === 'string') out[key] = entry;
  return out;
}

/** Quantities may arrive as YAML numbers (`cpu: 1`); they mean the same as the string. */
function quantityMap(value: unknown): Labels | undefined {
  if (!isRecord(value)) return undefined;
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

function readContainers(value: unknown): ContainerView[] {
  if (!Array.isArray(value)) return [];
  const containers: ContainerView[] = [];
  value.forEach((entry: unknown, index) => {
    if (!isRecord(entry) || typeof entry.name !== 'string') return;
    const resources = readResources(entry.resources);
    containers.push({
      name: entry.name,
      index,
      ...(resources ? { resources } : {}),
      ...(typeof entry.restartPolicy === 'string' ? { restartPolicy: entry.restartPolicy } : {}),
    });
  });
  return containers;
}

/** True for the kinds whose pods (or pod templates) sidecar-guard checks. */
export function isPodBearingKind(groupKind: GroupKind): boolean {
  return `${groupKind.group}/${groupKind.kind}` in TEMPLATE_PATHS;
}

/**
 * The JSON path segments from the object to its pod template (empty for a Pod itself),
 * or undefined for kinds that carry no pods.
 */
export function podTemplatePath(groupKind: GroupKind): readonly string[] | undefined {
  return TEMPLATE_PATHS[`${groupKind.group}/${groupKind.kind}`];
}

/**
 * Reads the pod (or the pod template of a workload controller) out of an object. Fields of the
 * wrong type read as absent: the object is never rewritten from this view, so nothing is lost.
 *
 * @example podTemplateOf({ group: 'apps', kind: 'Deployment' }, deployment)?.labels
 */
export function podTemplateOf(groupKind: GroupKind, object: unknown): PodTemplateView | undefined {
  const path = podTemplatePath(groupKind);
  if (path === undefined) return undefined;
  let node: unknown = object;
  for (const segment of path) node = isRecord(node) ? node[segment] : undefined;
  if (!isRecord(node)) return undefined;
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
