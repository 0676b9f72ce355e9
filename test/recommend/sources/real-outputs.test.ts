import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { readInput } from '../../../src/recommend/sources/detect-input.js';
import { readStatsFiles } from '../../../src/recommend/sources/files.js';
import { snapshotSource } from '../../../src/recommend/sources/source.js';
import { runInProcess } from '../../support/run-in-process.js';

// recommend on real outputs of Istio sidecars that others published (each directory's PROVENANCE.md
// says where from): the format is found by content, the numbers read are the file's, and what the
// data cannot support is refused with nothing on stdout.
const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const read = (path: string): string => readFileSync(join(fixtures, path), 'utf8');

const MEMORY = {
  'issue-27111/sidecar@memory.json': true,
  'issue-37396/sidecar@memory.json': true,
  'issue-14242/proxy-big@memory.json': false,
  'issue-14242/proxy-small@memory.json': false,
} as const;

t.test('real /memory (istio/istio issues): detected, each figure read as the file holds it', async (t) => {
  for (const [file, hasPhysical] of Object.entries(MEMORY)) {
    const text = read(`envoy-memory/${file}`);
    const json = JSON.parse(text) as Record<string, string>;
    const input = readInput(text);
    t.equal(input?.format, 'memory-json', file);
    const samples = input !== undefined && 'samples' in input ? input.samples : [];
    t.same(
      samples,
      [
        { name: 'envoy_server_memory_allocated', labels: {}, value: Number(json['allocated']) },
        { name: 'envoy_server_memory_heap_size', labels: {}, value: Number(json['heap_size']) },
        ...(hasPhysical ? [{ name: 'envoy_server_memory_physical_size', labels: {}, value: Number(json['total_physical_bytes']) }] : []),
      ],
      `${file}: allocated, heap_size${hasPhysical ? ', total_physical_bytes' : ' (this Envoy printed no total_physical_bytes)'}`,
    );
  }
  // The 1.6.7 sidecar that was OOM-killed: 382,353,408 B physical, as the issue shows.
  const set = await readStatsFiles([join(fixtures, 'envoy-memory/issue-27111')]);
  const series = (await snapshotSource(async () => set).memory()).series;
  t.same(
    series.map((s) => [`${s.namespace}/${s.pod}`, s.signal, s.values]),
    [
      ['issue-27111/sidecar', 'physical', [382353408]],
      ['issue-27111/sidecar', 'heap', [377634816]],
      ['issue-27111/sidecar', 'allocated', [361312704]],
    ],
  );
});

t.test('recommend on real /memory alone: profiles, calibrate and scope refuse, nothing on stdout', async (t) => {
  const dir = join(fixtures, 'envoy-memory');
  const profiles = await runInProcess(['recommend', 'profiles', '--from-files', dir, '-o', 'yaml']);
  t.equal(profiles.code, 2);
  t.equal(profiles.stdout, '', 'no config file to load');
  // Envoy's figures are not the container's: each proxy named with what it had, older Envoys without "physical".
  t.match(profiles.stderr, /no istio-proxy container memory for issue-14242\/proxy-big \(Envoy heap only, Envoy allocated only\), issue-14242\/proxy-small \(Envoy heap only, Envoy allocated only\), issue-27111\/sidecar \(Envoy physical only, Envoy heap only, Envoy allocated only\), issue-37396\/sidecar \(Envoy physical only, Envoy heap only, Envoy allocated only\)/);
  t.match(profiles.stderr, /container_memory_working_set_bytes\{container="istio-proxy"\}/);
  const calibrate = await runInProcess(['recommend', 'calibrate', '--from-files', dir]);
  t.equal(calibrate.code, 2);
  t.equal(calibrate.stdout, '');
  t.match(calibrate.stderr, /no proxy has both a memory measure and envoy_cluster_manager_active_clusters/);
  const scope = await runInProcess(['recommend', 'scope', '--from-files', dir, '-o', 'yaml']);
  t.equal(scope.code, 2);
  t.equal(scope.stdout, '', 'no Sidecar to apply');
  t.match(scope.stderr, /no Sidecar written: the stats do not show which services issue-14242\/proxy-big, issue-14242\/proxy-small, issue-27111\/sidecar, issue-37396\/sidecar call/);
});

t.test('real plain /stats (istio.io circuit-breaking task): the outbound cluster named whole, its pending counters read; no call shown, so no scope', async (t) => {
  const text = read('envoy-stats-plain/istio-io-circuit-breaking/fortio@stats.txt');
  const input = readInput(text);
  t.equal(input?.format, 'stats-text');
  const cluster = 'outbound|80||httpbin.springistio.svc.cluster.local';
  t.same(input !== undefined && 'samples' in input ? input.samples : [], [
    { name: 'envoy_cluster_upstream_rq_pending_active', labels: { cluster_name: cluster }, value: 0 },
    { name: 'envoy_cluster_upstream_rq_pending_failure_eject', labels: { cluster_name: cluster }, value: 0 },
    { name: 'envoy_cluster_upstream_rq_pending_overflow', labels: { cluster_name: cluster }, value: 12 },
    { name: 'envoy_cluster_upstream_rq_pending_total', labels: { cluster_name: cluster }, value: 39 },
  ]);
  const dir = join(fixtures, 'envoy-stats-plain/istio-io-circuit-breaking');
  const evidence = await snapshotSource(async () => readStatsFiles([dir])).scope();
  // Held, but counted by no rq_total/cx_total: a grep of pending counters is not evidence of a call.
  t.same(evidence.proxies, [{ namespace: 'istio-io-circuit-breaking', pod: 'fortio', clusters: [{ cluster, requests: 0, connections: 0, counted: false }], scrapes: 1 }]);
  const scope = await runInProcess(['recommend', 'scope', '--from-files', dir, '-o', 'yaml']);
  t.equal(scope.code, 2);
  t.equal(scope.stdout, '');
  t.match(scope.stderr, /services istio-io-circuit-breaking\/fortio call .*proxyStatsMatcher: \{inclusionPrefixes: \["cluster\.outbound"\]\}/);
});

