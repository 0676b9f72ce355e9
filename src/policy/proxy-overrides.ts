import { ISTIO_PROXY_CONTAINER } from './annotations.js';
import { isRecord } from './object-facts.js';
import type { ContainerResources, Labels } from './types.js';

/** An `istio-proxy` entry of `proxy.istio.io/overrides`, with the resources it carries. */
export interface OverrideProxy {
  readonly list: 'containers' | 'initContainers';
  readonly index: number;
  readonly resources: ContainerResources;
}

export type ProxyOverrides =
  | { readonly valid: true; readonly proxies: readonly OverrideProxy[] }
  | { readonly valid: false; readonly problem: string; readonly kind: OverridesProblem };

/** `undecodable`: Istio's injector fails on it; `repeated-key`: Istio reads it, not as it looks; `too-large`: Kubernetes refuses it. */
export type OverridesProblem = 'undecodable' | 'repeated-key' | 'too-large';

/** Kubernetes refuses an object whose annotations total more (apimachinery TotalAnnotationSizeLimitB). */
const ANNOTATIONS_LIMIT_BYTES = 256 * 1024;

const NONE: ProxyOverrides = { valid: true, proxies: [] };

/**
 * A key as Go's encoding/json compares it to a field name: case-insensitively (fold.go: ASCII
 * case, and runes folded to the smallest of their fold set, so "ſ" is "S" and the Kelvin sign
 * "K"). `{"Containers": …}` is read by Istio like `{"containers": …}`. Other non-ASCII runes are
 * kept as they are: they can never match the ASCII field names read here.
 */
export function foldKey(key: string): string {
  return /[^\x00-\x7f]/.test(key) ? key.replace(/[a-z\u017f\u212a]/g, (c) => (c === '\u017f' ? 'S' : c === '\u212a' ? 'K' : c.toUpperCase())) : key.toUpperCase();
}

/** The value of the field Go would fill from `object` (keys are known not to repeat under folding). */
function field(object: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(object, name)) return object[name];
  const wanted = foldKey(name);
  for (const [key, value] of Object.entries(object)) if (foldKey(key) === wanted) return value;
  return undefined;
}

class ShapeError extends Error {}

/** resource.Quantity's UnmarshalJSON takes a string, a bare number or null (zero). */
function readQuantities(value: unknown, path: string): Labels | undefined {
  if (value === null || value === undefined) return undefined;
  if (!isRecord(value)) throw new ShapeError(`${path} must be an object of quantities`);
  const out: Record<string, string> = {};
  for (const [name, quantity] of Object.entries(value)) {
    if (typeof quantity === 'string') out[name] = quantity.trim();
    else if (typeof quantity === 'number') out[name] = String(quantity);
    else if (quantity === null) out[name] = '0';
    else throw new ShapeError(`${path}.${name} must be a quantity string`);
  }
  return out;
}

function readContainer(entry: unknown, path: string): { name: string; resources: ContainerResources } | undefined {
  if (entry === null) return undefined;
  if (!isRecord(entry)) throw new ShapeError(`${path} must be a container object`);
  const name = field(entry, 'name');
  if (name !== undefined && name !== null && typeof name !== 'string') throw new ShapeError(`${path}.name must be a string`);
  const resources = field(entry, 'resources');
  if (resources === undefined || resources === null) return { name: name ?? '', resources: {} };
  if (!isRecord(resources)) throw new ShapeError(`${path}.resources must be an object`);
  const requests = readQuantities(field(resources, 'requests'), `${path}.resources.requests`);
  const limits = readQuantities(field(resources, 'limits'), `${path}.resources.limits`);
  return { name: name ?? '', resources: { ...(requests ? { requests } : {}), ...(limits ? { limits } : {}) } };
}

function readList(value: unknown, list: OverrideProxy['list']): OverrideProxy[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ShapeError(`"${list}" must be a list of containers`);
  const proxies: OverrideProxy[] = [];
  value.forEach((entry: unknown, index) => {
    const container = readContainer(entry, `${list}[${index}]`);
    if (container?.name === ISTIO_PROXY_CONTAINER) proxies.push({ list, index, resources: container.resources });
  });
  return proxies;
}

