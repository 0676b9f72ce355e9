import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { PodFacts } from '../../src/recommend/observations.js';
import { DEFAULT_SCOPE_OPTIONS, egressHost, gatewaysSkipped, hostNamespace, isImported, parseOutboundCluster, recommendScopes, toSidecarManifest } from '../../src/recommend/recommend-scope.js';
import { readStatsFiles, snapshotsFromText } from '../../src/recommend/sources/files.js';
import { snapshotSource } from '../../src/recommend/sources/source.js';

const fixtures = fileURLToPath(new URL('../fixtures/synthetic-stats/', import.meta.url));
const D = '.bookinfo.svc.cluster.local';

t.test('cluster names, host namespaces and egress hosts', async (t) => {
  t.same(parseOutboundCluster(`outbound|9080|v2|reviews${D}`), { port: 9080, subset: 'v2', host: `reviews${D}` });
  t.equal(parseOutboundCluster('inbound|9080||'), undefined);
  t.equal(parseOutboundCluster('outbound|http||x'), undefined);
  t.equal(parseOutboundCluster('BlackHoleCluster'), undefined);
  t.equal(hostNamespace(`reviews${D}`), 'bookinfo');
  t.equal(hostNamespace('reviews.bookinfo.svc.corp.example', 'corp.example'), 'bookinfo');
  t.equal(hostNamespace('api.stripe.com'), undefined);
  t.equal(egressHost('api.stripe.com'), '*/api.stripe.com');
  t.ok(isImported(['istio-system/*'], 'istiod.istio-system.svc.cluster.local'));
  t.ok(isImported(['./*'], `ratings${D}`, 'cluster.local', 'bookinfo'));
  t.notOk(isImported(['./*'], `ratings${D}`, 'cluster.local', 'shop'));
  t.ok(isImported(['*/*.stripe.com'], 'api.stripe.com'));
  t.notOk(isImported(['bookinfo/ratings.bookinfo.svc.cluster.local'], `reviews${D}`));
});

const evidence = () => snapshotSource(() => readStatsFiles([`${fixtures}bookinfo`], { podsFile: `${fixtures}bookinfo-pods.yaml` })).scope();

t.test('per namespace: the services called in the window, plus istio-system/*', async (t) => {
  const [rec, ...rest] = recommendScopes(await evidence());
  t.equal(rest.length, 0);
  // Increases between scrape @1 and @2 (requests or connections > 0):
  //   productpage → details, reviews v1/v2/v3 subsets; reviews-v2/v3 → ratings; details → api.stripe.com (TCP: connections only).
  //   reviews-v1 shows 17 requests to ratings in both scrapes: called before the window, so not counted.
  t.same(rec?.hosts, [
    '*/api.stripe.com',
    `bookinfo/details${D}`,
    `bookinfo/ratings${D}`,
    `bookinfo/reviews${D}`,
    'istio-system/*',
  ]);
  t.same(rec?.calledClusters, [
    'outbound|443||api.stripe.com',
    `outbound|9080|v1|reviews${D}`,
    `outbound|9080|v2|reviews${D}`,
    `outbound|9080|v3|reviews${D}`,
    `outbound|9080||details${D}`,
    `outbound|9080||ratings${D}`,
  ]);
  // Each proxy: envoy_cluster_manager_active_clusters 26 (19 listed: 18 outbound + xds-grpc).
  // Not imported: productpage.bookinfo (only the gateway calls it), httpbin.sandbox, orders-db/cart/checkout.shop,
  // kube-dns.kube-system = 6 → 26 − 6 = 20.
  t.equal(rec?.clustersBefore, 26);
  t.equal(rec?.clustersAfter, 20);
  t.equal(rec?.removedClusters, 6);
  t.equal(rec?.proxies, 7);
  t.same(toSidecarManifest(rec as NonNullable<typeof rec>), {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name: 'default', namespace: 'bookinfo' },
    spec: { egress: [{ hosts: rec?.hosts }] },
  });
});

t.test('per workload: a workloadSelector each, from app (+ version when app is shared)', async (t) => {
  const recs = recommendScopes(await evidence(), { ...DEFAULT_SCOPE_OPTIONS, per: 'workload' });
  const byName = new Map(recs.map((r) => [r.name, r]));
  t.same([...byName.keys()], ['details-v1', 'productpage-v1', 'ratings-v1', 'reviews-v1', 'reviews-v2', 'reviews-v3']);
  const productpage = byName.get('productpage-v1');
  t.same(productpage?.workloadSelector, { app: 'productpage' });
  t.same(productpage?.hosts, [`bookinfo/details${D}`, `bookinfo/reviews${D}`, 'istio-system/*']);
  // Removed: productpage, ratings, httpbin, orders-db, cart, checkout, kube-dns, stripe = 8 → 26 − 8 = 18.
  t.equal(productpage?.clustersAfter, 18);
  const reviewsV1 = byName.get('reviews-v1');
  t.same(reviewsV1?.workloadSelector, { app: 'reviews', version: 'v1' });
  t.same(reviewsV1?.hosts, ['istio-system/*'], 'called nothing in the window');
  // Keeps only the 5 istio-system clusters of the 18 outbound: 26 − 13 = 13.
  t.equal(reviewsV1?.clustersAfter, 13);
  t.equal(reviewsV1?.proxies, 2);
  t.same(toSidecarManifest(reviewsV1 as NonNullable<typeof reviewsV1>).spec.workloadSelector, { labels: { app: 'reviews', version: 'v1' } });
});

