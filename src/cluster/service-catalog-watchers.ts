import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { toEndpointSliceFacts, toServiceEntryFacts, toServiceFacts } from '../policy/service-facts.js';
import { clientPaging, ResourceWatcher, toListPage, type ClientList, type ResourceWatcherOptions, type RestartReason } from '../kube/resource-watcher.js';
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
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const discovery = options.kubeConfig.makeApiClient(DiscoveryV1Api);
  const custom = options.kubeConfig.makeApiClient(CustomObjectsApi);
  const { catalog, common } = options;
  return [
    new ResourceWatcher({
      ...common,
      resource: 'services',
      path: '/api/v1/services',
      list: async (page) => toListPage(await core.listServiceForAllNamespaces(clientPaging(page)), (o) => toServiceFacts(o)),
      events: {
        onReplace: (items) => catalog.replaceServices(items),
        onEvent: (type, object) => (type === 'DELETED' ? catalog.deleteService(object) : catalog.putService(object)),
        onRestart: options.restarted('services'),
      },
    }),
    new ResourceWatcher({
      ...common,
      resource: 'endpointslices',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      list: async (page) => toListPage(await discovery.listEndpointSliceForAllNamespaces(clientPaging(page)), (o) => toEndpointSliceFacts(o)),
      events: {
        onReplace: (items) => catalog.replaceEndpointSlices(items),
        onEvent: (type, object) => (type === 'DELETED' ? catalog.deleteEndpointSlice(object) : catalog.putEndpointSlice(object)),
        onRestart: options.restarted('endpointslices'),
      },
    }),
    new ResourceWatcher({
      ...common,
      resource: 'serviceentries',
      path: `/apis/${ISTIO_NETWORKING_GROUP}/${options.istioVersion}/serviceentries`,
      list: async (page) =>
        toListPage(
          (await custom.listClusterCustomObject({ group: ISTIO_NETWORKING_GROUP, version: options.istioVersion, plural: 'serviceentries', ...clientPaging(page) })) as ClientList,
          (o) => toServiceEntryFacts(o),
        ),
      events: {
        onReplace: (items) => catalog.replaceServiceEntries(items),
        onEvent: (type, object) => (type === 'DELETED' ? catalog.deleteServiceEntry(object) : catalog.putServiceEntry(object)),
        onRestart: options.restarted('serviceentries'),
      },
    }),
  ];
}
