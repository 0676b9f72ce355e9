import t from 'tap';
import { recommendProfiles } from '../../../src/recommend/recommend-profiles.js';
import { analyseCardinality } from '../../../src/recommend/recommend-cardinality.js';
import { recommendScopes } from '../../../src/recommend/recommend-scope.js';
import { prometheusSource } from '../../../src/recommend/sources/prometheus-api.js';
import { DEFAULT_SIZING } from '../../../src/recommend/size-workloads.js';
import { type FakeSeries, startFakePrometheus } from '../../support/fake-prometheus.js';

const MI = 2 ** 20;
const NOW = new Date('2026-11-20T12:00:00Z');
const END = NOW.getTime() / 1000;
// Window 1h, step 15m: points at end − 3600, −2700, −1800, −900, end.
const points = (mebibytes: number[]): [number, number][] => mebibytes.map((v, i) => [END - 3600 + i * 900, v * MI]);
const pod = (namespace: string, name: string) => ({ namespace, pod: name });
const CART_A = pod('shop', 'cart-7c6b5d9f8c-r9nwm');
const CART_B = pod('shop', 'cart-7c6b5d9f8c-b4hxz');
const CHECKOUT = pod('shop', 'checkout-5d8f9c7b6b-p2qvd');
const REPORT = pod('batch-reports', 'report-gen-0');

const ksm = (name: string, ref: { namespace: string; pod: string }, value: number, extra: Record<string, string> = {}): FakeSeries => ({
  metric: { __name__: name, ...ref, ...extra },
  points: [[END - 60, value]],
});

const series: FakeSeries[] = [
  { metric: { __name__: 'container_memory_working_set_bytes', container: 'istio-proxy', id: '/kubepods/a', ...CART_A }, points: points([40, 42, 44, 46, 48]) },
  { metric: { __name__: 'container_memory_working_set_bytes', container: 'istio-proxy', id: '/kubepods/b', ...CART_B }, points: points([41, 43, 45, 47, 100]) },
  { metric: { __name__: 'container_memory_working_set_bytes', container: 'cart', ...CART_A }, points: points([400, 400, 400, 400, 400]) },
  { metric: { __name__: 'envoy_server_memory_physical_size', ...CART_A }, points: points([30, 30, 30, 30, 30]) },
  { metric: { __name__: 'envoy_server_memory_physical_size', ...CHECKOUT }, points: points([60, 62, 64, 66, 70]) },
  { metric: { __name__: 'envoy_server_memory_allocated', ...CHECKOUT }, points: points([40, 40, 40, 40, 40]) },
  // pilot-agent, scraped by two jobs; the larger value at each instant counts, and a point off the step grid has no Envoy partner.
  { metric: { __name__: 'istio_agent_process_resident_memory_bytes', job: 'a', ...CHECKOUT }, points: points([40, 40, 40, 40, 40]) },
  { metric: { __name__: 'istio_agent_process_resident_memory_bytes', job: 'b', ...CHECKOUT }, points: [...points([30, 44, 30, 30]), [END - 450, 900 * MI]] },
  { metric: { __name__: 'container_memory_working_set_bytes', container: 'istio-proxy', ...REPORT }, points: points([150, 180, 200, 210, 220]) },
  ...[CART_A, CART_B, CHECKOUT].flatMap((ref) => [
    ksm('kube_pod_container_resource_requests', ref, 128 * MI, { container: 'istio-proxy', resource: 'memory', unit: 'byte' }),
    ksm('kube_pod_container_resource_limits', ref, 1024 * MI, { container: 'istio-proxy', resource: 'memory', unit: 'byte' }),
  ]),
  ksm('kube_pod_container_resource_requests', REPORT, 128 * MI, { container: 'istio-proxy', resource: 'memory', unit: 'byte' }),
  ksm('kube_pod_container_resource_limits', REPORT, 256 * MI, { container: 'istio-proxy', resource: 'memory', unit: 'byte' }),
  ksm('kube_pod_labels', CART_A, 1, { label_app: 'cart', label_pod_template_hash: '7c6b5d9f8c' }),
  ksm('kube_pod_labels', CART_B, 1, { label_app: 'cart' }),
  ksm('kube_pod_labels', CHECKOUT, 1, { label_app: 'checkout' }),
  ksm('kube_pod_labels', REPORT, 1, { label_app: 'report-gen' }),
];