t.test('workloads the labels cannot single out share a namespace Sidecar, recorded for the command to refuse; gateways get none', async (t) => {
  const pods: PodFacts[] = [
    { namespace: 'ns', pod: 'a-0', workload: 'a', workloadKind: 'StatefulSet' as const, labels: { app: 'x' }, oomKills: 0, gateway: false },
    { namespace: 'ns', pod: 'b-0', workload: 'b', workloadKind: 'StatefulSet' as const, labels: { app: 'x' }, oomKills: 0, gateway: false },
    { namespace: 'ns', pod: 'gw-0', workload: 'gw', workloadKind: 'StatefulSet' as const, labels: {}, oomKills: 0, gateway: true },
  ];
  const proxies = pods.map((p) => ({
    namespace: p.namespace,
    pod: p.pod,
    clusters: [{ cluster: 'outbound|80||web.ns.svc.cluster.local', requests: 1, connections: 1, counted: true }],
  }));
  const recs = recommendScopes({ pods, proxies }, { ...DEFAULT_SCOPE_OPTIONS, per: 'workload', alwaysInclude: ['./*', 'istio-system/*'] });
  t.equal(recs.length, 1);
  t.equal(recs[0]?.name, 'default');
  t.equal(recs[0]?.proxies, 2);
  t.same(recs[0]?.unselectable, ['ns/a', 'ns/b']);
  t.same(recs[0]?.hosts, ['./*', 'istio-system/*'], 'own-namespace hosts are covered by ./*');
});

t.test('proxies whose stats do not count outbound traffic are marked unseen, not scoped to nothing', async (t) => {
  // As in Istio 1.5's published scrape (DataDog integrations-core istio/tests/fixtures/1.5/istio-proxy.txt): outbound
  // clusters named by a TLS stat, traffic counted only for xds-grpc.
  const defaults = [
    'envoy_cluster_client_ssl_socket_factory_ssl_context_update_by_sds{cluster_name="outbound|9080||reviews.default.svc.cluster.local"} 4',
    'envoy_cluster_upstream_rq_total{cluster_name="xds-grpc"} 2',
    'envoy_cluster_upstream_cx_total{cluster_name="xds-grpc"} 2',
  ].join('\n');
  const included = ['envoy_cluster_upstream_rq_total{cluster_name="outbound|9080||reviews.default.svc.cluster.local"} 0', defaults].join('\n');
  const load = (text: string) =>
    snapshotSource(async () => ({ snapshots: snapshotsFromText('default/productpage-v1-5f7d8c9b6d-x2kqp.txt', text), pods: [] })).scope();
  const [blind] = recommendScopes(await load(defaults));
  t.same(blind?.unseen, ['default/productpage-v1-5f7d8c9b6d-x2kqp'], 'zero requests on an uncounted cluster proves nothing');
  const [counted] = recommendScopes(await load(included));
  t.same(counted?.unseen, [], 'with cluster.outbound counted, zero means not called');
  t.same(counted?.hosts, ['istio-system/*']);
});

t.test('the real Istio 1.11.4 scrape (default stats) shows no destinations', async (t) => {
  const real = fileURLToPath(new URL('../fixtures/istio-1.11-merged/', import.meta.url));
  const [rec] = recommendScopes(await snapshotSource(() => readStatsFiles([real])).scope());
  t.same(rec?.unseen, ['default/reviews-v1']);
  // It holds 28 clusters, yet only xds-grpc is counted.
  t.equal(rec?.clustersBefore, 28);
});

t.test('gateways known by name in the root namespace get no Sidecar; anything else there is a mesh-wide default', async (t) => {
  const calls = [{ cluster: 'outbound|9080||productpage.bookinfo.svc.cluster.local', requests: 5, connections: 1, counted: true }];
  const proxy = (namespace: string, pod: string) => ({ namespace, pod, clusters: calls });
  // No pod list: the names alone (podFactsFromName) say what each proxy is.
  const evidence = {
    pods: [],
    proxies: [
      proxy('istio-system', 'istio-ingressgateway-7c6b5d9f8c-r9nwm'),
      proxy('shop', 'api-gateway-5d8f9c7b6b-p2qvd'),
    ],
  };
  const recs = recommendScopes(evidence, DEFAULT_SCOPE_OPTIONS);
  t.same(recs.map((r) => `${r.namespace}/${r.name}`), ['shop/default'], 'an app called api-gateway elsewhere is still scoped');
  t.same(gatewaysSkipped(evidence, DEFAULT_SCOPE_OPTIONS), ['istio-system/istio-ingressgateway']);
  t.notOk(recs[0]?.meshWide);
  const withKiali = { pods: [], proxies: [...evidence.proxies, proxy('istio-system', 'kiali-6d9f7c8b5b-tq4zx')] };
  const root = recommendScopes(withKiali, DEFAULT_SCOPE_OPTIONS).find((r) => r.namespace === 'istio-system');
  t.equal(root?.proxies, 1, 'only kiali: the gateway is left out');
  t.ok(root?.meshWide, 'selector-less in the root namespace');
  const other = recommendScopes(withKiali, { ...DEFAULT_SCOPE_OPTIONS, rootNamespace: 'mesh-root' }).find((r) => r.namespace === 'istio-system');
  t.notOk(other?.meshWide, 'the root namespace is configurable');
});

