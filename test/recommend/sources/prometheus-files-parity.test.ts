import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { parseQuantity } from '../../../src/policy/quantity.js';
import { calibrationSamples } from '../../../src/recommend/calibrate-model.js';
import { parsePrometheusText } from '../../../src/recommend/prometheus-text.js';
import { recommendProfiles } from '../../../src/recommend/recommend-profiles.js';
import { recommendScopes } from '../../../src/recommend/recommend-scope.js';
import { podFromPath, readStatsFiles } from '../../../src/recommend/sources/files.js';
import { prometheusSource } from '../../../src/recommend/sources/prometheus-api.js';
import type { RecommendSource } from '../../../src/recommend/sources/source.js';
import { snapshotSource } from '../../../src/recommend/sources/source.js';
import { type FakeSeries, startFakePrometheus } from '../../support/fake-prometheus.js';

// The same scrapes, read from files and served by the Prometheus stand-in, must give the same
// answers: the scrape `@1` at the window's start, `@2` at its end, on the query_range step grid.
const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const NOW = new Date('2026-12-01T12:00:00Z');
const END = NOW.getTime() / 1000;
const STEP = 3600;
// (END − 7200, END] holds both instants: the range selector is left-open in Prometheus 3.
const WINDOW = 7200;
const instantOf = (file: string): number => (/@1\.[a-z]+$/.test(file) ? END - STEP : END);

/** Bookinfo's synthetic scrapes (outbound stats included) and the real Istio 1.11 scrape at both instants. */
async function scrapeDir(root: string): Promise<string[]> {
  const bookinfo = join(fixtures, 'synthetic-stats/bookinfo');
  await mkdir(join(root, 'bookinfo'), { recursive: true });
  await mkdir(join(root, 'default'), { recursive: true });
  const files: string[] = [];
  for (const name of await readdir(bookinfo)) {
    await writeFile(join(root, 'bookinfo', name), await readFile(join(bookinfo, name)));
    files.push(join(root, 'bookinfo', name));
  }
  const real = await readFile(join(fixtures, 'istio-1.11-merged/default/reviews-v1.txt'));
  for (const n of [1, 2]) {
    await writeFile(join(root, 'default', `reviews-v1@${n}.txt`), real);
    files.push(join(root, 'default', `reviews-v1@${n}.txt`));
  }
  return files;
}

/** The scrapes as Prometheus stores them: every sample a series with the pod's namespace/pod labels. */
async function asSeries(files: readonly string[]): Promise<FakeSeries[]> {
  type Stored = { metric: Record<string, string>; points: [number, number][] };
  const series = new Map<string, Stored>();
  for (const file of files) {
    const { namespace, pod } = podFromPath(file);
    for (const s of parsePrometheusText(await readFile(file, 'utf8'))) {
      const metric = { __name__: s.name, ...s.labels, namespace, pod };
      const key = JSON.stringify(Object.entries(metric).sort());
      const entry: Stored = series.get(key) ?? { metric, points: [] };
      entry.points.push([instantOf(file), s.value]);
      series.set(key, entry);
    }
  }
  return [...series.values()].map((s) => ({ metric: s.metric, points: [...s.points].sort((a, b) => a[0] - b[0]) }));
}

async function answers(source: RecommendSource) {
  const [scope, memory] = [await source.scope(), await source.memory()];
  const scopes = recommendScopes(scope);
  const profiles = recommendProfiles(memory);
  return {
    // What `recommend calibrate` fits: each proxy's median memory against its cluster count.
    calibration: calibrationSamples(memory.series, scope.proxies, 'agent_physical').sort((a, b) => a.bytes - b.bytes || a.clusters - b.clusters),
    scopes: scopes.map((r) => ({ namespace: r.namespace, before: r.clustersBefore, after: r.clustersAfter, hosts: r.hosts })),
    workloads: profiles.workloads.map((w) => ({ workload: `${w.namespace}/${w.workload}`, signals: w.signals, samples: w.samples, p90: w.p90, peak: w.peak, recommended: w.recommended })),
    profiles: profiles.profiles,
    rules: profiles.rules,
  };
}

