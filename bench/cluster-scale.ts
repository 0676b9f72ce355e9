/**
 * Cluster scale: a cluster of 10,000 Namespaces and 20,000 Sidecars. Measures building the
 * view's indexes (what a watch cache does with the initial LIST), loading the same cluster from
 * a file (`serve --cluster-state`), the memory held, and the cost of a lookup (`readClusterFacts`)
 * and of a whole decision against it. The watch-backed view's sync is timed by watch-sync.ts.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reviewAdmission } from '../src/admission/review.js';
import { readClusterFacts } from '../src/cluster/facts.js';
import { FileClusterView, loadFileClusterView } from '../src/cluster/file-cluster-view.js';
import { BUILT_IN_CONFIG } from '../src/config/load-config.js';
import { review, type Json } from '../test/support/builders.js';
import { scaleClusterObjects } from './cluster-objects.js';
import { emitResult, gc, MB, summarize } from './stats.js';
import { BENCH_NOW, meshPod } from './workload.js';

const NAMESPACES = Number(process.env.BENCH_NAMESPACES ?? 10_000);
const SIDECARS = Number(process.env.BENCH_SIDECARS ?? 20_000);
const clusterObjects = () => scaleClusterObjects(NAMESPACES, SIDECARS);

function rssMb(): number {
  gc();
  return process.memoryUsage().rss / MB;
}

async function main(): Promise<void> {
  const baseline = rssMb();
  let objects: Json[] | undefined = clusterObjects();

  // Index build from objects already in memory (the watch cache's initial LIST).
  const t0 = process.hrtime.bigint();
  const view = FileClusterView.fromObjects(objects);
  const buildSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  objects = undefined;
  const heldRss = rssMb();
  const heapHeld = process.memoryUsage().heapUsed / MB;

  // Lookups: random namespaces, as admission requests arrive.
  const lookups = new Float64Array(200_000);
  let sink = 0;
  for (let i = 0; i < lookups.length; i++) {
    const ns = `ns-${(i * 7919) % NAMESPACES}`;
    const s = process.hrtime.bigint();
    sink += readClusterFacts(view, ns, BUILT_IN_CONFIG).sidecars.length;
    lookups[i] = Number(process.hrtime.bigint() - s) / 1e3;
  }

  // Whole decisions against the big view.
  const deps = { config: BUILT_IN_CONFIG, now: BENCH_NOW, factsFor: (ns: string) => readClusterFacts(view, ns, BUILT_IN_CONFIG) };
  const bodies = Array.from({ length: 100 }, (_, i) => JSON.stringify(review(meshPod(`app-${NAMESPACES + i}`, `ns-${i * 97}`, { labels: { app: `app-${NAMESPACES + i}` } }), { namespace: `ns-${i * 97}` })));
  const decisions = new Float64Array(50_000);
  for (let i = 0; i < decisions.length; i++) {
    const s = process.hrtime.bigint();
    sink += JSON.stringify(reviewAdmission('mutate', JSON.parse(bodies[i % bodies.length] as string), deps).review).length;
    decisions[i] = Number(process.hrtime.bigint() - s) / 1e6;
  }

  const text = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: clusterObjects() });
  // The same cluster from a file, as `serve --cluster-state` reads it (YAML parser; JSON is YAML).
  const dir = await mkdtemp(join(tmpdir(), 'sg-cluster-'));
  await writeFile(join(dir, 'cluster.json'), text);
  const f0 = process.hrtime.bigint();
  const fromFile = await loadFileClusterView([dir]);
  const fileSeconds = Number(process.hrtime.bigint() - f0) / 1e9;
  if (fromFile.namespaces().length !== NAMESPACES) throw new Error('file view lost namespaces');

  emitResult({
    section: 'cluster',
    namespaces: NAMESPACES,
    sidecars: SIDECARS,
    listBytes: text.length,
    indexBuildSeconds: buildSeconds,
    fileLoadSeconds: fileSeconds,
    baselineRssMb: baseline,
    rssWithViewMb: heldRss,
    heapWithViewMb: heapHeld,
    lookupMicros: summarize(lookups),
    decisionMs: summarize(decisions),
    sink,
  });
}

await main();
