import type { NamespaceFacts, PodFacts, SidecarFacts } from '../policy/types.js';
import type { ServiceCatalogView } from '../policy/service-facts.js';

/**
 * The cluster as the webhook sees it: Namespaces, Istio Sidecars, and the pods that opted in to
 * injection on their own (compact facts only, see `PodFacts`).
 *
 * Two implementations share this contract (and one test suite):
 * - `FileClusterView` reads a directory of YAML (`serve --cluster-state DIR`, `audit`);
 * - the watch-backed view keeps an informer cache of a live cluster.
 *
 * Every method is a synchronous in-memory lookup: admission never waits on I/O.
 */
export interface ClusterView {
  /** The Namespace called `name`, or undefined when it is not known. */
  namespace(name: string): NamespaceFacts | undefined;
  /** The Sidecars in namespace `name` (empty when none). */
  sidecars(namespace: string): readonly SidecarFacts[];
  /** Pods in namespace `name` running an istio-proxy with a `sidecar.istio.io/inject` or `istio.io/rev` label (empty when none). */
  optedInPods(namespace: string): readonly PodFacts[];
  /** Services, ServiceEntries and endpoint counts, once known; undefined turns memory prediction off. */
  catalog?(): ServiceCatalogView | undefined;
  /** True once the view holds a complete, current picture of the cluster. */
  isSynced(): boolean;
  /** Releases watches, timers and file handles. */
  close(): Promise<void>;
}
