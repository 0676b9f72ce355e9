import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadFileClusterView } from '../../src/cluster/file-cluster-view.js';
import { DEFAULT_CONFIG } from '../../src/config/defaults.js';
import { DEFAULT_MEMORY_MODEL } from '../../src/policy/memory-model.js';
import { FIXED_CLUSTERS } from '../../src/policy/service-imports.js';
import { parseAccessLog } from '../../src/recommend/access-log.js';
import type { ProxyClusters, ScopeEvidence } from '../../src/recommend/observations.js';
import { DEFAULT_SCOPE_OPTIONS, recommendScopes, type ScopeRecommendation } from '../../src/recommend/recommend-scope.js';
import { readStatsFiles } from '../../src/recommend/sources/files.js';
import { snapshotSource } from '../../src/recommend/sources/source.js';
import { confidenceOf, describeMemoryChange, describeSeconds, memoryFromCatalog, memoryFromClusters, verifyScope } from '../../src/recommend/verify-scope.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const ALLOW = { policy: 'ALLOW_ANY' as const, clusterDomain: 'cluster.local' };

/** A proposal for the `web` workload of `shop` with these hosts: only the fields verification reads matter. */
function proposal(hosts: readonly string[], extra: Partial<ScopeRecommendation> = {}): ScopeRecommendation {
  return {
    namespace: 'shop',
    name: 'default',
    hosts,
    proxies: 1,
    calledClusters: [],
    clustersBefore: 40,
    clustersAfter: 12,
    removedClusters: 28,
    unseen: [],
    meshWide: false,
    unselectable: [],
    unobserved: [],
    inventoryMissing: false,
    fromRequestMetrics: [],
    unnamedDestinations: [],
    members: ['shop/web-0'],
    memberWorkloads: ['web'],
    ...extra,
  };
}

const use = (cluster: string, requests: number, connections = 0, sinceStart?: number) => ({ cluster, requests, connections, counted: true, ...(sinceStart === undefined ? {} : { sinceStart }) });
const web = (clusters: ProxyClusters['clusters'], extra: Partial<ProxyClusters> = {}): ProxyClusters => ({ namespace: 'shop', pod: 'web-0', clusters, ...extra });

t.test('finds each cut: a service in another namespace, a ServiceEntry host, a destination only the access log shows', async (t) => {
  const evidence: ScopeEvidence = {
    pods: [],
    proxies: [
      web([
        use('outbound|8080||cart.shop.svc.cluster.local', 40),
        use('outbound|8000||httpbin.sandbox.svc.cluster.local', 5),
        use('outbound|443||api.stripe.com', 0, 2),
        use('PassthroughCluster', 3),
        use('outbound|80||quiet.shop.svc.cluster.local', 0),
      ]),
      // Another namespace's proxy: not one this Sidecar applies to, its traffic is not counted.
      { namespace: 'other', pod: 'x-0', clusters: [use('outbound|80||secret.vault.svc.cluster.local', 9)] },
    ],
  };
  const log = parseAccessLog(
    [
      '[2026-11-30T08:00:00.000Z] "GET /legacy HTTP/1.1" 200 - via_upstream - "-" 0 10 3 2 "-" "curl" "id-1" "legacy.billing:80" "10.1.2.3:80" outbound|80||legacy.billing.svc.cluster.local 10.0.0.5:4000 10.96.0.20:80 10.0.0.5:3999 - default',
      '[2026-11-30T10:00:00.000Z] "- - -" 0 - - - "-" 812 4096 120 - "-" "-" "-" "-" "140.82.112.3:443" PassthroughCluster 10.0.0.5:51234 140.82.112.3:443 10.0.0.5:51230 api.github.com -',
    ].join('\n'),
    { namespace: 'shop', pod: 'web-0' },
  ).entries;
  const rec = proposal(['./*', 'istio-system/*']);
  const result = verifyScope(rec, { evidence, accessLog: log }, ALLOW);
  t.same(
    result.cuts.map((c) => [c.host, c.ports, c.count, c.evidence, c.wouldHit, c.keepWith]),
    [
      ['api.stripe.com', [443], 2, ['cluster stats'], 'PassthroughCluster', '*/api.stripe.com'],
      ['httpbin.sandbox.svc.cluster.local', [8000], 5, ['cluster stats'], 'PassthroughCluster', 'sandbox/httpbin.sandbox.svc.cluster.local'],
      ['legacy.billing.svc.cluster.local', [80], 1, ['access log'], 'PassthroughCluster', 'billing/legacy.billing.svc.cluster.local'],
    ],
  );
  t.same(result.kept.map((k) => k.host), ['cart.shop.svc.cluster.local'], 'zero traffic is no use; ./* keeps its own namespace');
  t.same(
    result.outsideRegistry.map((o) => [o.seenAs, o.destination, o.count, o.evidence]),
    [
      ['PassthroughCluster', undefined, 3, ['cluster stats']],
      ['PassthroughCluster', 'api.github.com', 1, ['access log']],
    ],
    'traffic already on PassthroughCluster: outside the registry, named by SNI where the log has it',
  );
  t.equal(result.observedCalls, 40 + 5 + 2 + 3 + 1 + 1);
  const strict = verifyScope(rec, { evidence, accessLog: log }, { ...ALLOW, policy: 'REGISTRY_ONLY' });
  t.same([...new Set(strict.cuts.map((c) => c.wouldHit))], ['BlackHoleCluster']);
  const wide = verifyScope(proposal(['./*', 'sandbox/*', 'billing/legacy.billing.svc.cluster.local', '*/*.stripe.com']), { evidence, accessLog: log }, ALLOW);
  t.same(wide.cuts, [], 'passes when every used destination is imported');
  const excluded = verifyScope(proposal(['*/*', '~shop/cart.shop.svc.cluster.local']), { evidence }, ALLOW);
  t.same(excluded.cuts.map((c) => c.host), ['cart.shop.svc.cluster.local'], 'an exclusion cuts, as in Istio');
});

