import t, { type Test } from 'tap';
import { FileClusterView } from '../../src/cluster/file-cluster-view.js';
import { ServiceCatalog } from '../../src/cluster/service-catalog.js';
import { WatchClusterView } from '../../src/cluster/watch-cluster-view.js';
import type { ClusterView } from '../../src/cluster/cluster-view.js';
import { computeImports } from '../../src/policy/service-imports.js';
import { toEndpointSliceFacts, toServiceEntryFacts, toServiceFacts } from '../../src/policy/service-facts.js';
import { namespace, type Json } from '../support/builders.js';
import { endpointSlice, service, serviceEntry } from '../support/catalog-builders.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const OBJECTS: Json[] = [
  namespace('shop'),
  service('shop', 'web', { ports: 2 }),
  service('pay', 'api', { exportTo: 'shop,.' }),
  endpointSlice('shop', 'web-abc', 'web', 3),
  endpointSlice('shop', 'web-def', 'web', 4),
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { namespace: 'shop', name: 'orphan' }, endpoints: [{ addresses: ['10.0.0.1'] }] },
  serviceEntry('ext', 'stripe', { hosts: ['API.stripe.com'], exportTo: ['shop'], resolution: 'DNS', ports: 2 }),
];

/** The facts every view must hold for OBJECTS. */
function catalogContract(t: Test, view: ClusterView): void {
  const catalog = view.catalog?.();
  if (!catalog) return void t.fail('the view keeps a catalog');
  t.same([...catalog.namespaces()].sort(), ['ext', 'pay', 'shop']);
  t.same(catalog.services('shop'), [{ namespace: 'shop', name: 'web', ports: 2 }], 'compact facts, not objects');
  t.same(catalog.services('pay'), [{ namespace: 'pay', name: 'api', ports: 1, exportTo: ['shop', '.'] }], 'the exportTo annotation, split');
  t.equal(catalog.endpoints('shop', 'web'), 7, 'endpoints summed over the slices labelled kubernetes.io/service-name');
  t.equal(catalog.endpoints('shop', 'orphan'), 0, 'a slice without the label counts for nothing');
  t.same(catalog.serviceEntries('ext'), [
    { namespace: 'ext', name: 'stripe', hosts: ['api.stripe.com'], ports: 2, resolution: 'DNS', endpoints: 1, exportTo: ['shop'] },
  ]);
  const imports = computeImports('shop', undefined, catalog, { clusterDomain: 'cluster.local' });
  t.same([imports.services, imports.clusters, imports.endpoints], [3, 2 + 1 + 2 + 7, 14 + 0 + 2]);
}

t.test('the file view reads Services, EndpointSlices and ServiceEntries from manifests', async (t) => {
  catalogContract(t, FileClusterView.fromObjects(OBJECTS));
});

t.test('the watch view lists them, reduced as they arrive, and follows changes', async (t) => {
  const server = await new FakeApiServer().start();
  t.teardown(() => server.stop());
  for (const object of OBJECTS) server.put(object);
  const view = await WatchClusterView.start({ kubeConfig: server.kubeConfig(), backoff: { initialMs: 20, maxMs: 200 } });
  t.teardown(() => view.close());
  await view.waitForSync();
  await eventually(() => view.catalog() !== undefined, 'the catalog to sync');
  catalogContract(t, view);
  for (const path of ['/api/v1/services?', '/apis/discovery.k8s.io/v1/endpointslices?', '/apis/networking.istio.io/v1/serviceentries?']) {
    t.ok(server.requests.some((r) => r.startsWith(`GET ${path}`)), `listed ${path}`);
  }
  const catalog = view.catalog();
  const before = catalog?.version ?? 0;
  server.put(endpointSlice('shop', 'web-abc', 'web', 10));
  await eventually(() => catalog?.endpoints('shop', 'web') === 14, 'the slice change');
  await eventually(() => (catalog?.version ?? 0) > before, 'the version to move (published at most once a second)');
  server.remove(service('shop', 'web'));
  await eventually(() => catalog?.services('shop').length === 0, 'the deletion');
});