t.test('--prometheus and --from-files on the same samples: the same cluster counts before/after, profiles and calibration samples', async (t) => {
  const root = t.testdir();
  const files = await scrapeDir(root);
  const prom = await startFakePrometheus({ series: await asSeries(files) });
  t.teardown(() => prom.close());
  const fromFiles = await answers(snapshotSource(async () => readStatsFiles([root])));
  const fromPrometheus = await answers(prometheusSource({ url: prom.url, windowSeconds: WINDOW, stepSeconds: STEP, now: () => NOW }));
  t.same(fromPrometheus, fromFiles);
  // What the answer is, so that agreeing on nothing cannot pass: Bookinfo's proxies called details,
  // ratings, reviews and api.stripe.com between the two scrapes; the real 1.11 proxy counts no call
  // of its own, so its namespace keeps every cluster (and the CLI writes no Sidecar for it).
  t.same(fromFiles.scopes, [
    {
      namespace: 'bookinfo',
      before: 26,
      after: 20,
      hosts: ['*/api.stripe.com', 'bookinfo/details.bookinfo.svc.cluster.local', 'bookinfo/ratings.bookinfo.svc.cluster.local', 'bookinfo/reviews.bookinfo.svc.cluster.local', 'istio-system/*'],
    },
    { namespace: 'default', before: 28, after: 28, hosts: ['istio-system/*'] },
  ]);
  t.same(
    fromFiles.workloads.map((w) => [w.workload, w.signals, w.samples]),
    [
      ['bookinfo/details-v1', ['agent_physical'], 2],
      ['bookinfo/productpage-v1', ['agent_physical'], 2],
      ['bookinfo/ratings-v1', ['agent_physical'], 2],
      ['bookinfo/reviews-v1', ['agent_physical'], 4],
      ['bookinfo/reviews-v2', ['agent_physical'], 2],
      ['bookinfo/reviews-v3', ['agent_physical'], 2],
      // The real scrape: agent RSS 46,538,752 + Envoy physical 17,301,504, at both instants.
      ['default/reviews-v1', ['agent_physical'], 2],
    ],
  );
  t.equal(fromFiles.workloads.find((w) => w.workload === 'default/reviews-v1')?.peak, 46538752 + 17301504);
  // Eight proxies with memory and a cluster count; the real one holds 28 clusters.
  t.equal(fromFiles.calibration.length, 8);
  t.ok(fromFiles.calibration.some((c) => c.bytes === 46538752 + 17301504 && c.clusters === 28));
  // The stand-in answered the range queries and the increase()s the sources sent, not canned answers.
  t.ok(prom.queries.some((q) => q.path === '/api/v1/query_range'));
  t.ok(prom.queries.some((q) => q.query.startsWith('increase(envoy_cluster_upstream_rq_total')));
});

t.test('a real Istio 1.5 scrape naming 50 outbound clusters only by their SDS counters: Prometheus names them too', async (t) => {
  // Before sources/prometheus-api.ts listed every cluster any envoy_cluster_* series names, Prometheus
  // saw only xds-grpc here (1 cluster before and after) while the same scrape saved gave 51 → 29.
  const root = t.testdir();
  await mkdir(join(root, 'default'));
  const real = await readFile(join(fixtures, 'istio-1.5-proxy/default/mongodb-v1.txt'));
  const files = [1, 2].map((n) => join(root, 'default', `mongodb-v1@${n}.txt`));
  for (const file of files) await writeFile(file, real);
  const prom = await startFakePrometheus({ series: await asSeries(files) });
  t.teardown(() => prom.close());
  const scopeOf = async (source: RecommendSource) => recommendScopes(await source.scope()).map((r) => ({ before: r.clustersBefore, after: r.clustersAfter, hosts: r.hosts }));
  const fromFiles = await scopeOf(snapshotSource(async () => readStatsFiles([root])));
  t.same(await scopeOf(prometheusSource({ url: prom.url, windowSeconds: WINDOW, stepSeconds: STEP, now: () => NOW })), fromFiles);
  // The same scrape at both ends: no traffic in the window, so every outbound cluster outside istio-system goes.
  t.same(fromFiles, [{ before: 51, after: 29, hosts: ['istio-system/*'] }]);
});