t.test('request metrics of the Sidecar\'s workloads count; destinations naming no host are outside the registry', async (t) => {
  const edge = (sourceWorkload: string, destinationService: string, count: number) => ({ sourceNamespace: 'shop', sourceWorkload, destinationService, metric: 'istio_requests_total' as const, count });
  const evidence: ScopeEvidence = {
    pods: [],
    proxies: [web([])],
    requests: [
      edge('web', 'orders.billing.svc.cluster.local:8080', 7),
      edge('web', '10.0.0.9', 4),
      edge('batch', 'ledger.billing.svc.cluster.local', 9),
      edge('web', 'gone.shop.svc.cluster.local', 0),
      // The host-header fallback: Istio did not know the destination, destination_service is the Host header.
      { ...edge('web', 'www.example.com', 6), destinationNamespace: 'unknown' },
    ],
  };
  const result = verifyScope(proposal(['./*']), { evidence }, ALLOW);
  t.same(result.cuts.map((c) => [c.host, c.callers, c.evidence]), [['orders.billing.svc.cluster.local', ['shop/web'], ['request metrics']]], "batch is not this Sidecar's workload");
  t.same(
    result.outsideRegistry.map((o) => [o.seenAs, o.destination]),
    [
      ['istio_requests_total destination_service_namespace="unknown"', 'www.example.com'],
      ['istio_requests_total destination_service="10.0.0.9"', undefined],
    ],
    'passthrough traffic named by its Host header is not a cut: no Sidecar routes it today',
  );
});

t.test('traffic before the window: the synthetic Bookinfo scrapes, per workload', async (t) => {
  const evidence = await snapshotSource(() => readStatsFiles([`${fixtures}synthetic-stats/bookinfo`], { podsFile: `${fixtures}synthetic-stats/bookinfo-pods.yaml` })).scope();
  const recs = recommendScopes(evidence, { ...DEFAULT_SCOPE_OPTIONS, per: 'workload' });
  const reviewsV1 = recs.find((r) => r.name === 'reviews-v1') as ScopeRecommendation;
  t.same(reviewsV1.hosts, ['istio-system/*'], 'no call in the window (recommend-scope.test.ts)');
  const result = verifyScope(reviewsV1, { evidence }, ALLOW);
  // One reviews-v1 proxy's counters show 17 requests to ratings since it started, none between scrape @1 and @2.
  t.same(result.cuts.map((c) => [c.host, c.evidence, c.callers]), [['ratings.bookinfo.svc.cluster.local', ['cluster stats before the window'], ['bookinfo/reviews-v1-7d4b9c8f6d-h4k2n']]]);
  t.match(result.window, { seconds: 86_400, from: 'counters since the proxies started (shortest uptime 1d)' });
  const namespaceWide = recommendScopes(evidence)[0] as ScopeRecommendation;
  t.same(verifyScope(namespaceWide, { evidence }, ALLOW).cuts, [], 'the namespace Sidecar keeps ratings (reviews-v2 calls it)');
});

