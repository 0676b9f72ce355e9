import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { requestEdgesFromSnapshots } from '../../src/recommend/envoy-snapshot.js';
import {
  configDumpNode,
  looksLikeClustersText,
  looksLikeStatsText,
  memorySamples,
  parseClustersJson,
  parseClustersText,
  parseConfigDump,
  parseStatsText,
  prometheusApiSamples,
} from '../../src/recommend/envoy-admin.js';

const dir = fileURLToPath(new URL('../fixtures/envoy-admin/', import.meta.url));
const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(`${dir}${path}`, 'utf8')) as Record<string, unknown>;

t.test('a real config dump (istioctl test data): the clusters held and the pod from the node id', async (t) => {
  const dump = json('istioctl-configdump/config_dump.json');
  t.same(parseConfigDump(dump), { counted: false, clusters: [{ name: 'xds-grpc' }, { name: 'outbound|15004||istio-policy.istio-system.svc.cluster.local' }] });
  t.same(configDumpNode(dump), { namespace: 'default', pod: 'details-v1-9cb87c69-t2fdz', type: 'sidecar', labels: {} });
  // Endpoints come from the EndpointsConfigDump entry (?include_eds), snake_case as Envoy prints it.
  const withEds = {
    configs: [
      { '@type': 'type.googleapis.com/envoy.admin.v3.ClustersConfigDump', dynamic_active_clusters: [{ cluster: { name: 'outbound|80||a.ns.svc.cluster.local' } }] },
      {
        '@type': 'type.googleapis.com/envoy.admin.v3.EndpointsConfigDump',
        dynamic_endpoint_configs: [{ endpoint_config: { cluster_name: 'outbound|80||a.ns.svc.cluster.local', endpoints: [{ lb_endpoints: [{}, {}] }, { lb_endpoints: [{}] }] } }],
      },
      { '@type': 'type.googleapis.com/envoy.admin.v3.BootstrapConfigDump', bootstrap: { node: { id: 'router~10.0.0.1~istio-ingressgateway-5d9f7c8b5b-tq4zx.istio-system~istio-system.svc.cluster.local', metadata: { LABELS: { app: 'istio-ingressgateway' } } } } },
    ],
  };
  t.same(parseConfigDump(withEds).clusters, [{ name: 'outbound|80||a.ns.svc.cluster.local', endpoints: 3 }]);
  t.same(configDumpNode(withEds), { namespace: 'istio-system', pod: 'istio-ingressgateway-5d9f7c8b5b-tq4zx', type: 'router', labels: { app: 'istio-ingressgateway' } });
});

t.test('real /clusters JSON (istioctl test data): per-cluster host counters, zero left out as protobuf JSON does', async (t) => {
  const listing = parseClustersJson(json('istioctl-clusters/default/proxy@clusters.json'));
  t.equal(listing.counted, true);
  t.same(listing.clusters, [
    { name: 'outbound|443||istio-sidecar-injector.istio-system.svc.cluster.local', requests: 0, connections: 0, endpoints: 1 },
    { name: 'outbound|9080||reviews.default.svc.cluster.local', requests: 0, connections: 0, endpoints: 3 },
    { name: 'inbound_9092', requests: 300076, connections: 72, endpoints: 1 },
  ]);
});

t.test('real /clusters text (istio.io): host rows counted per cluster; IPv6 hosts keep their colons', async (t) => {
  const text = readFileSync(`${dir}istio-io-clusters/default/ratings-v1@clusters.txt`, 'utf8');
  t.ok(looksLikeClustersText(text));
  t.same(parseClustersText(text).clusters, [{ name: 'outbound|443||*.wikipedia.org', requests: 3, connections: 3, endpoints: 1 }]);
  const v6 = 'outbound|80||a.ns.svc.cluster.local::default_priority::max_connections::1024\noutbound|80||a.ns.svc.cluster.local::[fd00::1]:80::rq_total::5\nBlackHoleCluster::added_via_api::false\n';
  t.same(parseClustersText(v6).clusters, [
    { name: 'outbound|80||a.ns.svc.cluster.local', requests: 5, connections: 0, endpoints: 1 },
    { name: 'BlackHoleCluster', requests: 0, connections: 0, endpoints: 0 },
  ]);
  t.notOk(looksLikeClustersText('envoy_server_memory_allocated{} 1\n'));
});

