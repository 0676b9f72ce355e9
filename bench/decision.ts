/**
 * Decision cost in process, per review: decode (JSON.parse + schema check), decide (validate
 * or mutate against the cluster view), build the patch, encode the answer (JSON.stringify).
 * Run alone: `node --import tsx bench/decision.ts`; with `--cpu-prof` to profile.
 */
import { reviewAdmission } from '../src/admission/review.js';
import { readClusterFacts } from '../src/cluster/facts.js';
import { FileClusterView } from '../src/cluster/file-cluster-view.js';
import { BUILT_IN_CONFIG } from '../src/config/load-config.js';
import { emitResult, summarize } from './stats.js';
import { BENCH_NOW, benchCluster, benchReviews, weightedMix, type BenchReview } from './workload.js';

export interface PreparedReview {
  readonly review: BenchReview;
  readonly text: string;
}

const view = FileClusterView.fromObjects(benchCluster());
const config = BUILT_IN_CONFIG;
const factsFor = (namespace: string) => readClusterFacts(view, namespace, config);

/** One review end to end, from the request body text to the response body text. */
export function decideOnce(prepared: PreparedReview): string {
  const body: unknown = JSON.parse(prepared.text);
  const result = reviewAdmission(prepared.review.webhook, body, { config, now: BENCH_NOW, factsFor });
  return JSON.stringify(result.review);
}

export function prepare(): PreparedReview[] {
  const mix = weightedMix(benchReviews());
  for (const review of benchReviews()) {
    const result = reviewAdmission(review.webhook, JSON.parse(JSON.stringify(review.body)), { config, now: BENCH_NOW, factsFor });
    if (result.outcome.verdict !== review.expect) throw new Error(`${review.label}: expected ${review.expect}, got ${result.outcome.verdict}`);
  }
  return mix.map((review) => ({ review, text: JSON.stringify(review.body) }));
}

function main(): void {
  const iterations = Number(process.env.BENCH_DECISIONS ?? 200_000);
  const mix = prepare();
  // Warm up: let V8 optimise the hot path before timing.
  for (let i = 0; i < 20_000; i++) decideOnce(mix[i % mix.length] as PreparedReview);
  const samples = new Float64Array(iterations);
  const byLabel = new Map<string, number[]>();
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const prepared = mix[i % mix.length] as PreparedReview;
    const t0 = process.hrtime.bigint();
    bytes += decideOnce(prepared).length;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    samples[i] = ms;
    const list = byLabel.get(prepared.review.label) ?? [];
    list.push(ms);
    byLabel.set(prepared.review.label, list);
  }
  const elapsedS = Number(process.hrtime.bigint() - started) / 1e9;
  const bodyBytes = mix.reduce((sum, p) => sum + p.text.length, 0) / mix.length;
  emitResult({
    section: 'decision',
    iterations,
    perSecond: iterations / elapsedS,
    meanRequestBytes: Math.round(bodyBytes),
    meanResponseBytes: Math.round(bytes / iterations),
    all: summarize(samples),
    byLabel: [...byLabel].map(([label, list]) => ({ label, ...summarize(Float64Array.from(list)) })),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) main();
