import { CoreV1Api, CustomObjectsApi, Watch, type KubeConfig } from '@kubernetes/client-node';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { NamespaceFacts, PodFacts, SidecarFacts } from '../policy/types.js';
import { clusterError } from '../cli/exit-codes.js';
import { accessHint, describeApiError } from '../kube/api-error.js';
import { rawListPages } from '../kube/list-all.js';
import { ResourceWatcher, SYSTEM_CLOCK, type Clock, type RestartReason } from '../kube/resource-watcher.js';
import type { ClusterView } from './cluster-view.js';
import type { ServiceCatalogView } from '../policy/service-facts.js';
import { ServiceCatalog } from './service-catalog.js';
import { catalogWatchers } from './service-catalog-watchers.js';
import { NamespacedStore } from './namespaced-store.js';
import { ISTIO_NETWORKING_GROUP, OPT_IN_LABELS, namespacedName, toNamespaceFacts, toPodFacts, toSidecarFacts } from './objects.js';

export interface WatchClusterViewOptions {
  readonly kubeConfig: KubeConfig;
  readonly registry?: Registry;
  /** A watch silent for this long (no event, no bookmark) is restarted; default 5 minutes. */
  readonly staleAfterMs?: number;
  readonly backoff?: { initialMs: number; maxMs: number };
  readonly pageSize?: number;
  readonly clock?: Clock;
  readonly onRestart?: (resource: string, reason: RestartReason, error?: unknown) => void;
  /** Also watch Services, EndpointSlices and ServiceEntries for memory prediction; default true. */
  readonly watchCatalog?: boolean;
}

export interface RetryingStartOptions extends WatchClusterViewOptions {
  /** The Sidecar version probe failed; it is tried again after `retryInMs`. */
  readonly onDiscoveryError?: (error: unknown, attempt: number, retryInMs: number) => void;
  /** The probe succeeded and the watches started. */
  readonly onStarted?: (sidecarVersion: string) => void;
}

/**
 * The served version of `networking.istio.io` Sidecars: v1 (Istio >= 1.22), else v1beta1
 * (istio-facts §4), found by a one-item LIST so no discovery permission is needed.
 */
export async function discoverSidecarVersion(api: CustomObjectsApi): Promise<string> {
  let lastError: unknown;
  for (const version of ['v1', 'v1beta1']) {
    try {
      await api.listClusterCustomObject({ group: ISTIO_NETWORKING_GROUP, version, plural: 'sidecars', limit: 1 });
      return version;
    } catch (error) {
      lastError = error;
      if ((error as { code?: number }).code !== 404) throw clusterError(`cannot list networking.istio.io/${version} Sidecars: ${describeApiError(error)}${accessHint(error)}`, { cause: error });
    }
  }
  throw clusterError(`neither networking.istio.io/v1 nor v1beta1 Sidecars are served (is Istio installed? are its CRDs applied?): ${describeApiError(lastError)}`);
}

/**
 * The cluster view of a live cluster: Namespaces, Sidecars and opted-in pods kept current by
 * supervised watches. Lookups read in-memory maps (O(1) by namespace); admission never calls the API.
 *
 * Pods are watched only where they carry an opt-in label, one exists-selector per label (a label
 * selector cannot OR): `pods-inject` and `pods-rev`. A pod with both is in both; dropping one key
 * makes the API server send DELETED to that watch only, so each watch keeps its own map. Of those,
 * only pods running an istio-proxy are kept (`toPodFacts`): opted-out pods cost no memory.
 */
export class WatchClusterView implements ClusterView {
  readonly #namespaces = new Map<string, NamespaceFacts>();
  readonly #sidecars = new NamespacedStore<SidecarFacts>();
  /** One store per pod watch (one per opt-in label). */
  readonly #pods: NamespacedStore<PodFacts>[] = OPT_IN_LABELS.map(() => new NamespacedStore<PodFacts>());
  /** Per namespace, the pods of every watch merged; rebuilt only after that namespace changes. */
  readonly #podLists = new Map<string, readonly PodFacts[]>();
  #watchers: ResourceWatcher[] = [];
  /** Kept apart from #watchers: admission never waits on them (no catalog = no prediction). */
  #catalogWatchers: ResourceWatcher[] = [];
  readonly #catalog = new ServiceCatalog({ minVersionIntervalMs: 1000 });
  #sidecarVersion: string | undefined;
  #closed = false;
  #wake: (() => void) | undefined;
  readonly #listeners = new Set<(resource: string) => void>();
  readonly #options: WatchClusterViewOptions;
  readonly #metrics: ReturnType<typeof viewMetrics> | undefined;

  private constructor(options: WatchClusterViewOptions) {
    this.#options = options;
    this.#metrics = options.registry ? viewMetrics(options.registry, { counts: () => this.#counts(), ages: () => this.#ages() }) : undefined;
  }

  /** The kubeconfig the watches use; `serve --reports` reads and writes with the same one (one resolution, one kept connection pool). */
  get kubeConfig(): KubeConfig {
    return this.#options.kubeConfig;
  }

