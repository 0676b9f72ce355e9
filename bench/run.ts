/**
 * `npm run bench`: every benchmark, each in its own process, then one summary table.
 * Sections: decision, http, cluster, soak (all by default; `npm run bench -- http soak` for some), and
 * sync: the watch-backed view's sync alone (also part of cluster), BENCH_SYNC_ROUNDS times.
 * Knobs (env): BENCH_DURATION (s per HTTP round, 8), BENCH_ROUNDS (A/B pairs, 2),
 * BENCH_CONNECTIONS (8), BENCH_DECISIONS (200000), BENCH_SOAK_REVIEWS (1000000),
 * BENCH_NAMESPACES / BENCH_SIDECARS (10000 / 20000), BENCH_NODE_FLAGS (e.g. --cpu-prof),
 * BENCH_TSX=1 (run the sources under tsx instead of the compiled copy), BENCH_PAGE_SIZE (the view's LIST
 * page size; default the view's own).
 * Numbers are printed, never asserted: this machine is shared and noisy.
 */
import { cpus, totalmem } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { compileBench, processCpuSeconds, ROOT, runSection, spawnBench, waitForLine } from './child.js';
import type { HttpResult } from './http.js';

interface Summary { count: number; mean: number; p50: number; p90: number; p99: number; max: number }
interface DecisionResult {
  iterations: number; perSecond: number; meanRequestBytes: number; all: Summary; reference: Summary; parse: Summary;
  logLine: Summary; logCpuMicros: number; loggedShare: number;
  /** The same lines through plain pino, timed beside them (absent from benches before it was added). */
  logLinePino?: Summary; logCpuMicrosPino?: number;
  /** Only the fields built, timed the same way: the floor under both lines. */
  logFieldsOnly?: Summary;
  byCategory: { category: string; decide: Summary; reference: Summary; memoHit: Summary }[];
  byLabel: { label: string; decide: Summary; reference: Summary }[];
}
interface ClusterResult {
  namespaces: number; sidecars: number; listBytes: number; indexBuildSeconds: number; fileLoadSeconds: number;
  baselineRssMb: number; rssWithViewMb: number; heapWithViewMb: number; lookupMicros: Summary; decisionMs: Summary;
}
interface WatchResult {
  syncSeconds: number;
  catalogSyncSeconds: number;
  /** CPU (user + system) of the view's process from start to the catalog synced. */
  cpuSeconds: number;
  pageSize: number;
  /** CPU of the stand-in API server's process while the view synced (added by watchSync). */
  standInCpuSeconds?: number;
  catalogCounts: { services?: number; endpoints?: number };
  baselineRssMb: number;
  rssMb: number;
  heapMb: number;
  lookupMicros: Summary;
  predictMicros?: Summary;
}
interface SoakResult { reviews: number; seconds: number; samples: { reviews: number; rssMb: number; heapUsedMb: number }[]; rssGrowth: number; heapGrowth: number }

/** `sync` is the watch-backed view's sync alone (part of `cluster`), for quick before/after runs. */
const ALL = ['decision', 'http', 'cluster', 'sync', 'soak'] as const;
type Section = (typeof ALL)[number];
const wanted = process.argv.slice(2).filter((a): a is Section => (ALL as readonly string[]).includes(a));
const sections: readonly Section[] = wanted.length > 0 ? wanted : ALL.filter((s) => s !== 'sync');

const rows: [string, string, string, string][] = [];
const row = (what: string, value: string, target: string, met: boolean | undefined) => rows.push([what, value, target, met === undefined ? '' : met ? 'met' : 'NOT met']);
const f = (n: number, digits = 1) => n.toFixed(digits);

const cpu = cpus()[0]?.model ?? 'unknown CPU';
// Measure the JavaScript `npm start` runs, not the tsx loader: BENCH_TSX=1 skips the compile.
if (process.env.BENCH_TSX !== '1') {
  process.stderr.write('compiling (tsc) …\n');
  compileBench();
  process.env.SG_BENCH_COMPILED = '1';
}
process.stderr.write(`sidecar-guard benchmarks on ${cpus().length} × ${cpu}, ${f(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}\n`);

