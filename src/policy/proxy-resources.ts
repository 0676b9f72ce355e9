import type { Profile } from '../config/types.js';
import { ISTIO_INIT_CONTAINER, PROXY_CPU, PROXY_CPU_LIMIT, PROXY_MEMORY, PROXY_MEMORY_LIMIT, PROXY_OVERRIDES } from './annotations.js';
import { findProxyContainer, isInjected } from './mesh-membership.js';
import { readProxyOverrides, type ProxyOverrides } from './proxy-overrides.js';
import { compareQuantities, isResourceQuantity } from './quantity.js';
import type { ContainerResources, ContainerView, PodTemplateView } from './types.js';

/** The four proxy resource values. Istio drops its defaults for all when any is set (istio-facts §1.2). */
export type ResourceKey = 'cpu' | 'cpuLimit' | 'memory' | 'memoryLimit';
export const RESOURCE_KEYS: readonly ResourceKey[] = ['cpu', 'cpuLimit', 'memory', 'memoryLimit'];

export const ANNOTATION_FOR: Readonly<Record<ResourceKey, string>> = {
  cpu: PROXY_CPU,
  cpuLimit: PROXY_CPU_LIMIT,
  memory: PROXY_MEMORY,
  memoryLimit: PROXY_MEMORY_LIMIT,
};

/** Where each value sits in a container's `resources`. */
export const CONTAINER_FIELD_FOR: Readonly<Record<ResourceKey, readonly ['requests' | 'limits', 'cpu' | 'memory']>> = {
  cpu: ['requests', 'cpu'],
  cpuLimit: ['limits', 'cpu'],
  memory: ['requests', 'memory'],
  memoryLimit: ['limits', 'memory'],
};

const CEILING_FOR: Readonly<Record<ResourceKey, keyof Profile>> = {
  cpu: 'maxCpu',
  cpuLimit: 'maxCpuLimit',
  memory: 'maxMemory',
  memoryLimit: 'maxMemoryLimit',
};

export type ValueSource = 'annotation' | 'container' | 'override' | 'profile';

export interface ResourceValue {
  readonly value: string;
  readonly source: ValueSource;
  /** For `override`: which entry of the annotation, e.g. `containers[0]`. */
  readonly entry?: string;
}

export type ResourceViolationCode = 'INVALID_QUANTITY' | 'ABOVE_CEILING' | 'REQUEST_ABOVE_LIMIT';

export interface ResourceViolation {
  readonly code: ResourceViolationCode;
  readonly key: ResourceKey;
  readonly message: string;
}

/** One value to write into the resources of `istio-proxy` (or, on an injected pod, `istio-init`). */
export interface ContainerChange {
  readonly container: string;
  readonly list: 'containers' | 'initContainers';
  readonly index: number;
  readonly key: ResourceKey;
  readonly value: string;
}

export interface ResourcePlan {
  readonly effective: Readonly<Record<ResourceKey, ResourceValue>>;
  readonly violations: readonly ResourceViolation[];
  /** Annotations to add or replace, by key. Nothing is ever removed. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly containerChanges: readonly ContainerChange[];
  /** Set when `proxy.istio.io/overrides` is there but cannot be read as Istio reads it. */
  readonly overrides?: Extract<ProxyOverrides, { valid: false }>;
}

interface ContainerSource {
  readonly source: 'container' | 'override';
  readonly resources?: ContainerResources;
  readonly entry?: string;
}

/**
 * Every value the workload sets itself for `key`, the one that wins first. Istio merges an
 * `istio-proxy` from `proxy.istio.io/overrides` over the injected proxy ahead of the pod's own
 * container, and either over the values it rendered from the annotations.
 */
function explicitValues(pod: PodTemplateView, key: ResourceKey, containers: readonly ContainerSource[]): ResourceValue[] {
  const [section, resource] = CONTAINER_FIELD_FOR[key];
  const values: ResourceValue[] = [];
  for (const { source, resources, entry } of containers) {
    const value = resources?.[section]?.[resource];
    if (value !== undefined) values.push({ value, source, ...(entry ? { entry } : {}) });
  }
  const fromAnnotation = pod.annotations[ANNOTATION_FOR[key]];
  if (fromAnnotation !== undefined) values.push({ value: fromAnnotation, source: 'annotation' });
  return values;
}

function whereSet(key: ResourceKey, value: ResourceValue): string {
  const field = `resources.${CONTAINER_FIELD_FOR[key].join('.')}`;
  if (value.source === 'container') return `istio-proxy ${field}`;
  if (value.source === 'override') return `${PROXY_OVERRIDES} ${value.entry ?? ''} (istio-proxy) ${field}`;
  return ANNOTATION_FOR[key];
}

