import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parsePrometheusText, type Sample } from '../../../src/recommend/prometheus-text.js';
import { recommendProfiles } from '../../../src/recommend/recommend-profiles.js';
import { recommendScopes } from '../../../src/recommend/recommend-scope.js';
import { readStatsFiles } from '../../../src/recommend/sources/files.js';
import { snapshotSource } from '../../../src/recommend/sources/source.js';

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const POD = 'productpage-v1-5f7d8c9b6d-x2kqp';
const podsFile = `${fixtures}synthetic-stats/bookinfo-pods.yaml`;

// One proxy's data, rendered by the test (not by the code under test) in every format that can carry it:
// the clusters it holds, the requests and connections each counted, and the cluster manager's count.
interface ProxyData {
  readonly clusters: readonly { name: string; requests: number; connections: number }[];
}
async function productpage(): Promise<ProxyData> {
  const samples = parsePrometheusText(await readFile(`${fixtures}synthetic-stats/bookinfo/${POD}@2.txt`, 'utf8'));
  const counter = (name: string, cluster: string): number => samples.find((s) => s.name === name && s.labels['cluster_name'] === cluster)?.value ?? 0;
  const named = [...new Set(samples.flatMap((s) => (s.labels['cluster_name'] === undefined ? [] : [s.labels['cluster_name']])))];
  // The 26 the proxy holds (envoy_cluster_manager_active_clusters): 19 with stats, and the infrastructure ones.
  const infra = ['BlackHoleCluster', 'PassthroughCluster', 'InboundPassthroughClusterIpv4', 'inbound|9080||', 'agent', 'prometheus_stats', 'sds-grpc'];
  return {
    clusters: [...named, ...infra].map((name) => ({ name, requests: counter('envoy_cluster_upstream_rq_total', name), connections: counter('envoy_cluster_upstream_cx_total', name) })),
  };
}
const asPrometheusText = (d: ProxyData): string =>
  `envoy_cluster_manager_active_clusters ${d.clusters.length}\n` +
  d.clusters.filter((c) => !c.name.includes('Cluster') && !c.name.startsWith('inbound') && !['agent', 'prometheus_stats', 'sds-grpc'].includes(c.name))
    .map((c) => `envoy_cluster_upstream_rq_total{cluster_name="${c.name}"} ${c.requests}\nenvoy_cluster_upstream_cx_total{cluster_name="${c.name}"} ${c.connections}\n`)
    .join('');
const asPlainStats = (text: string): string =>
  parsePrometheusText(text)
    .map((s: Sample) => (s.labels['cluster_name'] === undefined ? `cluster_manager.active_clusters: ${s.value}` : `cluster.${s.labels['cluster_name']}.${s.name.replace('envoy_cluster_', '')}: ${s.value}`))
    .join('\n');
const asApiVector = (text: string, namespace: string, pod: string): string =>
  JSON.stringify({
    status: 'success',
    data: { resultType: 'vector', result: parsePrometheusText(text).map((s) => ({ metric: { __name__: s.name, ...s.labels, namespace, pod }, value: [1764720000, String(s.value)] })) },
  });
const asClustersText = (d: ProxyData): string =>
  d.clusters
    .map((c) => `${c.name}::added_via_api::true\n${c.name}::10.1.2.3:9080::cx_total::${c.connections}\n${c.name}::10.1.2.3:9080::rq_total::${c.requests}\n`)
    .join('');
const asClustersJson = (d: ProxyData): string =>
  JSON.stringify({
    cluster_statuses: d.clusters.map((c) => ({
      name: c.name,
      host_statuses: [{ stats: [{ name: 'cx_total', value: String(c.connections) }, ...(c.requests === 0 ? [] : [{ name: 'rq_total', value: String(c.requests) }])] }],
    })),
  });

