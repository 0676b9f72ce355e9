import { isMap, isSeq, LineCounter, type Document, type Node } from 'yaml';
import { isRecord } from './objects.js';

/** Where a manifest object was read from: the file as named on the command line and its 1-based first line. */
export interface ManifestSource {
  readonly file: string;
  readonly line: number;
}

// Keyed by the parsed object itself, so positions travel with the objects through every filter and
// copy-free pass (findWorkloads keeps the reference) without changing what the readers return.
const SOURCES = new WeakMap<object, ManifestSource>();

/** The file and line an object was parsed from, when it came from a manifest file. */
export function sourceOf(object: unknown): ManifestSource | undefined {
  return typeof object === 'object' && object !== null ? SOURCES.get(object) : undefined;
}

/** A `kind: List` (or any `*List`) object: its items are the objects. */
export function isList(value: unknown): value is { kind: string; items: unknown[] } {
  return isRecord(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items);
}

function record(node: Node | null | undefined, value: unknown, file: string, lines: LineCounter): void {
  if (!node?.range || typeof value !== 'object' || value === null) return;
  SOURCES.set(value, { file, line: lines.linePos(node.range[0]).line });
  if (!isList(value) || !isMap(node)) return;
  const items = node.get('items', true);
  if (!isSeq(items)) return;
  value.items.forEach((item, index) => record(items.items[index] as Node | undefined, item, file, lines));
}

/** Remembers where each object of a parsed document (and each item of a `List`) starts. */
export function recordSources(document: Document, value: unknown, file: string, lines: LineCounter): void {
  record(document.contents, value, file, lines);
}