if (sections.includes('decision')) {
  process.stderr.write('decision cost in process (fresh objects; µs; reference = read uid + encode a fixed answer) …\n');
  const d = await runSection<DecisionResult>('decision.ts');
  for (const l of d.byLabel) process.stderr.write(`  ${l.label.padEnd(52)} p50 ${f(l.decide.p50).padStart(5)}  p99 ${f(l.decide.p99).padStart(5)}  (reference p50 ${f(l.reference.p50)}, p99 ${f(l.reference.p99)})\n`);
  row(`JSON.parse of the body (${d.meanRequestBytes} B mean), timed apart`, `p50 ${f(d.parse.p50)} µs, p99 ${f(d.parse.p99)} µs`, '', undefined);
  row('do-nothing reference (read uid, encode a fixed answer), same objects', `p50 ${f(d.reference.p50)} µs, p99 ${f(d.reference.p99)} µs`, '', undefined);
  const target: Record<string, [string, (s: Summary, r: Summary) => boolean]> = {
    'not in mesh (validate and mutate)': ['p50 < 2 µs (decoded body to encoded answer)', (s) => s.p50 < 2],
    'in mesh, mutate with a patch': ['p99 < 10 µs', (s) => s.p99 < 10],
    'in mesh, validate (allowed)': ['p99 < 10 µs', (s) => s.p99 < 10],
  };
  for (const c of d.byCategory) {
    const [text, met] = target[c.category] ?? ['', undefined];
    row(`decision, ${c.category}: fresh objects (memo hit: same object again)`, `p50 ${f(c.decide.p50)} µs, p99 ${f(c.decide.p99)} µs; reference p50 ${f(c.reference.p50)}, p99 ${f(c.reference.p99)}; memo hit p50 ${f(c.memoHit.p50)}, p99 ${f(c.memoHit.p99)}`, text, met?.(c.decide, c.reference));
  }
  row(`decision log line at info (compiled line, async destination; ${f(100 * d.loggedShare, 0)}% of the mix is logged at info, the rest at debug)`, `p50 ${f(d.logLine.p50)} µs, p99 ${f(d.logLine.p99)} µs, ${f(d.logCpuMicros)} µs CPU per line`, '< 3 µs per logged request', d.logLine.p50 < 3 && d.logCpuMicros < 3);
  if (d.logLinePino && d.logCpuMicrosPino !== undefined) {
    row('the same line through plain pino, alternated batch by batch (before)', `p50 ${f(d.logLinePino.p50)} µs, p99 ${f(d.logLinePino.p99)} µs, ${f(d.logCpuMicrosPino)} µs CPU per line; compiled / pino: p50 ${f(d.logLine.p50 / d.logLinePino.p50, 2)}, CPU ${f(d.logCpuMicros / d.logCpuMicrosPino, 2)}${d.logFieldsOnly ? `; timer and fields alone p50 ${f(d.logFieldsOnly.p50)} µs` : ''}`, '', undefined);
  }
  row(`decision over the whole mix (decode+decide+patch+encode)`, `p50 ${f(d.all.p50)} µs, p99 ${f(d.all.p99)} µs, ${f(d.perSecond, 0)}/s on one core`, 'p99 < 200 µs', d.all.p99 < 200);
}