/** kube-state-metrics' series for a `kubectl get pods -o yaml` list: labels, istio-proxy's memory request/limit, OOM kills, the container. */
function asKubeStateMetrics(podList: string): FakeSeries[] {
  interface Pod {
    metadata: { name: string; namespace: string; labels?: Record<string, string> };
    spec: { containers: { name: string; resources?: { requests?: { memory?: string }; limits?: { memory?: string } } }[] };
    status?: { containerStatuses?: { name: string; lastState?: { terminated?: { reason?: string } } }[] };
  }
  const series: FakeSeries[] = [];
  const at = (value: number): [number, number][] => [[END - STEP, value], [END, value]];
  for (const pod of (parse(podList) as { items: Pod[] }).items) {
    const ref = { namespace: pod.metadata.namespace, pod: pod.metadata.name };
    const proxy = { ...ref, container: 'istio-proxy' };
    const labels = Object.entries(pod.metadata.labels ?? {}).map(([k, v]) => [`label_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`, v]);
    series.push({ metric: { __name__: 'kube_pod_labels', ...ref, ...Object.fromEntries(labels) }, points: at(1) });
    series.push({ metric: { __name__: 'kube_pod_container_info', ...proxy }, points: at(1) });
    const resources = pod.spec.containers.find((c) => c.name === 'istio-proxy')?.resources;
    for (const [kind, value] of [['requests', resources?.requests?.memory], ['limits', resources?.limits?.memory]] as const) {
      if (value !== undefined) series.push({ metric: { __name__: `kube_pod_container_resource_${kind}`, ...proxy, resource: 'memory', unit: 'byte' }, points: at(parseQuantity(value) ?? Number.NaN) });
    }
    const reason = pod.status?.containerStatuses?.find((c) => c.name === 'istio-proxy')?.lastState?.terminated?.reason;
    if (reason !== undefined) series.push({ metric: { __name__: 'kube_pod_container_status_last_terminated_reason', ...proxy, reason }, points: at(1) });
  }
  return series;
}

t.test('with the pods known: --pods on the files and kube-state-metrics on Prometheus give the same Sidecars and profiles', async (t) => {
  const bookinfo = join(fixtures, 'synthetic-stats/bookinfo');
  const podsFile = join(fixtures, 'synthetic-stats/bookinfo-pods.yaml');
  const files = (await readdir(bookinfo)).map((name) => join(bookinfo, name));
  const prom = await startFakePrometheus({ series: [...(await asSeries(files)), ...asKubeStateMetrics(await readFile(podsFile, 'utf8'))] });
  t.teardown(() => prom.close());
  const full = async (source: RecommendSource) => {
    const [scope, memory] = [await source.scope(), await source.memory()];
    const profiles = recommendProfiles(memory);
    return {
      scopes: recommendScopes(scope).map((r) => ({ namespace: r.namespace, name: r.name, before: r.clustersBefore, after: r.clustersAfter, hosts: r.hosts, inventoryMissing: r.inventoryMissing, unobserved: r.unobserved })),
      workloads: profiles.workloads.map((w) => ({ workload: w.workload, kind: w.kind, oomKills: w.oomKills, recommended: w.recommended, savedRequest: w.savedRequest, savedLimit: w.savedLimit })),
      profiles: profiles.profiles,
      rules: profiles.rules,
    };
  };
  const fromFiles = await full(snapshotSource(async () => readStatsFiles([bookinfo], { podsFile })));
  t.same(await full(prometheusSource({ url: prom.url, windowSeconds: WINDOW, stepSeconds: STEP, now: () => NOW })), fromFiles);
  // The pod list lets a namespace Sidecar be written; reviews-v3 was OOM-killed at a 128Mi limit, and rules select by label.
  t.match(fromFiles.scopes, [{ namespace: 'bookinfo', inventoryMissing: false, unobserved: [] }]);
  t.match(fromFiles.workloads.find((w) => w.workload === 'reviews-v3'), { oomKills: 1 });
  t.ok(fromFiles.rules.some((r) => r.match.podLabels?.['app'] === 'reviews'), JSON.stringify(fromFiles.rules));
});