  /** The served Sidecar version, once the probe has found it. */
  get sidecarVersion(): string | undefined {
    return this.#sidecarVersion;
  }

  #begin(sidecarVersion: string): void {
    this.#sidecarVersion = sidecarVersion;
    const options = this.#options;
    const watch = new Watch(options.kubeConfig);
    const metrics = this.#metrics;
    const common = {
      watch,
      ...(options.staleAfterMs !== undefined ? { staleAfterMs: options.staleAfterMs } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
      ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
    };
    const restarted = (resource: string) => (reason: RestartReason, error?: unknown) => {
      metrics?.restarts.inc({ resource, reason });
      options.onRestart?.(resource, reason, error);
    };
    const namespaces = new ResourceWatcher<NamespaceFacts>({
      ...common,
      resource: 'namespaces',
      path: '/api/v1/namespaces',
      list: rawListPages(options.kubeConfig, '/api/v1/namespaces', toNamespaceFacts),
      events: {
        onReplace: (items) => {
          this.#namespaces.clear();
          for (const facts of items) this.#namespaces.set(facts.name, facts);
          this.#changed('namespaces');
        },
        onEvent: (type, object) => {
          if (type === 'DELETED') this.#deleteNamespace(object);
          else this.#putNamespace(object);
          this.#changed('namespaces');
        },
        onRestart: restarted('namespaces'),
      },
    });
    const sidecars = new ResourceWatcher<SidecarFacts>({
      ...common,
      resource: 'sidecars',
      path: `/apis/${ISTIO_NETWORKING_GROUP}/${sidecarVersion}/sidecars`,
      list: rawListPages(options.kubeConfig, `/apis/${ISTIO_NETWORKING_GROUP}/${sidecarVersion}/sidecars`, toSidecarFacts),
      events: {
        onReplace: (items) => {
          this.#sidecars.replace(items);
          this.#changed('sidecars');
        },
        onEvent: (type, object) => {
          if (type === 'DELETED') this.#deleteSidecar(object);
          else this.#putSidecar(object);
          this.#changed('sidecars');
        },
        onRestart: restarted('sidecars'),
      },
    });
    const pods = OPT_IN_LABELS.map((label, index) => {
      const store = this.#pods[index] ?? new NamespacedStore<PodFacts>();
      const resource = label === OPT_IN_LABELS[0] ? 'pods-inject' : 'pods-rev';
      return new ResourceWatcher<PodFacts>({
        ...common,
        resource,
        path: '/api/v1/pods',
        labelSelector: label,
        list: rawListPages(options.kubeConfig, '/api/v1/pods', (o) => toPodFacts(withPodKind(o)), label),
        events: {
          onReplace: (items) => {
            store.replace(items);
            this.#podLists.clear();
          },
          onEvent: (type, object) => (type === 'DELETED' ? this.#deletePod(store, object) : this.#putPod(store, object)),
          onRestart: restarted(resource),
        },
      });
    });
    this.#watchers = [namespaces, sidecars, ...pods];
    this.#catalogWatchers =
      options.watchCatalog === false ? [] : catalogWatchers({ common, kubeConfig: options.kubeConfig, catalog: this.#catalog, istioVersion: sidecarVersion, restarted });
    for (const watcher of [...this.#watchers, ...this.#catalogWatchers]) watcher.start();
  }

  #changed(resource: string): void {
    for (const listener of this.#listeners) listener(resource);
  }

  /**
   * Calls `listener` after every change to the Namespaces or Sidecars held (an event or a re-list),
   * with the resource's name; returns the function that unsubscribes it.
   */
  onChange(listener: (resource: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The names of every Namespace held. */
  namespaceNames(): string[] {
    return [...this.#namespaces.keys()];
  }

  #putPod(store: NamespacedStore<PodFacts>, object: unknown): void {
    const facts = toPodFacts(withPodKind(object));
    if (!facts) return this.#deletePod(store, object);
    store.put(facts);
    this.#podLists.delete(facts.namespace);
  }

  #deletePod(store: NamespacedStore<PodFacts>, object: unknown): void {
    const named = namespacedName(object);
    if (!named) return;
    store.delete(named.namespace, named.name);
    this.#podLists.delete(named.namespace);
  }

  #counts(): Record<string, number> {
    const pods = new Set<string>();
    for (const store of this.#pods) for (const pod of store.all()) pods.add(`${pod.namespace}/${pod.name}`);
    return { namespaces: this.#namespaces.size, sidecars: this.#sidecars.size, pods: pods.size, ...(this.#catalogWatchers.length > 0 ? this.#catalog.counts() : {}) };
  }

  #ages(): Record<string, number> {
    return Object.fromEntries([...this.#watchers, ...this.#catalogWatchers].map((w) => [w.resource, w.sinceLastActivity() / 1000]));
  }

  /** Discovers the Sidecar version and starts the watches; does not wait for the sync. Rejects when the probe fails. */
  static async start(options: WatchClusterViewOptions): Promise<WatchClusterView> {
    const version = await discoverSidecarVersion(options.kubeConfig.makeApiClient(CustomObjectsApi));
    const view = new WatchClusterView(options);
    view.#begin(version);
    return view;
  }

  /**
   * Returns at once; the Sidecar version probe runs in the background and is retried with the
   * watches' capped exponential backoff until it succeeds (API server down, RBAC or Istio's CRDs
   * not applied yet), then the watches start. Unsynced (readyz false) until then.
   */
  static startRetrying(options: RetryingStartOptions): WatchClusterView {
    const view = new WatchClusterView(options);
    void view.#discoverUntilFound(options);
    return view;
  }

  async #discoverUntilFound(options: RetryingStartOptions): Promise<void> {
    const clock = options.clock ?? SYSTEM_CLOCK;
    const backoff = options.backoff ?? { initialMs: 250, maxMs: 30_000 };
    const api = options.kubeConfig.makeApiClient(CustomObjectsApi);
    let delay = backoff.initialMs;
    for (let attempt = 1; !this.#closed; attempt += 1) {
      try {
        const version = await discoverSidecarVersion(api);
        if (this.#closed) return;
        this.#begin(version);
        options.onStarted?.(version);
        return;
      } catch (error) {
        if (this.#closed) return;
        options.onDiscoveryError?.(error, attempt, delay);
        await Promise.race([clock.sleep(delay), new Promise<void>((resolve) => (this.#wake = resolve))]);
        delay = Math.min(delay * 2, backoff.maxMs);
      }
    }
  }

  #putNamespace(object: unknown): void {
    const facts = toNamespaceFacts(object);
    if (facts) this.#namespaces.set(facts.name, facts);
  }

  #deleteNamespace(object: unknown): void {
    const facts = toNamespaceFacts(object);
    if (facts) this.#namespaces.delete(facts.name);
  }

  #putSidecar(object: unknown): void {
    const facts = toSidecarFacts(object);
    if (facts) this.#sidecars.put(facts);
  }

  #deleteSidecar(object: unknown): void {
    const facts = toSidecarFacts(object);
    if (facts) this.#sidecars.delete(facts.namespace, facts.name);
  }

  namespace(name: string): NamespaceFacts | undefined {
    return this.#namespaces.get(name);
  }

  sidecars(namespace: string): readonly SidecarFacts[] {
    return this.#sidecars.list(namespace);
  }

  optedInPods(namespace: string): readonly PodFacts[] {
    let list = this.#podLists.get(namespace);
    if (list === undefined) {
      const merged = new Map<string, PodFacts>();
      for (const store of this.#pods) for (const pod of store.list(namespace)) merged.set(pod.name, pod);
      list = [...merged.values()];
      this.#podLists.set(namespace, list);
    }
    return list;
  }

  isSynced(): boolean {
    return this.#watchers.length > 0 && this.#watchers.every((w) => w.isSynced());
  }

  /** The catalog once its three watches have listed; undefined before (or when not watched). */
  catalog(): ServiceCatalogView | undefined {
    return this.#catalogWatchers.length > 0 && this.#catalogWatchers.every((w) => w.isSynced()) ? this.#catalog : undefined;
  }

  /** Resolves once every watch has listed, or rejects after `timeoutMs`. */
  async waitForSync(timeoutMs = 30_000, pollMs = 20): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.isSynced()) {
      if (Date.now() > deadline) throw new Error(`cluster view not synced after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await Promise.all([...this.#watchers, ...this.#catalogWatchers].map((w) => w.stop()));
  }
}

/** Removes a metric of that name first, so a view can be rebuilt on one registry (tests, restarts). */
function fresh(registry: Registry, name: string): void {
  if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
}

function viewMetrics(registry: Registry, view: { counts(): Record<string, number>; ages(): Record<string, number> }) {
  for (const name of ['sidecar_guard_cache_objects', 'sidecar_guard_cache_last_event_age_seconds', 'sidecar_guard_watch_restarts_total']) fresh(registry, name);
  new Gauge({
    name: 'sidecar_guard_cache_objects',
    help: 'Objects held in the watch cache.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      for (const [resource, count] of Object.entries(view.counts())) this.set({ resource }, count);
    },
  });
  new Gauge({
    name: 'sidecar_guard_cache_last_event_age_seconds',
    help: 'Seconds since the last list, event, bookmark or watch connection, per resource.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      for (const [resource, age] of Object.entries(view.ages())) this.set({ resource }, age);
    },
  });
  return {
    restarts: new Counter({
      name: 'sidecar_guard_watch_restarts_total',
      help: 'Watch restarts by resource and reason (gone, error, closed, stale, list-error).',
      labelNames: ['resource', 'reason'],
      registers: [registry],
    }),
  };
}

/** Items of a pod LIST carry no kind; watch events do. `toPodFacts` reads both alike. */
function withPodKind(object: unknown): unknown {
  return typeof object === 'object' && object !== null ? { ...object, apiVersion: 'v1', kind: 'Pod' } : object;
}