t.test('the same proxy data gives the same clusters before and after whichever format it came in', async (t) => {
  const data = await productpage();
  const text = asPrometheusText(data);
  const formats: Record<string, string> = {
    'prometheus.txt': text,
    'stats.txt': asPlainStats(text),
    'query.json': asApiVector(text, 'bookinfo', POD),
    'clusters.txt': asClustersText(data),
    'clusters.json': asClustersJson(data),
  };
  const answers: Record<string, unknown> = {};
  for (const [name, content] of Object.entries(formats)) {
    const dir = join(t.testdir(), name, 'bookinfo');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${POD}@${name}`), content);
    const set = await readStatsFiles([dir], { podsFile, namespace: 'bookinfo' });
    const [rec] = recommendScopes(await snapshotSource(async () => set).scope());
    answers[name] = { before: rec?.clustersBefore, after: rec?.clustersAfter, hosts: rec?.hosts, unseen: rec?.unseen };
  }
  // productpage keeps details and reviews (recommend-scope.test.ts): 26 − 8 = 18.
  const expected = { before: 26, after: 18, hosts: ['bookinfo/details.bookinfo.svc.cluster.local', 'bookinfo/reviews.bookinfo.svc.cluster.local', 'istio-system/*'], unseen: [] };
  for (const [name, answer] of Object.entries(answers)) t.same(answer, expected, name);
});

t.test('/memory beside the merged scrape of the same pod: the container measure comes from the scrape, /memory alone is refused', async (t) => {
  const real = await readFile(`${fixtures}istio-1.11-merged/default/reviews-v1.txt`, 'utf8');
  const dir = join(t.testdir(), 'default');
  await mkdir(dir);
  await writeFile(join(dir, 'reviews-v1@stats.txt'), real);
  // /memory of the same proxy: Envoy's own figures, the same numbers its scrape reports.
  await writeFile(join(dir, 'reviews-v1@memory.json'), JSON.stringify({ allocated: '12024744', heap_size: '14680064', pageheap_unmapped: '0', total_physical_bytes: '17301504' }));
  const set = await readStatsFiles([dir]);
  const profiles = recommendProfiles(await snapshotSource(async () => set).memory());
  t.same(profiles.workloads.map((w) => [w.workload, w.signals, w.peak]), [['reviews-v1', ['agent_physical'], 46538752 + 17301504]], 'the agent RSS + Envoy physical of the merged scrape');
  const memoryOnly = await readStatsFiles([join(dir, 'reviews-v1@memory.json')]);
  const envoyOnly = recommendProfiles(await snapshotSource(async () => memoryOnly).memory());
  t.same(envoyOnly.skipped.map((s) => [s.reason, s.found]), [['NO_CONTAINER_MEMORY', ['physical', 'heap', 'allocated']]], '/memory alone is Envoy only: never sized from');
});

t.test('an istioctl bug-report tree: proxies/<namespace>/<pod>/ files by content, the rest skipped', async (t) => {
  const root = join(t.testdir(), 'bug-report');
  const pod = join(root, 'proxies', 'default', 'details-v1-9cb87c69-t2fdz');
  await mkdir(join(pod, 'stats'), { recursive: true });
  await mkdir(join(root, 'istio', 'istio-system', 'istiod-0'), { recursive: true });
  await writeFile(join(pod, 'config_dump'), await readFile(`${fixtures}envoy-admin/istioctl-configdump/config_dump.json`));
  await writeFile(join(pod, 'clusters'), await readFile(`${fixtures}envoy-admin/istio-io-clusters/default/ratings-v1@clusters.txt`));
  await writeFile(join(pod, 'stats', 'prometheus'), await readFile(`${fixtures}istio-1.11-merged/default/reviews-v1.txt`));
  await writeFile(join(pod, 'server_info'), '{"version": "abc/1.11.4/Clean/RELEASE/BoringSSL", "state": "LIVE"}');
  // /listeners text is `name::address` lines too: not clusters.
  await writeFile(join(pod, 'listeners'), '0.0.0.0_15001::0.0.0.0:15001\nvirtualInbound::0.0.0.0:15006\n10.96.0.10_53::10.96.0.10:53\n');
  await writeFile(join(root, 'istio', 'istio-system', 'istiod-0', 'discovery.log'), '2026-12-03T05:00:00Z info ads push\n');
  const set = await readStatsFiles([root]);
  const evidence = await snapshotSource(async () => set).scope();
  t.same(evidence.proxies.map((p) => `${p.namespace}/${p.pod}`), ['default/details-v1-9cb87c69-t2fdz']);
  const clusters = evidence.proxies[0]?.clusters.map((c) => [c.cluster, c.requests, c.counted]);
  t.same(clusters, [
    ['outbound|15004||istio-policy.istio-system.svc.cluster.local', 0, true],
    ['outbound|443||*.wikipedia.org', 3, true],
    ['xds-grpc', 1, true],
  ], 'the dump names the clusters, /clusters counts their hosts, the scrape counts xds-grpc');
});

t.test('anything else is one clear error listing the accepted inputs', async (t) => {
  const file = join(t.testdir(), 'notes.txt');
  await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\n');
  await t.rejects(readStatsFiles([file]), {
    message: /notes\.txt: not an input recommend reads; accepted, detected by content: Prometheus text .*; Envoy's plain \/stats; Envoy \/clusters; Envoy \/clusters\?format=json; Envoy \/config_dump or istioctl proxy-config all -o json; Envoy \/memory; Prometheus HTTP API .*; or an istioctl bug-report directory/,
  });
  const json = join(t.testdir(), 'other.json');
  await writeFile(json, '{"kind": "PodList", "items": []}');
  await t.rejects(readStatsFiles([json]), { message: /other\.json: not an input recommend reads/ });
  const dir = join(t.testdir(), 'logs');
  await mkdir(dir);
  await writeFile(join(dir, 'a.log'), 'hello\n');
  await t.rejects(readStatsFiles([dir]), { message: /no input in .*logs: not an input recommend reads/ });
  const expression = join(t.testdir(), 'rate.json');
  await writeFile(expression, JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { pod: 'p' }, value: [1, '2'] }] } }));
  await t.rejects(readStatsFiles([expression]), { message: /without __name__ .*query the metrics by name/ });
});

t.test('an empty input file, and a --pods file with no Pod or not a file, are errors naming the file', async (t) => {
  const dir = t.testdir();
  const empty = join(dir, 'scrape.txt');
  await writeFile(empty, '\n');
  await t.rejects(readStatsFiles([empty]), { message: /scrape\.txt is empty: not an input recommend reads/ });
  const stats = `${fixtures}synthetic-stats/bookinfo`;
  for (const [name, content] of [['none.yaml', ''], ['prose.txt', 'this is { not a pod list\n'], ['empty-list.json', '{"kind": "List", "items": []}']] as const) {
    await writeFile(join(dir, name), content);
    await t.rejects(readStatsFiles([stats], { podsFile: join(dir, name) }), { message: new RegExp(`^--pods \\S+${name.replace('.', '\\.')}: no Pod in it: give the output of kubectl get pods`) }, name);
  }
  await t.rejects(readStatsFiles([stats], { podsFile: dir }), { message: /^--pods \S+: is a directory, expected a file/ });
  await t.rejects(readStatsFiles([stats], { podsFile: join(dir, 'missing.yaml') }), { message: /^--pods \S+missing\.yaml: no such file or directory/ });
});