if (sections.includes('http')) {
  process.stderr.write('HTTPS throughput, sidecar-guard vs bare Fastify, rounds alternated …\n');
  const h = await runSection<HttpResult>('http.ts');
  const g = h.totals.guard;
  const b = h.totals.bare;
  row(`HTTPS sidecar-guard (${h.connections} keep-alive connections)`, `${f(g.requestsPerSecond, 0)} req/s, p50 ${f(g.p50Ms)} ms, p99 ${f(g.p99Ms)} ms, ${f(g.cpuMicrosPerRequest, 0)} µs CPU/req`, '', undefined);
  row('HTTPS bare Fastify (parse + fixed answer)', `${f(b.requestsPerSecond, 0)} req/s, p50 ${f(b.p50Ms)} ms, p99 ${f(b.p99Ms)} ms, ${f(b.cpuMicrosPerRequest, 0)} µs CPU/req`, '', undefined);
  const q = h.totals['guard-quiet'];
  row('HTTPS sidecar-guard, decision log off', `${f(q.requestsPerSecond, 0)} req/s, p50 ${f(q.p50Ms)} ms, p99 ${f(q.p99Ms)} ms, ${f(q.cpuMicrosPerRequest, 0)} µs CPU/req`, '', undefined);
  row('RSS of the sidecar-guard server after its rounds (no forced GC)', `${f(g.rssMb)} MB (bare: ${f(b.rssMb)} MB)`, '', undefined);
  row('throughput ratio sidecar-guard / bare', `${f(h.throughputRatio, 2)} (CPU-per-request ratio ${f(h.cpuRatio, 2)}; log off ${f(h.quietThroughputRatio, 2)}, CPU ${f(h.quietCpuRatio, 2)})`, '>= 0.80', h.throughputRatio >= 0.8);
  row(`decision log in the server: CPU per request, log on minus off (${f(100 * h.loggedShare, 0)}% of the mix logged)`, `${f(h.logCpuMicrosPerRequest)} µs (the rounds' own spread is wider on a busy machine; the line itself is timed in the decision section)`, '', undefined);
}

/** The watch-backed view against the stand-in API server (its own process), when both are in the tree. */
async function watchSync(): Promise<WatchResult | string> {
  if (!existsSync(join(ROOT, 'src/cluster/watch-cluster-view.ts')) || !existsSync(join(ROOT, 'test/support/fake-apiserver.ts'))) {
    return 'pending: src/cluster/watch-cluster-view.ts or test/support/fake-apiserver.ts not in the tree';
  }
  const host = spawnBench('fake-apiserver-host.ts');
  try {
    const url = await waitForLine(host, 'listening ');
    const hostCpu = processCpuSeconds(host.pid as number);
    const result = await runSection<WatchResult>('watch-sync.ts', ['--expose-gc'], [url]);
    // After the sync the stand-in only holds idle watches: its CPU over the section is the sync's.
    return { ...result, standInCpuSeconds: processCpuSeconds(host.pid as number) - hostCpu };
  } finally {
    host.kill('SIGTERM');
  }
}

/** The watch-backed view's rows: sync times, the view's own CPU beside the stand-in's, RSS; against the targets. */
async function watchRows(namespaces: number, sidecars: number): Promise<void> {
  const w = await watchSync();
  if (typeof w === 'string') {
    row('watch-backed view: sync from the stand-in API server', w, 'sync < 3 s', undefined);
    return;
  }
  row(`watch-backed view: LIST+WATCH sync of ${namespaces} Namespaces + ${sidecars} Sidecars from the stand-in API server (page size ${w.pageSize})`, `${f(w.syncSeconds, 2)} s`, 'sync < 3 s', w.syncSeconds < 3);
  const { services, endpoints } = w.catalogCounts;
  if (services !== undefined) {
    row(
      `watch-backed view: + ${services.toLocaleString('en')} Services, ${endpoints?.toLocaleString('en')} endpoints (EndpointSlices) and ServiceEntries synced`,
      `${f(w.catalogSyncSeconds, 2)} s from start`,
      'sync < 5 s',
      w.catalogSyncSeconds < 5,
    );
  }
  row(
    'watch-backed view: CPU while syncing, view process (stand-in API server process)',
    `${f(w.cpuSeconds, 2)} s (${w.standInCpuSeconds === undefined ? '?' : f(w.standInCpuSeconds, 2)} s)`,
    '',
    undefined,
  );
  row('watch-backed view: process RSS when synced (after GC)', `${f(w.rssMb)} MB (heap ${f(w.heapMb)} MB; before ${f(w.baselineRssMb)} MB)`, services !== undefined ? '< 250 MB' : '< 150 MB', w.rssMb < (services !== undefined ? 250 : 150));
  if (w.predictMicros) row('memory prediction per admission on the synced view', `p50 ${f(w.predictMicros.p50, 2)} µs, p99 ${f(w.predictMicros.p99, 2)} µs`, '', undefined);
  row('watch-backed view: lookup (readClusterFacts)', `p50 ${f(w.lookupMicros.p50, 2)} µs, p99 ${f(w.lookupMicros.p99, 2)} µs`, '', undefined);
}