t.test('plain /stats: Istio cluster names with dots, server memory, Istio tagged metrics; histograms skipped', async (t) => {
  const text = [
    'cluster.outbound|9080||reviews.default.svc.cluster.local.upstream_rq_total: 12',
    'cluster.outbound|9080||reviews.default.svc.cluster.local.circuit_breakers.default.cx_open: 0',
    'cluster.outbound|443||api.stripe.com.upstream_cx_total: 2',
    'cluster.xds-grpc.upstream_rq_total: 1',
    'cluster.xds-grpc.upstream_rq_time: P0(nan,1) P25(nan,2)',
    'cluster_manager.active_clusters: 28',
    'server.memory_physical_size: 17301504',
    'reporter=.=source;.;source_workload=.=productpage-v1;.;source_workload_namespace=.=default;.;destination_service=.=reviews.default.svc.cluster.local;.;istio_requests_total: 7',
  ].join('\n');
  t.ok(looksLikeStatsText(text));
  t.same(parseStatsText(text), [
    { name: 'envoy_cluster_upstream_rq_total', labels: { cluster_name: 'outbound|9080||reviews.default.svc.cluster.local' }, value: 12 },
    { name: 'envoy_cluster_circuit_breakers_default_cx_open', labels: { cluster_name: 'outbound|9080||reviews.default.svc.cluster.local' }, value: 0 },
    { name: 'envoy_cluster_upstream_cx_total', labels: { cluster_name: 'outbound|443||api.stripe.com' }, value: 2 },
    { name: 'envoy_cluster_upstream_rq_total', labels: { cluster_name: 'xds-grpc' }, value: 1 },
    { name: 'envoy_cluster_manager_active_clusters', labels: {}, value: 28 },
    { name: 'envoy_server_memory_physical_size', labels: {}, value: 17301504 },
    {
      name: 'istio_requests_total',
      labels: { reporter: 'source', source_workload: 'productpage-v1', source_workload_namespace: 'default', destination_service: 'reviews.default.svc.cluster.local' },
      value: 7,
    },
  ]);
});

