import {
  toEndpointSliceFacts,
  toServiceEntryFacts,
  toServiceFacts,
  type EndpointSliceFacts,
  type ServiceCatalogView,
  type ServiceEntryFacts,
  type ServiceFacts,
} from '../policy/service-facts.js';

class NamespacedStore<T extends { namespace: string; name: string }> {
  readonly #byNamespace = new Map<string, Map<string, T>>();
  readonly #lists = new Map<string, readonly T[]>();

  put(facts: T): void {
    let map = this.#byNamespace.get(facts.namespace);
    if (!map) this.#byNamespace.set(facts.namespace, (map = new Map()));
    map.set(facts.name, facts);
    this.#lists.delete(facts.namespace);
  }

  delete(namespace: string, name: string): T | undefined {
    const map = this.#byNamespace.get(namespace);
    const old = map?.get(name);
    map?.delete(name);
    if (map?.size === 0) this.#byNamespace.delete(namespace);
    this.#lists.delete(namespace);
    return old;
  }

  get(namespace: string, name: string): T | undefined {
    return this.#byNamespace.get(namespace)?.get(name);
  }

  list(namespace: string): readonly T[] {
    let list = this.#lists.get(namespace);
    if (list === undefined) {
      list = [...(this.#byNamespace.get(namespace)?.values() ?? [])];
      this.#lists.set(namespace, list);
    }
    return list;
  }

  namespaces(): Iterable<string> {
    return this.#byNamespace.keys();
  }

  clear(): void {
    this.#byNamespace.clear();
    this.#lists.clear();
  }

  get size(): number {
    let count = 0;
    for (const map of this.#byNamespace.values()) count += map.size;
    return count;
  }
}

interface SliceCount {
  readonly service: string;
  readonly endpoints: number;
}

/**
 * Services, ServiceEntries and endpoint counts as compact facts (service-facts.ts), fed object by
 * object from a watch or a manifest directory. Objects are reduced on arrival; none is kept.
 */
export class ServiceCatalog implements ServiceCatalogView {
  readonly #services = new NamespacedStore<ServiceFacts>();
  readonly #entries = new NamespacedStore<ServiceEntryFacts>();
  /** Per namespace: slice name → its service and count; and service → summed endpoints. */
  readonly #slices = new Map<string, Map<string, SliceCount>>();
  readonly #endpoints = new Map<string, Map<string, number>>();
  #version = 0;
  #published = 0;
  #publishedAt = 0;
  readonly #minIntervalMs: number;
  readonly #clock: () => number;

  /**
   * `minVersionIntervalMs`: the version callers see moves at most this often. Predictions are
   * memoised per version, and a live cluster changes endpoints every second; an estimate a second
   * old is as good, and the unscoped index is not rebuilt for every admission.
   */
  constructor(options: { minVersionIntervalMs?: number; clock?: () => number } = {}) {
    this.#minIntervalMs = options.minVersionIntervalMs ?? 0;
    this.#clock = options.clock ?? Date.now;
  }

  get version(): number {
    if (this.#published !== this.#version) {
      const now = this.#clock();
      if (this.#minIntervalMs === 0 || now - this.#publishedAt >= this.#minIntervalMs) {
        this.#published = this.#version;
        this.#publishedAt = now;
      }
    }
    return this.#published;
  }

  putService(object: unknown, defaultNamespace?: string): void {
    const facts = toServiceFacts(object, defaultNamespace);
    if (!facts) return;
    this.#services.put(facts);
    this.#version++;
  }

  deleteService(object: unknown): void {
    const facts = toServiceFacts(object);
    if (!facts) return;
    this.#services.delete(facts.namespace, facts.name);
    this.#version++;
  }

  /** Replaces every Service with these facts (a watch's list, already reduced page by page). */
  replaceServices(facts: readonly ServiceFacts[]): void {
    this.#services.clear();
    for (const one of facts) this.#services.put(one);
    this.#version++;
  }

  putServiceEntry(object: unknown, defaultNamespace?: string): void {
    const facts = toServiceEntryFacts(object, defaultNamespace);
    if (!facts) return;
    this.#entries.put(facts);
    this.#version++;
  }

  deleteServiceEntry(object: unknown): void {
    const facts = toServiceEntryFacts(object);
    if (!facts) return;
    this.#entries.delete(facts.namespace, facts.name);
    this.#version++;
  }

  replaceServiceEntries(facts: readonly ServiceEntryFacts[]): void {
    this.#entries.clear();
    for (const one of facts) this.#entries.put(one);
    this.#version++;
  }

  #adjust(namespace: string, service: string, delta: number): void {
    let counts = this.#endpoints.get(namespace);
    if (!counts) this.#endpoints.set(namespace, (counts = new Map()));
    const next = (counts.get(service) ?? 0) + delta;
    if (next > 0) counts.set(service, next);
    else counts.delete(service);
    if (counts.size === 0) this.#endpoints.delete(namespace);
  }

  #removeSlice(namespace: string, name: string): void {
    const slices = this.#slices.get(namespace);
    const old = slices?.get(name);
    if (!slices || !old) return;
    slices.delete(name);
    if (slices.size === 0) this.#slices.delete(namespace);
    this.#adjust(namespace, old.service, -old.endpoints);
  }

  putEndpointSlice(object: unknown, defaultNamespace?: string): void {
    const facts = toEndpointSliceFacts(object, defaultNamespace);
    if (facts) this.#putSlice(facts);
  }

  #putSlice(facts: EndpointSliceFacts): void {
    this.#removeSlice(facts.namespace, facts.name);
    let slices = this.#slices.get(facts.namespace);
    if (!slices) this.#slices.set(facts.namespace, (slices = new Map()));
    slices.set(facts.name, { service: facts.service, endpoints: facts.endpoints });
    this.#adjust(facts.namespace, facts.service, facts.endpoints);
    this.#version++;
  }

  deleteEndpointSlice(object: unknown): void {
    const facts = toEndpointSliceFacts(object);
    if (!facts) return;
    this.#removeSlice(facts.namespace, facts.name);
    this.#version++;
  }

  replaceEndpointSlices(facts: readonly EndpointSliceFacts[]): void {
    this.#slices.clear();
    this.#endpoints.clear();
    for (const one of facts) this.#putSlice(one);
    this.#version++;
  }

  *namespaces(): Iterable<string> {
    const seen = new Set<string>();
    for (const namespace of [...this.#services.namespaces(), ...this.#entries.namespaces()]) {
      if (seen.has(namespace)) continue;
      seen.add(namespace);
      yield namespace;
    }
  }

  services(namespace: string): readonly ServiceFacts[] {
    return this.#services.list(namespace);
  }

  serviceEntries(namespace: string): readonly ServiceEntryFacts[] {
    return this.#entries.list(namespace);
  }

  endpoints(namespace: string, name: string): number {
    return this.#endpoints.get(namespace)?.get(name) ?? 0;
  }

  /** Object counts for the cache gauge. */
  counts(): { services: number; serviceentries: number; endpointslices: number } {
    let endpointslices = 0;
    for (const slices of this.#slices.values()) endpointslices += slices.size;
    return { services: this.#services.size, serviceentries: this.#entries.size, endpointslices };
  }
}
