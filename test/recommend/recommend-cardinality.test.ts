import { fileURLToPath } from 'node:url';
import t from 'tap';
import { analyseCardinality, CAUSE_FIXES, classifyLabel, DEFAULT_CARDINALITY_OPTIONS } from '../../src/recommend/recommend-cardinality.js';
import { renderCardinality } from '../../src/recommend/render-recommendations.js';
import { readStatsFiles } from '../../src/recommend/sources/files.js';
import { snapshotSource } from '../../src/recommend/sources/source.js';

const shop = fileURLToPath(new URL('../fixtures/synthetic-stats/shop', import.meta.url));

t.test('the web frontend: tenant Host headers became destination_service values', async (t) => {
  const labels = ['destination_service', 'destination_service_name', 'response_code'];
  const evidence = await snapshotSource(() => readStatsFiles([shop])).cardinality(labels);
  const report = analyseCardinality(evidence, { ...DEFAULT_CARDINALITY_OPTIONS, labels });
  const web = report.proxies.find((p) => p.workload === 'web-frontend');
  // 3 services (cart, checkout, catalog) + 140 tenant-NNN.shop.example.com + inbound web-frontend = 144 values;
  // 140 of them carry destination_service_namespace="unknown": 140 ≥ 0.5 × 144 → host-header fallback.
  t.same(web?.distinct, { destination_service: 144, destination_service_name: 144, response_code: 1 });
  t.equal(web?.fallbackValues, 140);
  t.same(
    report.findings.map((f) => [f.pod, f.label, f.distinct, f.cause, f.reporters]),
    [
      ['web-frontend-6d9f7c8b5b-tq4zx', 'destination_service', 144, 'HOST_HEADER_FALLBACK', ['source']],
      ['web-frontend-6d9f7c8b5b-tq4zx', 'destination_service_name', 144, 'HOST_HEADER_FALLBACK', ['source']],
    ],
  );
  t.same(report.findings[0]?.examples, [
    'tenant-001.shop.example.com',
    'tenant-002.shop.example.com',
    'tenant-003.shop.example.com',
    'tenant-004.shop.example.com',
    'tenant-005.shop.example.com',
  ]);
  t.equal(report.proxies.find((p) => p.workload === 'cart')?.distinct['destination_service'], 1);
  t.equal(report.fixes.length, 1);
  const fix = report.fixes[0];
  t.equal(fix?.cause, 'HOST_HEADER_FALLBACK');
  // reporter="source" is outbound, so the override is for CLIENT metrics only; no app label → namespace-wide.
  t.same(fix?.telemetry, {
    apiVersion: 'telemetry.istio.io/v1',
    kind: 'Telemetry',
    metadata: { name: 'web-frontend-drop-host-fallback', namespace: 'shop' },
    spec: {
      metrics: [
        {
          providers: [{ name: 'prometheus' }],
          overrides: [
            {
              match: { metric: 'ALL_METRICS', mode: 'CLIENT' },
              tagOverrides: { destination_service: { operation: 'REMOVE' }, destination_service_name: { operation: 'REMOVE' } },
            },
          ],
        },
      ],
    },
  });
  t.match(fix?.notes.join('\n'), /hard-coded on for sidecar outbound/);
  t.match(fix?.notes.join('\n'), /whole namespace shop/);
});

t.test('a high-cardinality label without the fallback mark, with a selector', async (t) => {
  const report = analyseCardinality(
    {
      pods: [{ namespace: 'ns', pod: 'api-0', workload: 'api', workloadKind: 'StatefulSet', labels: { app: 'api' }, oomKills: 0, gateway: false }],
      proxies: [{ namespace: 'ns', pod: 'api-0', distinct: { source_workload: 12, destination_service: 3 }, fallback: [] }],
    },
    { labels: ['source_workload', 'destination_service'], threshold: 10, fallbackShare: 0.5 },
  );
  t.same(report.findings.map((f) => [f.label, f.cause]), [['source_workload', 'HIGH_CARDINALITY_LABEL']]);
  t.same(report.fixes[0]?.telemetry.spec.selector, { matchLabels: { app: 'api' } });
  t.equal(report.fixes[0]?.telemetry.spec.metrics[0].overrides[0]?.match.mode, 'CLIENT_AND_SERVER');
  t.same(report.fixes[0]?.notes, [`source_workload: ${CAUSE_FIXES.HIGH_CARDINALITY_LABEL}`]);
});

t.test('each high-cardinality label is classified by its cause, and each cause gets its own fix', async (t) => {
  const codes = ['200', '201', '204', '301', '302', '304', '400', '401', '403', '404', '409', '429', '500', '502', '503', '504'];
  const examples = {
    response_code: codes,
    request_path: ['/api/orders/1', '/api/orders/2', '/api/orders/3', '/healthz'],
    source_workload: ['batch-7d4b9c8f6d-x2kqp', 'batch-7d4b9c8f6d-h4k2n', 'batch-z8rtc'],
    destination_service: ['a.ns.svc.cluster.local', 'b.ns.svc.cluster.local', 'c.ns.svc.cluster.local'],
  };
  const distinct = { response_code: 16, request_path: 480, source_workload: 35, destination_service: 40 };
  const pods = [{ namespace: 'ns', pod: 'api-0', workload: 'api', workloadKind: 'StatefulSet' as const, labels: { app: 'api' }, oomKills: 0, gateway: false }];
  const labels = Object.keys(distinct);
  const report = analyseCardinality({ pods, proxies: [{ namespace: 'ns', pod: 'api-0', distinct, examples, fallback: [] }] }, { labels, threshold: 10, fallbackShare: 0.5 });
  t.same(
    Object.fromEntries(report.findings.map((f) => [f.label, f.cause])),
    { response_code: 'BOUNDED_LABEL', request_path: 'REQUEST_PATH', source_workload: 'POD_NAME', destination_service: 'HIGH_CARDINALITY_LABEL' },
    'response_code is a bounded enumeration, not host-header fallback',
  );
  t.equal(report.fixes.length, 1);
  const fix = report.fixes[0];
  t.equal(fix?.cause, 'REQUEST_PATH', 'the most specific cause names the fix');
  t.same(fix?.labels, ['destination_service', 'request_path', 'source_workload'], 'the bounded label is not removed');
  t.same(Object.keys(fix?.telemetry.spec.metrics[0].overrides[0]?.tagOverrides ?? {}), ['destination_service', 'request_path', 'source_workload']);
  t.equal(fix?.telemetry.metadata.name, 'api-drop-request-path');
  t.match(fix?.notes.join('\n'), /request_path: a request path is unbounded/);
  t.match(fix?.notes.join('\n'), /source_workload: pod names change with every rollout/);
  t.equal(classifyLabel('grpc_response_status', ['0', '14']), 'BOUNDED_LABEL');
  t.equal(classifyLabel('destination_workload', ['reviews-v1', 'ratings-v1']), 'HIGH_CARDINALITY_LABEL', 'workload names are not pod names');
  // A bounded label alone: advice, no Telemetry.
  const bounded = analyseCardinality(
    { pods, proxies: [{ namespace: 'ns', pod: 'api-0', distinct: { response_code: 16 }, examples, fallback: [] }] },
    { labels: ['response_code'], threshold: 10, fallbackShare: 0.5 },
  );
  t.same(bounded.fixes, []);
  t.match(renderCardinality(bounded, 'table', ['response_code']), /16 distinct response_code values: a bounded label \(e\.g\. 200, 201, 204, 301, 302\): a bounded enumeration, not a leak.*sum without \(response_code\)/);
});