function checkValue(key: ResourceKey, explicit: ResourceValue, profile: Profile): ResourceViolation | undefined {
  if (!isResourceQuantity(explicit.value)) {
    return { code: 'INVALID_QUANTITY', key, message: `${whereSet(key, explicit)}="${explicit.value}" is not a Kubernetes quantity: write one such as 128Mi or 500m` };
  }
  const ceiling = profile[CEILING_FOR[key]];
  if (ceiling !== undefined && compareQuantities(explicit.value, ceiling) > 0) {
    return { code: 'ABOVE_CEILING', key, message: `${whereSet(key, explicit)}=${explicit.value} is above the profile's ceiling ${CEILING_FOR[key]}=${ceiling}: lower it, or ask for a larger profile (sidecar-guard.io/profile)` };
  }
  return undefined;
}

/**
 * Plans the proxy resources of a mesh pod: values the workload sets itself are kept (unless
 * invalid or above the profile's ceiling), the rest come from the profile. A user-declared
 * `istio-proxy` container (not yet injected), any gateway's, and the `istio-proxy` of
 * `proxy.istio.io/overrides` (which Istio applies ahead of a declared one) are explicit overrides
 * whose values win at injection; an injected container carries the injector's defaults and is resized.
 *
 * @example planProxyResources(pod, profiles.medium, { gateway: false }).annotations
 */
export function planProxyResources(pod: PodTemplateView, profile: Profile, options: { gateway: boolean; finalContainer?: boolean }): ResourcePlan {
  const proxy = findProxyContainer(pod);
  // `finalContainer`: the pod as it will run (validation, after Istio's injection): what the
  // container holds is what the proxy gets, so it is what must stay under the ceilings.
  const containerIsExplicit = proxy !== undefined && (!isInjected(pod) || options.gateway || options.finalContainer === true);
  const overrides = readProxyOverrides(pod.annotations[PROXY_OVERRIDES]);
  const fromOverrides: ContainerSource[] = overrides.valid
    ? overrides.proxies.map((p) => ({ source: 'override', resources: p.resources, entry: `${p.list}[${p.index}]` }))
    : [];
  const fromContainer: ContainerSource[] = containerIsExplicit ? [{ source: 'container', ...(proxy.container.resources ? { resources: proxy.container.resources } : {}) }] : [];
  // The final container (validation after injection) is what runs; the overrides are what Istio
  // merged into it, or would on a pod it has not injected yet. Both are held to the ceilings.
  const containers = options.finalContainer ? [...fromContainer, ...fromOverrides] : [...fromOverrides, ...fromContainer];
  const violations: ResourceViolation[] = [];
  const effective = {} as Record<ResourceKey, ResourceValue>;

  for (const key of RESOURCE_KEYS) {
    const values = explicitValues(pod, key, containers);
    effective[key] = values[0] ?? { value: profile[key], source: 'profile' };
    // An annotation behind a container value never reaches the proxy; every container value may.
    for (const explicit of values.filter((v, i) => i === 0 || v.source !== 'annotation')) {
      const violation = checkValue(key, explicit, profile);
      if (violation) violations.push(violation);
    }
  }

  for (const [request, limit] of [['cpu', 'cpuLimit'], ['memory', 'memoryLimit']] as const) {
    const r = effective[request];
    const l = effective[limit];
    if (isResourceQuantity(r.value) && isResourceQuantity(l.value) && compareQuantities(r.value, l.value) > 0) {
      violations.push({
        code: 'REQUEST_ABOVE_LIMIT',
        key: request,
        message: `proxy ${request} ${r.value} (${r.source}) is above its limit ${l.value} (${l.source}), which Kubernetes rejects: lower the request or raise the limit`,
      });
    }
  }

  const annotations: Record<string, string> = {};
  for (const key of RESOURCE_KEYS) {
    if (pod.annotations[ANNOTATION_FOR[key]] === undefined) annotations[ANNOTATION_FOR[key]] = effective[key].value;
  }

  const containerChanges: ContainerChange[] = [];
  const resize = (list: ContainerChange['list'], container: ContainerView, keepDeclared: boolean) => {
    for (const key of RESOURCE_KEYS) {
      const [section, resource] = CONTAINER_FIELD_FOR[key];
      const current = container.resources?.[section]?.[resource];
      const wanted = effective[key].value;
      const same = current !== undefined && isResourceQuantity(current) && isResourceQuantity(wanted) && compareQuantities(current, wanted) === 0;
      if (current === wanted || same) continue;
      // An explicit container keeps what it declares; only the gaps are filled.
      if (keepDeclared && current !== undefined) continue;
      containerChanges.push({ container: container.name, list, index: container.index, key, value: wanted });
    }
  };
  if (proxy) resize(proxy.list, proxy.container, containerIsExplicit);
  // Istio's template gives istio-init the same resources as istio-proxy (injection-template.yaml,
  // "resources" in both). On a pod injected before this webhook ran they are Istio's defaults,
  // and an init container's requests count towards the pod's, so it is resized with the proxy.
  const init = isInjected(pod) && !containerIsExplicit ? pod.initContainers.find((c) => c.name === ISTIO_INIT_CONTAINER) : undefined;
  if (init) resize('initContainers', init, false);

  return { effective, violations, annotations, containerChanges, ...(overrides.valid ? {} : { overrides }) };
}
