import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { describeFileError } from '../fs-errors.js';
import type { NamespaceFacts, PodFacts, SidecarFacts } from '../policy/types.js';
import type { ClusterView } from './cluster-view.js';
import { isList, recordSources } from './manifest-source.js';
import { classifyObject, toNamespaceFacts, toPodFacts, toSidecarFacts } from './objects.js';
import type { ServiceCatalogView } from '../policy/service-facts.js';
import { ServiceCatalog } from './service-catalog.js';
import { NamespacedStore } from './namespaced-store.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Expands `kind: List` (and `*List`) objects into their items. */
export function flattenLists(objects: readonly unknown[]): unknown[] {
  return objects.flatMap((object) => (isList(object) ? flattenLists(object.items) : [object]));
}

/** Parses multi-document YAML (JSON is YAML); the error names the source and line. Each object's line is kept (see sourceOf). */
export function parseManifests(text: string, source: string): unknown[] {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { prettyErrors: true, lineCounter });
  const list = Array.isArray(documents) ? documents : [documents];
  const objects: unknown[] = [];
  for (const document of list) {
    const error = document.errors[0];
    if (error) {
      const line = error.linePos?.[0]?.line;
      throw new Error(`${source}${line !== undefined ? `:${line}` : ''}: ${error.message.split('\n')[0]}`);
    }
    const object: unknown = document.toJS();
    if (object !== null && object !== undefined) {
      recordSources(document, object, source, lineCounter);
      objects.push(object);
    }
  }
  return flattenLists(objects);
}

async function manifestFiles(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw describeFileError(error, path, path);
  }
  if (!info.isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .filter((entry) => entry.isDirectory() || MANIFEST_EXTENSIONS.has(extname(entry.name)))
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((entry) => manifestFiles(join(path, entry.name))),
  );
  return nested.flat();
}

/** The manifest files under `paths`: files as given, directories searched for .yaml, .yml and .json. */
export async function listManifestFiles(paths: readonly string[]): Promise<string[]> {
  return (await Promise.all(paths.map(manifestFiles))).flat();
}

async function readManifestFile(file: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw describeFileError(error, file, file);
  }
  return parseManifests(text, file);
}

/** Reads every manifest under `paths` (files or directories, recursively). */
export async function readManifests(paths: readonly string[]): Promise<unknown[]> {
  const files = await listManifestFiles(paths);
  const parsed = await Promise.all(files.map(readManifestFile));
  return parsed.flat();
}

/**
 * The cluster as a set of manifests: Namespaces, Sidecars (networking.istio.io v1, v1beta1,
 * v1alpha3), Pods that carry an opt-in label and an `istio-proxy` container (the same facts the
 * live view keeps; `kubectl get pods -o yaml` shows an injected pod that way), plus Services,
 * ServiceEntries and EndpointSlices as compact facts (service-catalog.ts); everything else is
 * ignored. Used by `serve --cluster-state` and the offline CLI.
 */
export class FileClusterView implements ClusterView {
  readonly #namespaces = new Map<string, NamespaceFacts>();
  readonly #sidecars = new NamespacedStore<SidecarFacts>();
  readonly #pods = new NamespacedStore<PodFacts>();
  readonly #catalog = new ServiceCatalog();

  private constructor() {}

  /** A view over objects already in memory; Sidecars without a namespace go to `defaultNamespace`. */
  static fromObjects(objects: readonly unknown[], defaultNamespace = 'default'): FileClusterView {
    const view = new FileClusterView();
    for (const object of flattenLists(objects)) view.#add(object, defaultNamespace);
    return view;
  }

  #add(object: unknown, defaultNamespace: string): void {
    if (this.#catalog.putObject(object, defaultNamespace)) return;
    const kind = classifyObject(object);
    if (kind === 'Namespace') {
      const namespace = toNamespaceFacts(object);
      if (namespace) this.#namespaces.set(namespace.name, namespace);
    } else if (kind === 'Sidecar') {
      const sidecar = toSidecarFacts(object, defaultNamespace);
      if (sidecar) this.#sidecars.put(sidecar);
    } else {
      const pod = toPodFacts(object, defaultNamespace);
      if (pod) this.#pods.put(pod);
    }
  }

  namespace(name: string): NamespaceFacts | undefined {
    return this.#namespaces.get(name);
  }

  sidecars(namespace: string): readonly SidecarFacts[] {
    return this.#sidecars.list(namespace);
  }

  optedInPods(namespace: string): readonly PodFacts[] {
    return this.#pods.list(namespace);
  }

  /** The Services and ServiceEntries of the files; undefined when they hold none (no prediction from nothing). */
  catalog(): ServiceCatalogView | undefined {
    const counts = this.#catalog.counts();
    return counts.services + counts.serviceentries > 0 ? this.#catalog : undefined;
  }

  /** Every namespace the files define. */
  namespaces(): readonly NamespaceFacts[] {
    return [...this.#namespaces.values()];
  }

  isSynced(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}

/**
 * Loads a FileClusterView from files and directories of YAML/JSON manifests.
 *
 * @example const view = await loadFileClusterView(['examples/cluster'])
 */
export async function loadFileClusterView(paths: readonly string[], options: { defaultNamespace?: string } = {}): Promise<FileClusterView> {
  return FileClusterView.fromObjects(await readManifests(paths), options.defaultNamespace ?? 'default');
}
