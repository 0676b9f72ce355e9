import {
  classifyCatalogObject,
  toEndpointSliceFacts,
  toServiceEntryFacts,
  toServiceFacts,
  type EndpointSliceFacts,
  type ServiceCatalogView,
  type ServiceEntryFacts,
  type ServiceFacts,
} from '../policy/service-facts.js';
import { NamespacedStore } from './namespaced-store.js';

type Named = { readonly namespace: string; readonly name: string };

/**
 * Services, ServiceEntries and endpoint counts as compact facts (service-facts.ts), fed object by
 * object from a watch or a manifest directory. Objects are reduced on arrival; none is kept.
 */
export class ServiceCatalog implements ServiceCatalogView {
  readonly #services = new NamespacedStore<ServiceFacts>();
  readonly #entries = new NamespacedStore<ServiceEntryFacts>();
  readonly #slices = new NamespacedStore<EndpointSliceFacts>();
  /** Per namespace: service → endpoints summed over its slices (kept with #slices). */
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

  /** Feeds one manifest object of any catalog kind; false when it is none of them. */
  putObject(object: unknown, defaultNamespace?: string): boolean {
    const kind = classifyCatalogObject(object);
    if (kind === 'Service') this.putService(object, defaultNamespace);
    else if (kind === 'ServiceEntry') this.putServiceEntry(object, defaultNamespace);
    else if (kind === 'EndpointSlice') this.putEndpointSlice(object, defaultNamespace);
    return kind !== undefined;
  }

  putService(object: unknown, defaultNamespace?: string): void {
    this.#put(this.#services, toServiceFacts(object, defaultNamespace));
  }

  deleteService(object: unknown): void {
    this.#delete(this.#services, toServiceFacts(object));
  }

  /** Replaces every Service with these facts (a watch's list, already reduced page by page). */
  replaceServices(facts: readonly ServiceFacts[]): void {
    this.#replace(this.#services, facts);
  }

  putServiceEntry(object: unknown, defaultNamespace?: string): void {
    this.#put(this.#entries, toServiceEntryFacts(object, defaultNamespace));
  }

  deleteServiceEntry(object: unknown): void {
    this.#delete(this.#entries, toServiceEntryFacts(object));
  }

  replaceServiceEntries(facts: readonly ServiceEntryFacts[]): void {
    this.#replace(this.#entries, facts);
  }

  putEndpointSlice(object: unknown, defaultNamespace?: string): void {
    const facts = toEndpointSliceFacts(object, defaultNamespace);
    if (facts) this.#putSlice(facts);
  }

  #putSlice(facts: EndpointSliceFacts): void {
    this.#removeSlice(facts);
    this.#slices.put(facts);
    this.#adjust(facts, 1);
    this.#version++;
  }

  deleteEndpointSlice(object: unknown): void {
    const facts = toEndpointSliceFacts(object);
    if (!facts) return;
    this.#removeSlice(facts);
    this.#version++;
  }

  replaceEndpointSlices(facts: readonly EndpointSliceFacts[]): void {
    this.#slices.clear();
    this.#endpoints.clear();
    for (const one of facts) this.#putSlice(one);
    this.#version++;
  }

  #removeSlice(facts: EndpointSliceFacts): void {
    const old = this.#slices.delete(facts.namespace, facts.name);
    if (old) this.#adjust(old, -1);
  }

  /** Adds (1) or takes away (-1) a slice's endpoints from its Service's sum. */
  #adjust(slice: EndpointSliceFacts, sign: 1 | -1): void {
    let counts = this.#endpoints.get(slice.namespace);
    if (!counts) this.#endpoints.set(slice.namespace, (counts = new Map()));
    const next = (counts.get(slice.service) ?? 0) + sign * slice.endpoints;
    if (next > 0) counts.set(slice.service, next);
    else counts.delete(slice.service);
    if (counts.size === 0) this.#endpoints.delete(slice.namespace);
  }

  /** Services and ServiceEntries: put, delete, replace alike; the version moves with each. */
  #put<T extends Named>(store: NamespacedStore<T>, facts: T | undefined): void {
    if (!facts) return;
    store.put(facts);
    this.#version++;
  }

  #delete<T extends Named>(store: NamespacedStore<T>, facts: T | undefined): void {
    if (!facts) return;
    store.delete(facts.namespace, facts.name);
    this.#version++;
  }

  #replace<T extends Named>(store: NamespacedStore<T>, facts: readonly T[]): void {
    store.replace(facts);
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
    return { services: this.#services.size, serviceentries: this.#entries.size, endpointslices: this.#slices.size };
  }
}
