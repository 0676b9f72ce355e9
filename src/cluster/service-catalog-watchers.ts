import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig, type Watch } from '@kubernetes/client-node';
import {
  toEndpointSliceFacts,
  toServiceEntryFacts,
  toServiceFacts,
  type EndpointSliceFacts,
  type ServiceEntryFacts,
  type ServiceFacts,
} from '../policy/service-facts.js';
import { ResourceWatcher, type Clock, type ListPage, type RestartReason } from '../kube/resource-watcher.js';
import { ISTIO_NETWORKING_GROUP } from './objects.js';
import type { ServiceCatalog } from './service-catalog.js';

interface RawList {
  metadata?: { resourceVersion?: string; _continue?: string; continue?: string };
  items?: unknown[];
}

/** A list page with its items already reduced to facts: a full object never outlives its page. */
function toFactsPage<T>(list: RawList, reduce: (object: unknown) => T | undefined): ListPage {
  const token = list.metadata?._continue ?? list.metadata?.continue;
  const items = (list.items ?? []).map((item) => reduce(item)).filter((facts) => facts !== undefined);
  return { items, resourceVersion: list.metadata?.resourceVersion ?? '', ...(token ? { continueToken: token } : {}) };
}

export interface CatalogWatcherOptions {
  readonly kubeConfig: KubeConfig;
  readonly watch: Pick<Watch, 'watch'>;
  readonly catalog: ServiceCatalog;
  /** The served networking.istio.io version (the one Sidecars were found at). */
  readonly istioVersion: string;
  readonly staleAfterMs?: number;
  readonly backoff?: { initialMs: number; maxMs: number };
  readonly pageSize?: number;
  readonly clock?: Clock;
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
  const { catalog } = options;
  const common = {
    watch: options.watch,
    ...(options.staleAfterMs !== undefined ? { staleAfterMs: options.staleAfterMs } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(options.pageSize ? { pageSize: options.pageSize } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  };
  const paging = (page: { limit: number; continueToken?: string }) => ({ limit: page.limit, ...(page.continueToken ? { _continue: page.continueToken } : {}) });
  return [
    new ResourceWatcher({
      ...common,
      resource: 'services',
      path: '/api/v1/services',
      list: async (page) => toFactsPage((await core.listServiceForAllNamespaces(paging(page))) as RawList, (o) => toServiceFacts(o)),
      // The list function reduced every item already (toFactsPage), so these are facts.
      events: {
        onReplace: (items) => catalog.replaceServices(items as readonly ServiceFacts[]),
        onEvent: (type, object) => (type === 'DELETED' ? catalog.deleteService(object) : catalog.putService(object)),
        onRestart: options.restarted('services'),
      },
    }),
    new ResourceWatcher({
      ...common,
      resource: 'endpointslices',
      path: '/apis/discovery.k8s.io/v1/endpointslices',
      list: async (page) => toFactsPage((await discovery.listEndpointSliceForAllNamespaces(paging(page))) as RawList, (o) => toEndpointSliceFacts(o)),
      events: {
        onReplace: (items) => catalog.replaceEndpointSlices(items as readonly EndpointSliceFacts[]),
        onEvent: (type, object) => (type === 'DELETED' ? catalog.deleteEndpointSlice(object) : catalog.putEndpointSlice(object)),
        onRestart: options.restarted('endpointslices'),
      },
    }),
    new ResourceWatcher({
      ...common,
      resource: 'serviceentries',
      path: `/apis/${ISTIO_NETWORKING_GROUP}/${options.istioVersion}/serviceentries`,
      list: async (page) =>
        toFactsPage(
          (await custom.listClusterCustomObject({ group: ISTIO_NETWORKING_GROUP, version: options.istioVersion, plural: 'serviceentries', ...paging(page) })) as RawList,
          (o) => toServiceEntryFacts(o),
        ),
      events: {
        onReplace: (items) => catalog.replaceServiceEntries(items as readonly ServiceEntryFacts[]),
        onEvent: (type, object) => (type === 'DELETED' ? catalog.deleteServiceEntry(object) : catalog.putServiceEntry(object)),
        onRestart: options.restarted('serviceentries'),
      },
    }),
  ];
}
