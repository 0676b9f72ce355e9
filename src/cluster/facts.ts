import type { Config } from '../config/types.js';
import type { ClusterFacts } from '../policy/types.js';
import type { ClusterView } from './cluster-view.js';

/**
 * The immutable facts one decision reads, taken from the view's in-memory indexes (no I/O).
 *
 * @example readClusterFacts(view, 'shop', config).sidecars.length
 */
export function readClusterFacts(view: ClusterView, namespace: string, config: Pick<Config, 'scope'>): ClusterFacts {
  const known = view.namespace(namespace);
  const catalog = view.catalog?.();
  return {
    synced: view.isSynced(),
    ...(known ? { namespace: known } : {}),
    sidecars: namespace === '' ? [] : view.sidecars(namespace),
    rootSidecars: view.sidecars(config.scope.rootNamespace),
    optedInPods: namespace === '' ? [] : view.optedInPods(namespace),
    ...(catalog ? { catalog } : {}),
  };
}