if (sections.includes('cluster')) {
  process.stderr.write('cluster scale …\n');
  const c = await runSection<ClusterResult>('cluster-scale.ts', ['--expose-gc']);
  row(`index build, ${c.namespaces} Namespaces + ${c.sidecars} Sidecars in memory`, `${f(c.indexBuildSeconds, 2)} s`, 'sync < 3 s', c.indexBuildSeconds < 3);
  row(`same cluster from a ${f(c.listBytes / 2 ** 20)} MB file (serve --cluster-state)`, `${f(c.fileLoadSeconds, 2)} s`, '', undefined);
  await watchRows(c.namespaces, c.sidecars);
  row('process RSS holding the view (after GC)', `${f(c.rssWithViewMb)} MB (heap ${f(c.heapWithViewMb)} MB; empty process ${f(c.baselineRssMb)} MB)`, '< 150 MB', c.rssWithViewMb < 150);
  row('lookup (readClusterFacts) on the big view', `p50 ${f(c.lookupMicros.p50, 2)} µs, p99 ${f(c.lookupMicros.p99, 2)} µs`, '', undefined);
  row('mutate decision on the big view', `p50 ${f(c.decisionMs.p50 * 1000, 0)} µs, p99 ${f(c.decisionMs.p99 * 1000, 0)} µs`, '', undefined);
}

if (sections.includes('sync')) {
  // BENCH_SYNC_ROUNDS repeats it (each round a fresh stand-in and view) to see the run-to-run spread.
  const rounds = Number(process.env.BENCH_SYNC_ROUNDS ?? 1);
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`watch-backed view sync, round ${round} of ${rounds} …\n`);
    await watchRows(Number(process.env.BENCH_NAMESPACES ?? 10_000), Number(process.env.BENCH_SIDECARS ?? 20_000));
  }
}

if (sections.includes('soak')) {
  process.stderr.write('memory over time …\n');
  const s = await runSection<SoakResult>('soak.ts', ['--expose-gc']);
  const first = s.samples[0];
  const last = s.samples.at(-1);
  row(`RSS after ${s.reviews.toLocaleString('en')} reviews vs after ${first?.reviews.toLocaleString('en')}`, `${f(last?.rssMb ?? NaN)} MB vs ${f(first?.rssMb ?? NaN)} MB (${s.rssGrowth >= 0 ? '+' : ''}${f(100 * s.rssGrowth)}%; heap ${f(last?.heapUsedMb ?? NaN)} vs ${f(first?.heapUsedMb ?? NaN)} MB)`, 'within 5%', Math.abs(s.rssGrowth) <= 0.05 || s.rssGrowth < 0);
}

const widths = [0, 1, 2, 3].map((i) => Math.max(...[['measure', 'result', 'target', ''], ...rows].map((r) => (r[i] ?? '').length)));
const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
console.log(`\nsidecar-guard benchmarks — ${cpus().length} × ${cpu}, ${f(totalmem() / 2 ** 30, 0)} GiB, Node ${process.version}\n`);
console.log(line(['measure', 'result', 'target', '']));
console.log(line(widths.map((w) => '-'.repeat(w))));
for (const r of rows) console.log(line(r));