const canned = {
  'max_over_time(kube_pod_container_status_last_terminated_reason{container="istio-proxy",reason="OOMKilled"}[3600s])': [
    { metric: { ...REPORT, container: 'istio-proxy', reason: 'OOMKilled' }, value: 1 },
  ],
  'increase(envoy_cluster_upstream_rq_total[3600s])': [
    { metric: { ...CART_A, cluster_name: 'outbound|8080||checkout.shop.svc.cluster.local' }, value: 12.5 },
    { metric: { ...CART_A, cluster_name: 'outbound|8000||httpbin.sandbox.svc.cluster.local' }, value: 0 },
    { metric: { ...CART_A, cluster_name: 'outbound|15012||istiod.istio-system.svc.cluster.local' }, value: 0 },
  ],
  'increase(envoy_cluster_upstream_cx_total[3600s])': [
    { metric: { ...CART_A, cluster_name: 'outbound|5432||orders-db.shop.svc.cluster.local' }, value: 2 },
    { metric: { ...CART_A, cluster_name: 'xds-grpc' }, value: 0 },
  ],
  'envoy_cluster_manager_active_clusters': [{ metric: { ...CART_A }, value: 40 }],
  'count by (namespace, pod) (count by (namespace, pod, destination_service) (last_over_time(istio_requests_total[3600s])))': [
    { metric: { ...CHECKOUT }, value: 260 },
    { metric: { ...CART_A }, value: 4 },
  ],
  'group by (namespace, pod, reporter, destination_service) (last_over_time(istio_requests_total{destination_service_namespace="unknown",destination_service!="unknown"}[3600s]))':
    Array.from({ length: 250 }, (_, i) => ({ metric: { ...CHECKOUT, reporter: 'source', destination_service: `h${i}.example.com` }, value: 1 })),
};

t.test('memory over the window from query_range, facts from kube-state-metrics', async (t) => {
  const prom = await startFakePrometheus({ series, canned });
  t.teardown(() => prom.close());
  const source = prometheusSource({ url: prom.url, windowSeconds: 3600, stepSeconds: 900, now: () => NOW });
  const evidence = await source.memory();
  const rec = recommendProfiles(evidence, { ...DEFAULT_SIZING, maxProfiles: 2, limitRatio: 2, cpu: '100m', cpuLimit: '1000m' });
  const byName = new Map(rec.workloads.map((w) => [w.workload, w]));
  // cart, working set of istio-proxy only (the app container's 400Mi is not counted), two pods pooled:
  //   40 41 42 43 44 45 46 47 48 100 → P90 rank ceil(0.9 × 10) = 9 → 48 → × 1.15 = 55.2 → 56Mi; peak 100
  t.same(byName.get('cart')?.signals, ['working_set']);
  t.equal(byName.get('cart')?.p90, 48 * MI);
  t.equal(byName.get('cart')?.peak, 100 * MI);
  t.equal(byName.get('cart')?.recommended, 56 * MI);
  // checkout, no cAdvisor series: agent max(40, 30|44) + physical at the same instants:
  //   40+60 44+62 40+64 40+66 40+70 = 100 106 104 106 110 → rank 5 → 110 → 126.5 → 128Mi (never Envoy's 70 alone)
  t.same(byName.get('checkout')?.signals, ['agent_physical']);
  t.equal(byName.get('checkout')?.samples, 5);
  t.equal(byName.get('checkout')?.peak, 110 * MI);
  t.equal(byName.get('checkout')?.recommended, 128 * MI);
  // report-gen: 220 → 253 → 256Mi, OOMKilled at 256Mi: max(307.2, 356) = 356 → 384Mi
  t.equal(byName.get('report-gen')?.kind, 'StatefulSet');
  t.equal(byName.get('report-gen')?.oomKills, 1);
  t.equal(byName.get('report-gen')?.recommended, 384 * MI);
  // Two levels over 56×2, 128×1, 384×1: {56, 384} wastes 256, {128, 384} wastes 2 × 72 = 144 → {128, 384}.
  // Limits: small max(256, clean(110 × 1.15) = 128) = 256Mi; large max(768, 256) = 768Mi.
  t.same(rec.profiles, {
    small: { cpu: '100m', cpuLimit: '1000m', memory: '128Mi', memoryLimit: '256Mi' },
    large: { cpu: '100m', cpuLimit: '1000m', memory: '384Mi', memoryLimit: '768Mi' },
  });
  t.same(rec.rules, [
    { profile: 'small', match: { namespaces: ['shop'] } },
    { profile: 'large', match: { namespaces: ['batch-reports'] } },
  ]);
  // cart saves (128 − 128) × 2 = 0 of requests and (1024 − 256) × 2 = 1536Mi of limits.
  t.equal(byName.get('cart')?.savedRequest, 0);
  t.equal(byName.get('cart')?.savedLimit, 1536 * MI);
  const ranges = prom.queries.filter((q) => q.path === '/api/v1/query_range');
  t.same(ranges[0]?.params, {
    query: 'container_memory_working_set_bytes{container="istio-proxy"}',
    start: String(END - 3600),
    end: String(END),
    step: '900',
  });
  t.same(source.warnings, []);
});

