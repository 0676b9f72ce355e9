import type { ServiceCatalogView } from '../policy/service-facts.js';
import type { NamespaceFacts, SidecarFacts } from '../policy/types.js';

/**
 * The cluster as the webhook sees it: Namespaces and Istio Sidecars.
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
  /** Services, ServiceEntries and endpoint counts, once known; undefined turns memory prediction off. */
  catalog?(): ServiceCatalogView | undefined;
  /** True once the view holds a complete, current picture of the cluster. */
  isSynced(): boolean;
  /** Releases watches, timers and file handles. */
  close(): Promise<void>;
}
