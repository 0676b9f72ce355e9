/**
 * Memory over time: the decision path (parse, decide, patch, encode, metrics) run 1,000,000
 * times in process with a fresh uid each time; RSS and heap after a forced GC at 100,000 and
 * at the end. Run with --expose-gc (bench/run.ts does).
 */
import { randomUUID } from 'node:crypto';
import { reviewAdmission } from '../src/admission/review.js';
import { readClusterFacts } from '../src/cluster/facts.js';
import { FileClusterView } from '../src/cluster/file-cluster-view.js';
import { BUILT_IN_CONFIG } from '../src/config/load-config.js';
import { createMetrics } from '../src/observability/metrics.js';
import { emitResult, gc, MB } from './stats.js';
import { BENCH_NOW, benchCluster, weightedMix } from './workload.js';

if (!(globalThis as { gc?: unknown }).gc) throw new Error('run with node --expose-gc');
const total = Number(process.env.BENCH_SOAK_REVIEWS ?? 1_000_000);
const checkpoint = Math.min(100_000, total);
const view = FileClusterView.fromObjects(benchCluster());
const metrics = createMetrics();
const config = BUILT_IN_CONFIG;
const factsFor = (namespace: string) => readClusterFacts(view, namespace, config);
const mix = weightedMix().map((r) => ({ webhook: r.webhook, text: JSON.stringify(r.body) }));

function memory(reviews: number) {
  gc();
  const usage = process.memoryUsage();
  return { reviews, rssMb: usage.rss / MB, heapUsedMb: usage.heapUsed / MB };
}

const samples = [];
const started = process.hrtime.bigint();
let sink = 0;
for (let i = 1; i <= total; i++) {
  const entry = mix[i % mix.length] as (typeof mix)[number];
  const body = JSON.parse(entry.text) as { request: { uid: string } };
  body.request.uid = randomUUID();
  const result = reviewAdmission(entry.webhook, body, { config, now: BENCH_NOW, factsFor });
  sink += JSON.stringify(result.review).length;
  metrics.decisions.inc({ webhook: entry.webhook, verdict: result.outcome.verdict, reason: result.outcome.code, mode: result.evaluation.mode, dry_run: 'false' });
  metrics.duration.observe({ webhook: entry.webhook }, 0.00005);
  if (i === checkpoint || i === total || i % 250_000 === 0) {
    samples.push(memory(i));
    process.stderr.write(`  [soak] ${i} reviews: RSS ${samples.at(-1)?.rssMb.toFixed(1)} MB, heap ${samples.at(-1)?.heapUsedMb.toFixed(1)} MB\n`);
  }
}
const first = samples.find((s) => s.reviews === checkpoint);
const last = samples.at(-1);
emitResult({
  section: 'soak',
  reviews: total,
  seconds: Number(process.hrtime.bigint() - started) / 1e9,
  samples,
  rssGrowth: first && last ? last.rssMb / first.rssMb - 1 : Number.NaN,
  heapGrowth: first && last ? last.heapUsedMb / first.heapUsedMb - 1 : Number.NaN,
  sink,
});
