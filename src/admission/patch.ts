import type { PlannedChanges } from '../policy/decision.js';
import { CONTAINER_FIELD_FOR } from '../policy/proxy-resources.js';
import { isRecord } from '../policy/object-facts.js';

/** One RFC 6902 operation. sidecar-guard only ever adds or replaces; it never removes. */
export interface JsonPatchOperation {
  readonly op: 'add' | 'replace';
  readonly path: string;
  readonly value: unknown;
}

/** JSON Pointer escaping (RFC 6901): `~` → `~0`, `/` → `~1`. */
export function escapePointerSegment(segment: string): string {
  if (!segment.includes('~') && !segment.includes('/')) return segment;
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

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

/** Adds `entries` under the map at `path`, creating the map whole when it is absent. */
function setEntries(object: unknown, path: readonly (string | number)[], entries: Record<string, unknown>, ops: JsonPatchOperation[]): void {
  if (Object.keys(entries).length === 0) return;
  const map = at(object, path);
  if (!isRecord(map)) {
    ops.push({ op: 'add', path: pointer(path), value: entries });
    return;
  }
  for (const [key, value] of Object.entries(entries)) {
    ops.push({ op: key in map ? 'replace' : 'add', path: pointer([...path, key]), value });
  }
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
  const base = [...changes.templatePath];
  const metadata = at(object, [...base, 'metadata']);
  if (!isRecord(metadata)) {
    if (Object.keys(changes.annotations).length > 0) {
      ops.push({ op: 'add', path: pointer([...base, 'metadata']), value: { annotations: { ...changes.annotations } } });
    }
  } else {
    setEntries(object, [...base, 'metadata', 'annotations'], { ...changes.annotations }, ops);
  }

  const byContainer = new Map<string, { list: string; index: number; sections: Record<string, Record<string, string>> }>();
  for (const change of changes.containerChanges) {
    const id = `${change.list}/${change.index}`;
    const entry = byContainer.get(id) ?? { list: change.list, index: change.index, sections: {} };
    const [section, resource] = CONTAINER_FIELD_FOR[change.key];
    entry.sections[section] = { ...entry.sections[section], [resource]: change.value };
    byContainer.set(id, entry);
  }
  for (const { list, index, sections } of byContainer.values()) {
    const resourcesPath = [...base, 'spec', list, index, 'resources'];
    if (!isRecord(at(object, resourcesPath))) {
      ops.push({ op: 'add', path: pointer(resourcesPath), value: sections });
      continue;
    }
    for (const [section, values] of Object.entries(sections)) setEntries(object, [...resourcesPath, section], values, ops);
  }
  return ops.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
