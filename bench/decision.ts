/**
 * Decision cost in process, per review, on fresh objects: every timed call gets an object
 * JSON.parse made just before (untimed), so nothing the decision memoises per object can hit.
 * Timed: decode (schema check), decide (validate or mutate against the cluster view), build the
 * patch, encode the answer (the server's compiled encoder). JSON.parse of the body is timed apart.
 * A do-nothing reference (read the uid, encode a fixed "allowed") is timed the same way,
 * interleaved call by call, so timer and allocation noise shows next to each figure.
 * The same decision on one object decided over and over (warm per-object caches, if any) is
 * reported apart as the memo-hit figure.
 * Run alone: `node --import tsx bench/decision.ts`; with `--cpu-prof` to profile.
 */
import { encodeAdmissionReview } from '../src/admission/respond.js';
import { reviewAdmission } from '../src/admission/review.js';
import { readClusterFacts } from '../src/cluster/facts.js';
import { FileClusterView } from '../src/cluster/file-cluster-view.js';
import { BUILT_IN_CONFIG } from '../src/config/load-config.js';
import { createServerLogger } from '../src/observability/logger.js';
import { decisionLogFields, decisionLogLevel, decisionLogLine } from '../src/http/decision-log.js';
import { emitResult, summarize } from './stats.js';
import { BENCH_NOW, benchCluster, benchReviews, weightedMix, type BenchReview } from './workload.js';

export interface PreparedReview {
  readonly review: BenchReview;
  readonly text: string;
}

const view = FileClusterView.fromObjects(benchCluster());
const config = BUILT_IN_CONFIG;
const factsFor = (namespace: string) => readClusterFacts(view, namespace, config);

/** One review from a decoded body to the response body text. */
export function decideParsed(prepared: PreparedReview, body: unknown): string {
  const result = reviewAdmission(prepared.review.webhook, body, { config, now: BENCH_NOW, factsFor });
  return encodeAdmissionReview(result.review);
}

/** The do-nothing reference: what any webhook must do at least, on the same decoded body, with the same encoder. */
export function referenceParsed(body: unknown): string {
  const uid = (body as { request?: { uid?: unknown } }).request?.uid;
  return encodeAdmissionReview({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: typeof uid === 'string' ? uid : '', allowed: true } });
}

/** One review end to end, from the request body text to the response body text. */
export function decideOnce(prepared: PreparedReview): string {
  return decideParsed(prepared, JSON.parse(prepared.text));
}

export function prepare(): PreparedReview[] {
  const mix = weightedMix(benchReviews());
  for (const review of benchReviews()) {
    const result = reviewAdmission(review.webhook, JSON.parse(JSON.stringify(review.body)), { config, now: BENCH_NOW, factsFor });
    if (result.outcome.verdict !== review.expect) throw new Error(`${review.label}: expected ${review.expect}, got ${result.outcome.verdict}`);
  }
  return mix.map((review) => ({ review, text: JSON.stringify(review.body) }));
}

/** Which of the targets a review counts towards. */
export function categoryOf(label: string): string {
  if (label.includes('not in mesh')) return 'not in mesh (validate and mutate)';
  if (label.startsWith('mutate:') && label.includes('(patched)')) return 'in mesh, mutate with a patch';
  if (label.startsWith('validate: mesh pod, scoped') || label.startsWith('validate: Deployment, scoped') || label.startsWith('validate: CronJob')) return 'in mesh, validate (allowed)';
  return 'other (denials, audit, Sidecars, no-op mutate)';
}

const micros = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e3;
const mean = (list: readonly number[]) => list.reduce((a, b) => a + b, 0) / list.length;