t.test('window and confidence', async (t) => {
  t.equal(describeSeconds(273_600), '3d 4h');
  t.equal(describeSeconds(7_500), '2h 5m');
  t.same(confidenceOf(7 * 86_400, 1_000), { confidence: 'high', reason: '7d and 1,000 calls' });
  t.same(confidenceOf(7 * 86_400, 999), { confidence: 'medium', reason: '7d and 999 calls (high needs 1,000 calls)' }, 'a week of little traffic');
  t.same(confidenceOf(86_400, 5_000), { confidence: 'medium', reason: '1d and 5,000 calls (high needs 7d)' });
  t.equal(confidenceOf(86_400, 100).confidence, 'medium');
  t.same(confidenceOf(3_600, 50), { confidence: 'low', reason: '1h is under 1d and 50 calls is under 100' });
  t.same(confidenceOf(undefined, 1_000_000), { confidence: 'low', reason: 'window unknown (1,000,000 calls)' });
  const evidence: ScopeEvidence = { pods: [], proxies: [web([use('outbound|8080||cart.shop.svc.cluster.local', 5)], { uptimeSeconds: 7_200 })] };
  const rec = proposal(['./*']);
  t.match(verifyScope(rec, { evidence, sourceWindow: { seconds: 14 * 86_400, from: '--window 14d (Prometheus range)' } }, ALLOW).window, {
    seconds: 14 * 86_400,
    from: '--window 14d (Prometheus range)',
    spans: ['--window 14d (Prometheus range)', 'counters since the proxies started (shortest uptime 2h)'],
  });
  t.match(verifyScope(rec, { evidence }, ALLOW).window, { seconds: 7_200 }, 'a single scrape reaches back to the uptime');
  const logs = parseAccessLog(
    ['[2026-11-28T08:00:00.000Z]', '[2026-11-30T08:00:00.000Z]']
      .map((time) => `${time} "GET / HTTP/1.1" 200 - via_upstream - "-" 0 1 1 1 "-" "-" "-" "cart:8080" "10.1.1.1:8080" outbound|8080||cart.shop.svc.cluster.local - - - - default`)
      .join('\n'),
    { namespace: 'shop', pod: 'web-0' },
  ).entries;
  t.match(verifyScope(rec, { evidence, accessLog: logs }, ALLOW).window, { seconds: 2 * 86_400, from: 'access log 2026-11-28T08:00:00.000Z to 2026-11-30T08:00:00.000Z' });
  const many = Array.from({ length: 300_000 }, (_, i) => ({ namespace: 'shop', pod: 'web-0', timeMs: i * 1000, upstreamCluster: 'outbound|8080||cart.shop.svc.cluster.local' }));
  t.match(verifyScope(rec, { evidence, accessLog: many }, ALLOW), { window: { seconds: 299_999 }, observedCalls: 300_005 }, 'a long log does not overflow the stack');
  const noUptime = verifyScope(rec, { evidence: { pods: [], proxies: [web([use('outbound|8080||cart.shop.svc.cluster.local', 5)])] } }, ALLOW);
  t.match(noUptime, { window: { from: /^a single scrape .*no server\.uptime/ }, confidence: 'low' });
  t.notOk('seconds' in noUptime.window);
});