t.test('a namespace filter reaches every query', async (t) => {
  const prom = await startFakePrometheus({ series, canned });
  t.teardown(() => prom.close());
  const source = prometheusSource({ url: prom.url, windowSeconds: 3600, stepSeconds: 900, now: () => NOW, namespace: 'shop', namespaceLabel: 'namespace' });
  await source.memory();
  t.ok(prom.queries.every((q) => q.query.includes('namespace="shop"')), prom.queries.map((q) => q.query).join('\n'));
});

t.test('scope from increase() over the window; cardinality from count queries', async (t) => {
  const prom = await startFakePrometheus({ series, canned });
  t.teardown(() => prom.close());
  const source = prometheusSource({ url: prom.url, windowSeconds: 3600, stepSeconds: 900, now: () => NOW });
  const [scope] = recommendScopes(await source.scope());
  // Called: checkout (12.5 requests), orders-db (2 connections); httpbin and istiod had none.
  t.same(scope?.hosts, ['shop/checkout.shop.svc.cluster.local', 'shop/orders-db.shop.svc.cluster.local', 'istio-system/*']);
  // Holds max(active 40, listed 5) = 40; only httpbin.sandbox goes → 39.
  t.equal(scope?.clustersBefore, 40);
  t.equal(scope?.clustersAfter, 39);
  const report = analyseCardinality(await source.cardinality(['destination_service']), {
    labels: ['destination_service'],
    threshold: 100,
    fallbackShare: 0.5,
  });
  // checkout: 260 distinct, 250 with namespace "unknown" ≥ 130 → host-header fallback; cart: 4, fine.
  t.same(report.findings.map((f) => [f.workload, f.distinct, f.fallbackValues, f.cause]), [['checkout', 260, 250, 'HOST_HEADER_FALLBACK']]);
  t.same(report.fixes[0]?.telemetry.spec.selector, { matchLabels: { app: 'checkout' } });
});

t.test('Prometheus errors and missing kube-state-metrics', async (t) => {
  const prom = await startFakePrometheus({ series: series.filter((s) => !String(s.metric['__name__']).startsWith('kube_')) });
  t.teardown(() => prom.close());
  const source = prometheusSource({ url: prom.url, windowSeconds: 3600, stepSeconds: 900, now: () => NOW });
  const evidence = await source.memory();
  t.equal(evidence.pods.find((p) => p.pod === REPORT.pod)?.oomKills, 0);
  t.match(source.warnings.join('\n'), /no kube-state-metrics series/);
  const broken = prometheusSource({ url: `${prom.url}/nowhere/`, windowSeconds: 3600, stepSeconds: 900, now: () => NOW });
  await t.rejects(broken.memory(), /not_found/);
});

t.test('a server that cannot be reached is named with the reason, not fetch\'s bare "fetch failed"', async (t) => {
  const refused: typeof fetch = async () => {
    throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:9090') });
  };
  const source = prometheusSource({ url: 'http://127.0.0.1:9090', windowSeconds: 3600, stepSeconds: 900, now: () => NOW, fetch: refused });
  await t.rejects(source.memory(), { message: /^cannot reach Prometheus at http:\/\/127\.0\.0\.1:9090: connect ECONNREFUSED 127\.0\.0\.1:9090; check the URL/ });
});

t.test("a long window raises the query_range step to stay within Prometheus' 11,000 points per series", async (t) => {
  const { rangeStep, MAX_POINTS_PER_SERIES } = await import('../../../src/recommend/sources/prometheus-api.js');
  t.equal(MAX_POINTS_PER_SERIES, 11_000);
  t.equal(rangeStep(7 * 86400, 300), 300, '7d at 5m is 2016 points: kept');
  t.equal(rangeStep(11_000, 1), 1, 'exactly at the limit: kept (Prometheus refuses only above it)');
  t.equal(rangeStep(30 * 86400, 60), 236);
  const prom = await startFakePrometheus({ series });
  t.teardown(() => prom.close());
  const window = 30 * 86400;
  const source = prometheusSource({ url: prom.url, windowSeconds: window, stepSeconds: 60, now: () => NOW });
  await source.memory();
  const ranges = prom.queries.filter((q) => q.path === '/api/v1/query_range');
  t.ok(ranges.length > 0);
  for (const q of ranges) {
    t.equal(q.params['step'], '236', `step sent for ${q.query}`);
    // What Prometheus checks (web/api/v1/api.go): (end − start) / step must not exceed 11,000.
    t.ok((Number(q.params['end']) - Number(q.params['start'])) / Number(q.params['step']) <= 11_000);
  }
  t.match(source.warnings.join('\n'), /--step 60s over --window 2592000s would ask for 43200 points per series, above Prometheus' limit of 11000: querying at step 236s/);
});
