import type { KubeConfig } from '@kubernetes/client-node';
import { toEndpointSliceFacts, toServiceEntryFacts, toServiceFacts, type EndpointSliceFacts, type ServiceEntryFacts, type ServiceFacts } from '../policy/service-facts.js';
import { rawListPages } from '../kube/list-all.js';
import { ResourceWatcher, type ResourceWatcherOptions, type RestartReason } from '../kube/resource-watcher.js';
import { ISTIO_NETWORKING_GROUP } from './objects.js';
import type { ServiceCatalog } from './service-catalog.js';

export interface CatalogWatcherOptions {
  readonly kubeConfig: KubeConfig;
  /** What these watches share with the view's others: client, staleness, backoff, page size, clock. */
  readonly common: Pick<ResourceWatcherOptions, 'watch' | 'staleAfterMs' | 'backoff' | 'pageSize' | 'clock'>;
  readonly catalog: ServiceCatalog;
  /** The served networking.istio.io version (the one Sidecars were found at). */
  readonly istioVersion: string;
  readonly restarted: (resource: string) => (reason: RestartReason, error?: unknown) => void;
}

/**
 * The three watches that feed the ServiceCatalog: Services, EndpointSlices and ServiceEntries,
 * cluster-wide, list/watch only. Items are reduced to facts as each list page arrives.
 */
export function catalogWatchers(options: CatalogWatcherOptions): ResourceWatcher[] {
  const { catalog, common } = options;
  return [
    new ResourceWatcher<ServiceFacts>({
      ...common,
      resource: 'services',
      path: '/api/v1/services',
      list: rawListPages(options.kubeConfig, '/api/v1/services', toServiceFacts),
      events: {
        onReplace: (items) => catalog.replaceServices(items),
        onEvent: (type, object) => (type === 'DELETED' ? catalog.deleteService(object) : catalog.putService(object)),
        onRestart: options.restarted('services'),
      },
    }),
    new ResourceWatcher<EndpointSliceFacts>({
      ...common,
      resource: 'endpointslices',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      list: rawListPages(options.kubeConfig, '/apis/discovery.k8s.io/v1/endpointslices', toEndpointSliceFacts),
      events: {
        onReplace: (items) => catalog.replaceEndpointSlices(items),
        onEvent: (type, object) => (type === 'DELETED' ? catalog.deleteEndpointSlice(object) : catalog.putEndpointSlice(object)),
        onRestart: options.restarted('endpointslices'),
      },
    }),
    new ResourceWatcher<ServiceEntryFacts>({
      ...common,
      resource: 'serviceentries',
      path: `/apis/${ISTIO_NETWORKING_GROUP}/${options.istioVersion}/serviceentries`,
      list: rawListPages(options.kubeConfig, `/apis/${ISTIO_NETWORKING_GROUP}/${options.istioVersion}/serviceentries`, toServiceEntryFacts),
      events: {
        onReplace: (items) => catalog.replaceServiceEntries(items),
        onEvent: (type, object) => (type === 'DELETED' ? catalog.deleteServiceEntry(object) : catalog.putServiceEntry(object)),
        onRestart: options.restarted('serviceentries'),
      },
    }),
  ];
}
