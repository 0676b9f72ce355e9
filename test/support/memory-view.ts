/** A ClusterView over in-memory objects, for HTTP tests that do not exercise the views themselves. */
import type { ClusterView } from '../../src/cluster/cluster-view.js';
import { toNamespaceFacts, toSidecarFacts } from '../../src/cluster/objects.js';
import type { NamespaceFacts, SidecarFacts } from '../../src/policy/types.js';
import type { Json } from './builders.js';

export class MemoryView implements ClusterView {
  synced = true;
  readonly #namespaces = new Map<string, NamespaceFacts>();
  readonly #sidecars = new Map<string, SidecarFacts[]>();

  constructor(objects: Json[] = []) {
    for (const object of objects) this.put(object);
  }

  put(object: Json): void {
    if (object.kind === 'Namespace') {
      const ns = toNamespaceFacts(object);
      if (ns) this.#namespaces.set(ns.name, ns);
    } else if (object.kind === 'Sidecar') {
      const sidecar = toSidecarFacts(object);
      if (!sidecar) return;
      const list = (this.#sidecars.get(sidecar.namespace) ?? []).filter((s) => s.name !== sidecar.name);
      this.#sidecars.set(sidecar.namespace, [...list, sidecar]);
    }
  }

  namespace(name: string): NamespaceFacts | undefined {
    return this.#namespaces.get(name);
  }

  sidecars(namespace: string): readonly SidecarFacts[] {
    return this.#sidecars.get(namespace) ?? [];
  }

  isSynced(): boolean {
    return this.synced;
  }

  async close(): Promise<void> {}
}