t.test('real plain /stats of a 2019 sidecar (istio/istio#14242): server memory read as printed, Envoy only, so not sized', async (t) => {
  const input = readInput(read('envoy-stats-plain/issue-14242/proxy@stats.txt'));
  t.equal(input?.format, 'stats-text');
  const samples = input !== undefined && 'samples' in input ? input.samples : [];
  t.same(
    samples.filter((s) => s.name.startsWith('envoy_server_memory_')),
    [
      { name: 'envoy_server_memory_allocated', labels: {}, value: 12388304 },
      { name: 'envoy_server_memory_heap_size', labels: {}, value: 17825792 },
    ],
  );
  t.notOk(samples.some((s) => s.name.includes('mixer')), 'Mixer filter counters are none of the stats recommend reads');
  const profiles = await runInProcess(['recommend', 'profiles', '--from-files', join(fixtures, 'envoy-stats-plain/issue-14242')]);
  t.equal(profiles.code, 2);
  t.equal(profiles.stdout, '');
  t.match(profiles.stderr, /no istio-proxy container memory for issue-14242\/proxy \(Envoy heap only, Envoy allocated only\)/);
});

t.test('real Prometheus API response (istio.io blog, Istio 1.3): detected despite its indentation, the sample and instant read', async (t) => {
  const input = readInput(read('prometheus-api/istio-io-blog-2019/sleep@query.json'));
  t.equal(input?.format, 'prometheus-api');
  const samples = input !== undefined && 'samples' in input ? input.samples : [];
  t.equal(samples.length, 1);
  t.match(samples[0], {
    name: 'istio_tcp_connections_closed_total',
    value: 1,
    timestamp: 1567033761.879,
    labels: { source_workload: 'sleep', source_workload_namespace: 'default', destination_service_name: 'PassthroughCluster', destination_ip: '52.22.188.80', job: 'istio-mesh' },
  });
  const dir = join(fixtures, 'prometheus-api');
  // A closed connection to an IP through the PassthroughCluster names no host a Sidecar could keep: no scope.
  const scope = await runInProcess(['recommend', 'scope', '--from-files', dir, '-o', 'yaml']);
  t.equal(scope.code, 2);
  t.equal(scope.stdout, '');
  t.match(scope.stderr, /services istio-io-blog-2019\/sleep call/);
  const cardinality = await runInProcess(['recommend', 'cardinality', '--from-files', dir]);
  t.equal(cardinality.code, 0);
  t.match(cardinality.stdout, /istio-io-blog-2019\/sleep\s+sleep\s/);
  t.match(cardinality.stdout, /no proxy is above the threshold/);
});

t.test('a real Istio 1.5 sidecar scrape (Datadog): clusters named by SDS counters held but not counted; its calls from istio_requests_total', async (t) => {
  const dir = join(fixtures, 'istio-1.5-proxy');
  const evidence = await snapshotSource(async () => readStatsFiles([dir])).scope();
  const [proxy] = evidence.proxies;
  t.equal(proxy?.clusters.length, 51, '50 outbound clusters and xds-grpc');
  t.same(proxy?.clusters.filter((c) => c.counted).map((c) => [c.cluster, c.requests, c.connections]), [['xds-grpc', 2, 2]], 'only xds-grpc is counted (default stats)');
  t.same(evidence.requests, [
    { sourceNamespace: 'default', sourceWorkload: 'mongodb-v1', destinationService: 'archive.ubuntu.com', destinationNamespace: 'unknown', metric: 'istio_requests_total', count: 1 + 49 },
    { sourceNamespace: 'default', sourceWorkload: 'mongodb-v1', destinationService: 'repo.mongodb.org', destinationNamespace: 'unknown', metric: 'istio_requests_total', count: 2 + 8 + 1 },
    { sourceNamespace: 'default', sourceWorkload: 'mongodb-v1', destinationService: 'security.ubuntu.com', destinationNamespace: 'unknown', metric: 'istio_requests_total', count: 1 + 5 },
    { sourceNamespace: 'default', sourceWorkload: 'ratings-v2', destinationService: 'mongodb.default.svc.cluster.local', destinationNamespace: 'default', metric: 'istio_tcp_connections_opened_total', count: 1 },
  ]);
  // Without the namespace's pod list a namespace Sidecar could scope pods the scrape does not show: refused.
  const scope = await runInProcess(['recommend', 'scope', '--from-files', dir, '-o', 'yaml']);
  t.equal(scope.code, 2);
  t.equal(scope.stdout, '');
  t.match(scope.stderr, /a Sidecar in default also applies to .*give --pods FILE/);
  const cardinality = await runInProcess(['recommend', 'cardinality', '--from-files', dir]);
  t.equal(cardinality.code, 0);
  // Three hosts reached through the PassthroughCluster, destination_service_namespace "unknown".
  t.match(cardinality.stdout, /default\/mongodb-v1\s+mongodb-v1\s+3\s+1\s+1\s+1\s+1\s+3\s+3\n/);
});
