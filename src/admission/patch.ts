import type { PlannedChanges } from '../policy/decision.js';
import { CONTAINER_FIELD_FOR } from '../policy/proxy-resources.js';
import { BoundedMemo } from '../policy/bounded-memo.js';
import { isRecord } from '../policy/object-facts.js';

/** One RFC 6902 operation. sidecar-guard only ever adds or replaces; it never removes. */
export interface JsonPatchOperation {
  readonly op: 'add' | 'replace';
  readonly path: string;
  readonly value: unknown;
}

/** JSON Pointer escaping (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function escapePointerSegment(segment: string): string {
  const tilde = segment.includes('~');
  if (!tilde && !segment.includes('/')) return segment;
  return escapedSegments.get(segment) ?? escapedSegments.set(segment, (tilde ? segment.replaceAll('~', '~0') : segment).replaceAll('/', '~1'));
}

// The keys a patch writes are the few proxy annotations: each is escaped once, not per request.
const escapedSegments = new BoundedMemo<string>(256);

function pointer(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) out += `/${typeof s === 'number' ? String(s) : escapePointerSegment(s)}`;
  return out;
}

function at(object: unknown, segments: readonly (string | number)[]): unknown {
  let node = object;
  for (const segment of segments) {
    if (Array.isArray(node) && typeof segment === 'number') node = node[segment];
    else if (isRecord(node) && typeof segment === 'string') node = node[segment];
    else return undefined;
  }
  return node;
}

/**
 * Adds `entries` (not empty) under the map `map` found at `path`, or the whole map when there is
 * none there yet.
 */
function setEntries(map: unknown, path: string, entries: Readonly<Record<string, string>>, ops: JsonPatchOperation[]): void {
  if (!isRecord(map)) {
    ops.push({ op: 'add', path, value: { ...entries } });
    return;
  }
  for (const key in entries) {
    ops.push({ op: Object.hasOwn(map, key) ? 'replace' : 'add', path: `${path}/${escapePointerSegment(key)}`, value: entries[key] });
  }
}

interface ContainerSections {
  readonly list: string;
  readonly index: number;
  readonly sections: Partial<Record<'requests' | 'limits', Record<string, string>>>;
}

/** The changes grouped by container (one or two containers: istio-proxy, and istio-init). */
function byContainer(changes: PlannedChanges): ContainerSections[] {
  const groups: ContainerSections[] = [];
  for (const change of changes.containerChanges) {
    let group = groups.find((g) => g.list === change.list && g.index === change.index);
    if (group === undefined) {
      group = { list: change.list, index: change.index, sections: {} };
      groups.push(group);
    }
    const [section, resource] = CONTAINER_FIELD_FOR[change.key];
    (group.sections[section] ??= {})[resource] = change.value;
  }
  return groups;
}

/**
 * The minimal JSON patch that makes `changes` to `object`: parents are added whole when
 * missing (`/metadata/annotations`), existing keys are replaced, nothing else is touched.
 * Operations are sorted by path so the output is deterministic.
 *
 * @example toJsonPatch(pod, changes) // [{ op: 'add', path: '/metadata/annotations/sidecar.istio.io~1proxyCPU', value: '100m' }]
 */
export function toJsonPatch(object: unknown, changes: PlannedChanges): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  const template = at(object, changes.templatePath);
  const base = pointer(changes.templatePath);
  const metadata = isRecord(template) ? template.metadata : undefined;
  let hasAnnotations = false;
  for (const _ in changes.annotations) {
    hasAnnotations = true;
    break;
  }
  if (hasAnnotations) {
    if (!isRecord(metadata)) ops.push({ op: 'add', path: `${base}/metadata`, value: { annotations: { ...changes.annotations } } });
    else setEntries(metadata.annotations, `${base}/metadata/annotations`, changes.annotations, ops);
  }

  const spec = isRecord(template) ? template.spec : undefined;
  for (const { list, index, sections } of byContainer(changes)) {
    const resourcesPath = `${base}/spec/${list}/${index}/resources`;
    const resources = at(spec, [list, index, 'resources']);
    if (!isRecord(resources)) {
      ops.push({ op: 'add', path: resourcesPath, value: sections });
      continue;
    }
    for (const section of ['limits', 'requests'] as const) {
      const values = sections[section];
      if (values !== undefined) setEntries(resources[section], `${resourcesPath}/${section}`, values, ops);
    }
  }
  return ops.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