function main(): void {
  const iterations = Number(process.env.BENCH_DECISIONS ?? 200_000);
  const mix = prepare();
  // Warm up: let V8 optimise the hot path before timing.
  for (let i = 0; i < 20_000; i++) {
    const p = mix[i % mix.length] as PreparedReview;
    decideParsed(p, JSON.parse(p.text));
    referenceParsed(JSON.parse(p.text));
  }
  const decide = new Float64Array(iterations);
  const reference = new Float64Array(iterations);
  const parse = new Float64Array(iterations);
  const byLabel = new Map<string, { decide: number[]; reference: number[] }>();
  let bytes = 0;
  let decideTotal = 0;
  for (let i = 0; i < iterations; i++) {
    const prepared = mix[i % mix.length] as PreparedReview;
    let t0 = process.hrtime.bigint();
    const body: unknown = JSON.parse(prepared.text);
    parse[i] = micros(t0);
    const other: unknown = JSON.parse(prepared.text);
    // Alternate which goes first, so neither always runs on a warmer cache.
    let d: number;
    let r: number;
    if (i % 2 === 0) {
      t0 = process.hrtime.bigint();
      bytes += decideParsed(prepared, body).length;
      d = micros(t0);
      t0 = process.hrtime.bigint();
      referenceParsed(other);
      r = micros(t0);
    } else {
      t0 = process.hrtime.bigint();
      referenceParsed(other);
      r = micros(t0);
      t0 = process.hrtime.bigint();
      bytes += decideParsed(prepared, body).length;
      d = micros(t0);
    }
    decide[i] = d;
    reference[i] = r;
    decideTotal += d;
    const entry = byLabel.get(prepared.review.label) ?? { decide: [], reference: [] };
    entry.decide.push(d);
    entry.reference.push(r);
    byLabel.set(prepared.review.label, entry);
  }
  const categories = new Map<string, { decide: number[]; reference: number[] }>();
  for (const [label, entry] of byLabel) {
    const c = categories.get(categoryOf(label)) ?? { decide: [], reference: [] };
    c.decide.push(...entry.decide);
    c.reference.push(...entry.reference);
    categories.set(categoryOf(label), c);
  }

  // Memo-hit figure: the same decoded object decided again and again.
  const memo = new Map<string, number[]>();
  const memoRounds = Math.max(1, Math.floor(iterations / mix.length / 4));
  for (const prepared of mix) {
    const body: unknown = JSON.parse(prepared.text);
    const list = memo.get(prepared.review.label) ?? [];
    for (let i = 0; i < memoRounds; i++) {
      const t0 = process.hrtime.bigint();
      decideParsed(prepared, body);
      list.push(micros(t0));
    }
    memo.set(prepared.review.label, list);
  }
  const memoCategories = new Map<string, number[]>();
  for (const [label, list] of memo) memoCategories.set(categoryOf(label), [...(memoCategories.get(categoryOf(label)) ?? []), ...list]);

  // Logging: the decision line as the server writes it (createServerLogger: pino, asynchronous, buffered; the
  // compiled line of src/http/decision-log.ts on a request's child logger), for the decisions logged at info, on
  // results of fresh objects; timed per line and as CPU per batch. Beside it, batch by batch (which goes first
  // alternates), the same line through plain pino (`log.info(fields, msg)`, what the server did before): the ratio
  // of the two is what holds on a busy machine. A third series only builds the fields, timed the same way: the
  // floor (timer and fields) under both.
  const { logger } = createServerLogger('info', '/dev/null');
  const requestLog = logger.child({ reqId: 'req-1' });
  const logged = mix.filter((p) => decisionLogLevel(reviewAdmission(p.review.webhook, JSON.parse(p.text), { config, now: BENCH_NOW, factsFor })) === 'info');
  const lines = { compiled: { line: [] as number[], cpu: [] as number[] }, pino: { line: [] as number[], cpu: [] as number[] }, fields: { line: [] as number[], cpu: [] as number[] } };
  let built = 0;
  // Every batch is decided before any line is timed: building them while timing charged the
  // collector's work on their garbage to the log lines.
  const batches = Array.from({ length: 40 }, () =>
    Array.from({ length: 500 }, (_, i) => {
      const p = logged[i % logged.length] as PreparedReview;
      return { webhook: p.review.webhook, result: reviewAdmission(p.review.webhook, JSON.parse(p.text), { config, now: BENCH_NOW, factsFor }) };
    }),
  );
  const logBatch = (variant: keyof typeof lines, round: number, batch: (typeof batches)[number]) => {
    const into = lines[variant];
    const c0 = process.cpuUsage();
    for (const { webhook, result } of batch) {
      const t0 = process.hrtime.bigint();
      if (variant === 'compiled') decisionLogLine.write(requestLog, 'info', decisionLogFields(webhook, result));
      else if (variant === 'pino') requestLog.info(decisionLogFields(webhook, result), 'admission decision');
      else built += decisionLogFields(webhook, result).uid.length;
      if (round >= 10) into.line.push(micros(t0));
    }
    const c = process.cpuUsage(c0);
    if (round >= 10) into.cpu.push((c.user + c.system) / batch.length);
  };
  for (const [round, batch] of batches.entries()) {
    const order = round % 2 === 0 ? (['compiled', 'pino', 'fields'] as const) : (['fields', 'pino', 'compiled'] as const);
    for (const variant of order) logBatch(variant, round, batch);
  }
  logger.flush();
  const loggedShare = logged.length / mix.length;

  const bodyBytes = mix.reduce((sum, p) => sum + p.text.length, 0) / mix.length;
  const summary = (list: number[] | Float64Array) => summarize(Float64Array.from(list));
  emitResult({
    section: 'decision',
    unit: 'µs',
    iterations,
    perSecond: iterations / (decideTotal / 1e6),
    meanRequestBytes: Math.round(bodyBytes),
    meanResponseBytes: Math.round(bytes / iterations),
    all: summary(decide),
    reference: summary(reference),
    parse: summary(parse),
    logLine: summary(lines.compiled.line),
    logCpuMicros: mean(lines.compiled.cpu),
    logLinePino: summary(lines.pino.line),
    logCpuMicrosPino: mean(lines.pino.cpu),
    logFieldsOnly: summary(lines.fields.line),
    logFieldsBuilt: built,
    loggedShare,
    byCategory: [...categories].map(([category, e]) => ({ category, decide: summary(e.decide), reference: summary(e.reference), memoHit: summary(memoCategories.get(category) ?? []) })),
    byLabel: [...byLabel].map(([label, e]) => ({ label, decide: summary(e.decide), reference: summary(e.reference) })),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) main();