t.test('request metrics: a proxy without outbound cluster stats is scoped from istio_requests_total source → destination pairs', async (t) => {
  // The real Istio 1.11 scrape (default stats): reviews-v1's proxy reports productpage-v1 → reviews as reporter="destination".
  const real = fileURLToPath(new URL('../fixtures/istio-1.11-merged/', import.meta.url));
  const fromReal = await snapshotSource(() => readStatsFiles([real])).scope();
  t.same(
    fromReal.requests?.map((e) => [e.sourceWorkload, e.destinationService, e.metric]),
    [['productpage-v1', 'reviews.default.svc.cluster.local', 'istio_requests_total']],
  );
  const blind = (pod: string) => ({ namespace: 'default', pod, clusters: [{ cluster: 'xds-grpc', requests: 1, connections: 1, counted: true }], activeClusters: 28 });
  const productpage = 'productpage-v1-6b746f74dc-9stvs';
  const pods: PodFacts[] = [{ namespace: 'default', pod: productpage, workload: 'productpage-v1', workloadKind: 'Deployment', labels: { app: 'productpage' }, oomKills: 0, gateway: false }];
  const inventory = { pods, completeIn: ['default'], from: 'test' };
  const [rec] = recommendScopes({ pods, inventory, proxies: [blind(productpage)], requests: fromReal.requests ?? [] });
  t.same(rec?.hosts, ['default/reviews.default.svc.cluster.local', 'istio-system/*']);
  t.same(rec?.fromRequestMetrics, ['default/productpage-v1'], 'said where the hosts came from');
  t.same(rec?.unseen, []);
  // reviews-v1 itself calls nothing the metrics saw: neither source shows its destinations, so it stays unseen.
  const [reviews] = recommendScopes({ ...fromReal, requests: fromReal.requests ?? [] });
  t.same(reviews?.unseen, ['default/reviews-v1']);
  t.same(reviews?.fromRequestMetrics, []);
});

t.test('request metrics: TCP pairs count, destinations that name no host are kept aside', async (t) => {
  const pods: PodFacts[] = [{ namespace: 'shop', pod: 'cart-0', workload: 'cart', workloadKind: 'StatefulSet', labels: { app: 'cart' }, oomKills: 0, gateway: false }];
  const edge = (destinationService: string, metric: 'istio_requests_total' | 'istio_tcp_connections_opened_total', count = 3) => ({ sourceNamespace: 'shop', sourceWorkload: 'cart', destinationService, metric, count });
  const [rec] = recommendScopes({
    pods,
    inventory: { pods, completeIn: ['*'], from: 'test' },
    proxies: [{ namespace: 'shop', pod: 'cart-0', clusters: [] }],
    requests: [
      edge('redis.shop.svc.cluster.local', 'istio_tcp_connections_opened_total'),
      edge('api.stripe.com:443', 'istio_requests_total'),
      edge('10.0.0.7', 'istio_tcp_connections_opened_total'),
      edge('unknown', 'istio_requests_total'),
      edge('orders.shop.svc.cluster.local', 'istio_requests_total', 0),
    ],
  });
  t.same(rec?.hosts, ['*/api.stripe.com', 'shop/redis.shop.svc.cluster.local', 'istio-system/*'], 'zero counts are not calls');
  t.same(rec?.unnamedDestinations, ['shop/cart → 10.0.0.7 (istio_tcp_connections_opened_total)', 'shop/cart → unknown (istio_requests_total)']);
});

t.test('isImported is the catalog matcher (egressSelector): exclusions, case, unknown ServiceEntry owners', async (t) => {
  t.notOk(isImported(['*/*', '~shop/cart.shop.svc.cluster.local'], 'cart.shop.svc.cluster.local'), 'an exclusion removes what */* imports');
  t.ok(isImported(['*/*', '~shop/cart.shop.svc.cluster.local'], 'orders.shop.svc.cluster.local'));
  t.ok(isImported(['shop/Cart.Shop.svc.cluster.local.'], 'cart.shop.svc.cluster.local'), 'names compare case-insensitively, without the trailing dot');
  t.notOk(isImported(['~/*'], 'cart.shop.svc.cluster.local'), '~ names no namespace');
  t.notOk(isImported(['egress/api.stripe.com'], 'api.stripe.com'), 'a ServiceEntry host seen in traffic has no known owner: only */… keeps it for sure');
});