t.test('predicted memory before/after: from the observed cluster counts, or from the catalog', async (t) => {
  const rec = proposal(['./*', 'istio-system/*']);
  const fromClusters = memoryFromClusters(rec, DEFAULT_MEMORY_MODEL);
  t.same(fromClusters, {
    before: DEFAULT_MEMORY_MODEL.baseBytes + 40 * DEFAULT_MEMORY_MODEL.perClusterBytes,
    after: DEFAULT_MEMORY_MODEL.baseBytes + 12 * DEFAULT_MEMORY_MODEL.perClusterBytes,
    basis: 'observed clusters',
    detail: '40 → 12 clusters held (endpoints not in the stats, not counted)',
  });
  t.equal(describeMemoryChange({ before: 38_840_736, after: 38_588_736 }), '37.0 MiB → 36.8 MiB (-0.2 MiB)');
  const dir = t.testdir();
  await mkdir(join(dir, 'state'));
  const service = (namespace: string, name: string, ports: number) =>
    `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: ${namespace}}\nspec:\n  ports:\n${Array.from({ length: ports }, (_, i) => `    - {port: ${8080 + i}}`).join('\n')}\n`;
  await writeFile(
    join(dir, 'state', 'services.yaml'),
    [service('shop', 'cart', 1), service('shop', 'web', 2), service('payments', 'ledger', 3), service('istio-system', 'istiod', 4)].join('---\n') +
      '---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: stripe, namespace: shop}\nspec: {hosts: [api.stripe.com], ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}\n',
  );
  const view = await loadFileClusterView([join(dir, 'state')]);
  const change = memoryFromCatalog(rec, view, {}, DEFAULT_CONFIG);
  // No Sidecar today: every service (1 + 2 + 3 + 4 ports) and the ServiceEntry (1), plus Istio's fixed clusters;
  // the proposal keeps shop's own (cart 1, web 2, stripe 1) and istio-system's (4). No EndpointSlices: the DNS
  // ServiceEntry's host is its one endpoint, kept in both.
  const cost = (clusters: number) => DEFAULT_MEMORY_MODEL.baseBytes + (FIXED_CLUSTERS.length + clusters) * DEFAULT_MEMORY_MODEL.perClusterBytes + DEFAULT_MEMORY_MODEL.perEndpointBytes;
  t.match(change, { before: cost(11), after: cost(8), basis: 'catalog', detail: /^no Sidecar today: imports 5 services \/ 18 clusters .* → imports 4 services \/ 15 clusters/ });
  await view.close();
});

t.test('real fixtures: what verification says about them', async (t) => {
  // The istio.io blog's ratings pod called *.wikipedia.org (a wildcard ServiceEntry) 3 times (envoy-admin/PROVENANCE.md).
  const wiki = await snapshotSource(() => readStatsFiles([`${fixtures}envoy-admin/istio-io-clusters`])).scope();
  const [rec] = recommendScopes(wiki);
  t.same(rec?.hosts, ['*/*.wikipedia.org', 'istio-system/*']);
  t.same(verifyScope(rec as ScopeRecommendation, { evidence: wiki }, ALLOW).cuts, [], 'the recommended Sidecar keeps it');
  // The Sidecar sidecar-guard suggests by default (scope.suggestedEgressHosts) would cut it.
  const suggested = { ...(rec as ScopeRecommendation), hosts: DEFAULT_CONFIG.scope.suggestedEgressHosts };
  const cut = verifyScope(suggested, { evidence: wiki }, ALLOW);
  t.same(cut.cuts.map((c) => [c.host, c.count, c.keepWith]), [['*.wikipedia.org', 6, '*/*.wikipedia.org']], 'rq_total 3 + cx_total 3');
  t.match(cut, { confidence: 'low', window: { from: /^a single scrape/ } }, 'one /clusters listing, no uptime: nothing says how long');

  // The real Istio 1.11 scrape (Datadog): reviews-v1's proxy reports productpage-v1 → reviews as the destination. That is
  // productpage's call, not reviews-v1's: verification of reviews-v1's Sidecar must not take it as one.
  const real = await snapshotSource(() => readStatsFiles([`${fixtures}istio-1.11-merged`])).scope();
  const [reviews] = recommendScopes(real);
  const said = verifyScope(reviews as ScopeRecommendation, { evidence: real }, ALLOW);
  t.same(said.cuts, []);
  t.same(said.kept, [], 'Istio default stats count only xds-grpc: no destination is seen at all');
  t.match(said, { observedCalls: 0, confidence: 'low' });
  t.same(reviews?.unseen, ['default/reviews-v1'], 'which is why recommend refuses to write it before verification');
});