t.test('watchCatalog: false keeps no catalog and does not list those kinds', async (t) => {
  const server = await new FakeApiServer().start();
  t.teardown(() => server.stop());
  const view = await WatchClusterView.start({ kubeConfig: server.kubeConfig(), watchCatalog: false });
  t.teardown(() => view.close());
  await view.waitForSync();
  t.equal(view.catalog(), undefined);
  t.notOk(server.requests.some((r) => r.includes('/services')));
});

t.test('the store: replace, put and delete keep counts right', async (t) => {
  const catalog = new ServiceCatalog();
  catalog.replaceServices([toServiceFacts(service('a', 'x'))].filter((s) => s !== undefined));
  catalog.putEndpointSlice(endpointSlice('a', 's1', 'x', 2));
  catalog.putEndpointSlice(endpointSlice('a', 's2', 'x', 3));
  t.equal(catalog.endpoints('a', 'x'), 5);
  catalog.putEndpointSlice(endpointSlice('a', 's1', 'y', 2));
  t.same([catalog.endpoints('a', 'x'), catalog.endpoints('a', 'y')], [3, 2], 'a slice moved to another service moves its count');
  catalog.deleteEndpointSlice(endpointSlice('a', 's2', 'x', 3));
  t.equal(catalog.endpoints('a', 'x'), 0);
  t.same(catalog.counts(), { services: 1, serviceentries: 0, endpointslices: 1 });
  catalog.deleteService(service('a', 'x'));
  t.same([...catalog.namespaces()], []);
  t.equal(toServiceFacts({ kind: 'Service', metadata: {} }), undefined, 'no name: nothing kept');
});

t.test('with minVersionIntervalMs the version callers see moves at most that often', async (t) => {
  let now = 10_000;
  const catalog = new ServiceCatalog({ minVersionIntervalMs: 1000, clock: () => now });
  catalog.putService(service('a', 'x'));
  const first = catalog.version;
  catalog.putEndpointSlice(endpointSlice('a', 's', 'x', 1));
  t.equal(catalog.version, first, 'a change within the interval is not published yet');
  t.equal(catalog.endpoints('a', 'x'), 1, 'the facts themselves are current');
  now += 1000;
  t.not(catalog.version, first, 'published once the interval has passed');
});

t.test('odd values in the fields the facts read: wrong types count as absent, never as found', async (t) => {
  const meta = (extra: Json) => ({ namespace: 'shop', name: 'x', ...extra });
  t.same(toServiceFacts({ metadata: meta({ annotations: { 'networking.istio.io/exportTo': 5 } }), spec: { ports: 'many' } }), { namespace: 'shop', name: 'x', ports: 0 }, 'a non-string exportTo, ports not a list');
  t.same(toServiceFacts({ metadata: meta({ annotations: ['networking.istio.io/exportTo'] }), spec: { ports: [{ port: 80 }, 'x', null, [1]] } }), { namespace: 'shop', name: 'x', ports: 1 }, 'annotations as an array; only object ports count');
  t.same(toServiceFacts({ metadata: meta({ annotations: JSON.parse('{"__proto__": {"networking.istio.io/exportTo": "."}}') as Json }) }), { namespace: 'shop', name: 'x', ports: 0 }, 'a key nested under __proto__ is not the annotation');
  t.equal(toEndpointSliceFacts({ metadata: meta({ labels: { 'kubernetes.io/service-name': 7 } }), endpoints: [{}] }), undefined, 'a non-string service label names no Service');
  t.equal(toEndpointSliceFacts({ metadata: meta({ labels: 'kubernetes.io/service-name=web' }), endpoints: [{}] }), undefined, 'labels that are not a map');
  t.same(toEndpointSliceFacts({ metadata: meta({ labels: { 'kubernetes.io/service-name': 'web' } }), endpoints: [{}, 1, null, { addresses: [] }] }), { namespace: 'shop', name: 'x', service: 'web', endpoints: 2 }, 'only object endpoints count');
  t.same(toServiceEntryFacts({ metadata: meta({}), spec: { hosts: ['a.example.com'], endpoints: [{ address: '192.0.2.1' }, 'x'], resolution: 'static' } })?.endpoints, 1, 'declared endpoints: objects only');
});