t.test("plain /stats of Istio's native stats filter: istiocustom.<metric>.<tag>.<value>… read as the labelled metric", async (t) => {
  // The stat name is the one otterize/network-mapper quotes from a sidecar's /stats?format=json
  // (src/exp/istio-watcher/pkg/watcher/watcher.go, commit 04e58993ff0fac5e71045c1e88ef769eeff96e88),
  // with the line breaks and tabs its Go comment added removed; the value 1 is ours. Values hold dots
  // (security.ubuntu.com, spiffe://…), are empty (source_version, grpc_response_status), and a tag
  // the Telemetry API added (request_path) ends the list.
  const name =
    'istiocustom.istio_requests_total.reporter.source.source_workload.sleep.source_canonical_service.sleep' +
    '.source_canonical_revision.latest.source_workload_namespace.default.source_principal.unknown.source_app' +
    '.sleep.source_version.source_cluster.Kubernetes.destination_workload.unknown.destination_workload_namespace' +
    '.unknown.destination_principal.unknown.destination_app.unknown.destination_version.unknown.destination_service' +
    '.security.ubuntu.com.destination_canonical_service.unknown.destination_canonical_revision.latest' +
    '.destination_service_name.PassthroughCluster.destination_service_namespace.unknown.destination_cluster' +
    '.unknown.request_protocol.http.response_code.200.grpc_response_status.response_flags.-' +
    '.connection_security_policy.unknown.request_path./ubuntu/dists/jammy-security/InRelease';
  const text = `cluster_manager.active_clusters: 21\n${name}: 1\nistiocustom.istio_build.component.proxy.tag.1.17.8: 1\nistiocustom.istio_request_duration_milliseconds.reporter.source: P0(nan,1) P25(nan,2)\n`;
  t.ok(looksLikeStatsText(text));
  const samples = parseStatsText(text);
  t.same(samples.map((s) => s.name), ['envoy_cluster_manager_active_clusters', 'istio_requests_total', 'istio_build'], 'histograms skipped');
  t.same(samples[1]?.labels, {
    reporter: 'source',
    source_workload: 'sleep',
    source_canonical_service: 'sleep',
    source_canonical_revision: 'latest',
    source_workload_namespace: 'default',
    source_principal: 'unknown',
    source_app: 'sleep',
    source_version: '',
    source_cluster: 'Kubernetes',
    destination_workload: 'unknown',
    destination_workload_namespace: 'unknown',
    destination_principal: 'unknown',
    destination_app: 'unknown',
    destination_version: 'unknown',
    destination_service: 'security.ubuntu.com',
    destination_canonical_service: 'unknown',
    destination_canonical_revision: 'latest',
    destination_service_name: 'PassthroughCluster',
    destination_service_namespace: 'unknown',
    destination_cluster: 'unknown',
    request_protocol: 'http',
    response_code: '200',
    grpc_response_status: '',
    response_flags: '-',
    connection_security_policy: 'unknown',
    request_path: '/ubuntu/dists/jammy-security/InRelease',
  });
  t.same(samples[2], { name: 'istio_build', labels: { component: 'proxy', tag: '1.17.8' }, value: 1 });
  // What scope derives from it when the outbound cluster stats are off: sleep called security.ubuntu.com.
  t.same(requestEdgesFromSnapshots([{ namespace: 'default', pod: 'sleep-1', samples }]), [
    { sourceNamespace: 'default', sourceWorkload: 'sleep', destinationService: 'security.ubuntu.com', destinationNamespace: 'unknown', metric: 'istio_requests_total', count: 1 },
  ]);
  // The principal's dots and the tag names it does not contain: spiffe://cluster.local/ns/… stays whole.
  const principal = parseStatsText('istiocustom.istio_requests_total.reporter.destination.source_principal.spiffe://cluster.local/ns/istioinaction/sa/webapp.destination_service.catalog.istioinaction.svc.cluster.local: 2\n');
  t.same(principal[0]?.labels, { reporter: 'destination', source_principal: 'spiffe://cluster.local/ns/istioinaction/sa/webapp', destination_service: 'catalog.istioinaction.svc.cluster.local' });
  t.same(parseStatsText('istiocustom.not_istio.reporter.source: 1\n'), [], 'an istiocustom stat that is no Istio metric is skipped');
});

t.test('/memory and Prometheus API results', async (t) => {
  t.same(memorySamples({ allocated: '7717368', heap_size: '14680064', pageheap_unmapped: '0', total_physical_bytes: '17754942' }), [
    { name: 'envoy_server_memory_allocated', labels: {}, value: 7717368 },
    { name: 'envoy_server_memory_heap_size', labels: {}, value: 14680064 },
    { name: 'envoy_server_memory_physical_size', labels: {}, value: 17754942 },
  ]);
  const matrix = { status: 'success', data: { resultType: 'matrix', result: [{ metric: { __name__: 'up', pod: 'p' }, values: [[1, '1'], [2, '0']] }, { metric: { pod: 'p' }, values: [[1, '3']] }] } };
  t.same(prometheusApiSamples(matrix), {
    samples: [
      { name: 'up', labels: { pod: 'p' }, value: 1, timestamp: 1 },
      { name: 'up', labels: { pod: 'p' }, value: 0, timestamp: 2 },
    ],
    unnamed: 1,
  });
});
