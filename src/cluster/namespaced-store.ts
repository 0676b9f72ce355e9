/**
 * Facts keyed by namespace and name, with the per-namespace array lookups hand out kept until that
 * namespace changes (a lookup on the admission path allocates nothing). Shared by the cluster views
 * (Sidecars, opted-in pods) and the service catalog (Services, ServiceEntries, EndpointSlices).
 */
export class NamespacedStore<T extends { readonly namespace: string; readonly name: string }> {
  readonly #byNamespace = new Map<string, Map<string, T>>();
  readonly #lists = new Map<string, readonly T[]>();

  put(facts: T): void {
    let map = this.#byNamespace.get(facts.namespace);
    if (!map) this.#byNamespace.set(facts.namespace, (map = new Map()));
    map.set(facts.name, facts);
    this.#lists.delete(facts.namespace);
  }

  /** Removes one entry; returns what it held. */
  delete(namespace: string, name: string): T | undefined {
    const map = this.#byNamespace.get(namespace);
    const old = map?.get(name);
    map?.delete(name);
    if (map?.size === 0) this.#byNamespace.delete(namespace);
    this.#lists.delete(namespace);
    return old;
  }

  clear(): void {
    this.#byNamespace.clear();
    this.#lists.clear();
  }

  /** Everything held is replaced by `items` (a watch's list). */
  replace(items: Iterable<T>): void {
    this.clear();
    for (const item of items) this.put(item);
  }

  list(namespace: string): readonly T[] {
    let list = this.#lists.get(namespace);
    if (list === undefined) {
      list = [...(this.#byNamespace.get(namespace)?.values() ?? [])];
      this.#lists.set(namespace, list);
    }
    return list;
  }

  /** Every entry, in no particular order (nothing is cached). */
  *all(): Iterable<T> {
    for (const map of this.#byNamespace.values()) yield* map.values();
  }

  namespaces(): Iterable<string> {
    return this.#byNamespace.keys();
  }

  get size(): number {
    let count = 0;
    for (const map of this.#byNamespace.values()) count += map.size;
    return count;
  }
}