// In JSON that JSON.parse accepted, every '"' outside a string opens one, so these are its tokens.
const JSON_TOKEN = /"[^"\\]*(?:\\.[^"\\]*)*"|[{}[\]:]/g;

/**
 * The first key that repeats within one object (JSON.parse keeps only the last; yaml and AST
 * parsers report repeats but took 4 to 40 times as long on a 256 KiB annotation). Keys are
 * compared as Go matches them to fields.
 */
function repeatedKey(json: string): string | undefined {
  const open: (Set<string> | undefined)[] = [];
  let last = '';
  JSON_TOKEN.lastIndex = 0;
  for (let match = JSON_TOKEN.exec(json); match !== null; match = JSON_TOKEN.exec(json)) {
    const token = match[0];
    if (token === '{') open.push(new Set());
    else if (token === '[') open.push(undefined);
    else if (token === '}' || token === ']') open.pop();
    else if (token !== ':') last = token;
    else {
      const keys = open[open.length - 1];
      const key = last.includes('\\') ? (JSON.parse(last) as string) : last.slice(1, -1);
      const folded = foldKey(key);
      if (keys?.has(folded)) return key;
      keys?.add(folded);
    }
  }
  return undefined;
}

/**
 * Reads the pod annotation `proxy.istio.io/overrides` as Istio's injector does (istio/istio
 * pkg/kube/inject/webhook.go: `reinsertOverrides`, called from `RunTemplate` in inject.go, and
 * `reapplyOverwrittenContainers`, called from `injectPod`): Go's encoding/json into
 * `{containers, initContainers []corev1.Container}`, where an error fails the injection. Every
 * `istio-proxy` it lists is returned: Istio merges the first one of the list the template injects
 * into (containers, or initContainers for native sidecars) over the injected proxy, ahead of the
 * pod's own `istio-proxy` container.
 *
 * Repeated keys are refused rather than followed: Go decodes a repeated field into what the first
 * occurrence left (a second `"containers"` list reuses the first one's elements), so
 * `{"containers":[{"name":"x","resources":…}],"containers":[{"name":"istio-proxy"}]}` gives
 * istio-proxy the first entry's resources, while JSON.parse shows none. Fields other than `name`
 * and `resources` are left to Istio: a wrong type there fails the injection too.
 *
 * @example readProxyOverrides('{"containers":[{"name":"istio-proxy","resources":{"limits":{"memory":"1Gi"}}}]}')
 */
export function readProxyOverrides(annotation: string | undefined): ProxyOverrides {
  if (annotation === undefined) return NONE;
  // The mutating webhook runs before the API server checks that limit; the scan below is linear
  // but slower than JSON.parse, so an outsized value is refused before it is read.
  if (Buffer.byteLength(annotation) > ANNOTATIONS_LIMIT_BYTES) {
    return { valid: false, problem: `it is longer than the ${ANNOTATIONS_LIMIT_BYTES / 1024} KiB Kubernetes allows for all annotations of an object together`, kind: 'too-large' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(annotation);
  } catch (error) {
    return { valid: false, problem: `it is not JSON (${(error as Error).message})`, kind: 'undecodable' };
  }
  const repeated = repeatedKey(annotation);
  if (repeated !== undefined) {
    const problem = `it repeats the key ${JSON.stringify(repeated)} in one object (keys compared as Go matches fields, ignoring case), and Go's decoder merges a repeated field into what the first occurrence left`;
    return { valid: false, problem, kind: 'repeated-key' };
  }
  if (parsed === null) return NONE;
  if (!isRecord(parsed)) return { valid: false, problem: 'it is not a JSON object {"containers": [...], "initContainers": [...]}', kind: 'undecodable' };
  try {
    return { valid: true, proxies: [...readList(field(parsed, 'containers'), 'containers'), ...readList(field(parsed, 'initContainers'), 'initContainers')] };
  } catch (error) {
    if (error instanceof ShapeError) return { valid: false, problem: error.message, kind: 'undecodable' };
    throw error;
  }
}
