/**
 * Throughput and latency over HTTPS with keep-alive: the real sidecar-guard against a bare
 * Fastify HTTPS server that only parses the same bodies, in the same run, rounds alternated
 * (A B C C B A …; C is sidecar-guard with its decision log off) so background load hits both alike. Each server runs in its own process; its CPU
 * time per request is read from /proc, which is steadier than req/s on a shared machine.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { ensureCertDir } from '../src/certs/cert-dir.js';
import { postJson } from '../test/support/https-client.js';
import { processCpuSeconds, processRssBytes, spawnBench, waitForLine } from './child.js';
import { emitResult } from './stats.js';
import { reviewAdmission } from '../src/admission/review.js';
import { readClusterFacts } from '../src/cluster/facts.js';
import { FileClusterView } from '../src/cluster/file-cluster-view.js';
import { BUILT_IN_CONFIG } from '../src/config/load-config.js';
import { decisionLogLevel } from '../src/http/decision-log.js';
import { BENCH_NOW, benchCluster, benchReviews, weightedMix } from './workload.js';

export type Kind = 'guard' | 'guard-quiet' | 'bare';
const KINDS: readonly Kind[] = ['guard', 'guard-quiet', 'bare'];

export interface RoundResult {
  server: Kind;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  errors: number;
  serverCpuMicrosPerRequest: number;
  serverCpuShare: number;
  clientCpuShare: number;
}

export interface HttpResult {
  section: 'http';
  connections: number;
  durationSeconds: number;
  rounds: RoundResult[];
  totals: Record<Kind, { requestsPerSecond: number; p50Ms: number; p99Ms: number; cpuMicrosPerRequest: number; rssMb: number }>;
  throughputRatio: number;
  cpuRatio: number;
  quietThroughputRatio: number;
  quietCpuRatio: number;
  /** Share of the mix whose decision is logged at info (the rest only at debug). */
  loggedShare: number;
  /** Server CPU per request with the decision log on minus off. */
  logCpuMicrosPerRequest: number;
}

interface Running {
  child: ChildProcess;
  url: string;
}

async function start(kind: Kind, certDir: string): Promise<Running> {
  const child = spawnBench('http-server.ts', [kind, certDir]);
  const line = await waitForLine(child, 'listening ');
  return { child, url: line.split(' ')[0] as string };
}

function stop(running: Running): Promise<void> {
  return new Promise((resolve) => {
    running.child.once('exit', () => resolve());
    running.child.kill('SIGTERM');
  });
}

const MIX = weightedMix(benchReviews());
const REQUESTS = MIX.map((r) => ({
  method: 'POST',
  path: `/${r.webhook}`,
  headers: { 'content-type': 'application/json', accept: 'application/json, */*', 'user-agent': 'kube-apiserver-admission' },
  body: JSON.stringify(r.body),
}));

/** The share of the mix the server logs at info (the same decision the bench servers make). */
function loggedShare(): number {
  const view = FileClusterView.fromObjects(benchCluster());
  const factsFor = (namespace: string) => readClusterFacts(view, namespace, BUILT_IN_CONFIG);
  const logged = MIX.filter((r) => decisionLogLevel(reviewAdmission(r.webhook, r.body, { config: BUILT_IN_CONFIG, now: BENCH_NOW, factsFor })) === 'info');
  return logged.length / MIX.length;
}

/** Sends every review once and checks the real webhook's verdict, so the timed run measures the right work. */
async function verify(running: Running, kind: Kind, ca: string): Promise<void> {
  for (const review of benchReviews()) {
    const answer = await postJson(running.url, `/${review.webhook}`, review.body, { ca, servername: 'localhost' });
    if (answer.status !== 200) throw new Error(`${kind} ${review.label}: HTTP ${answer.status} ${answer.body}`);
    const json = JSON.parse(answer.body) as { response: { uid: string; auditAnnotations?: Record<string, string> } };
    if (json.response.uid !== (review.body.request as { uid: string }).uid) throw new Error(`${kind} ${review.label}: uid not echoed`);
    const decision = json.response.auditAnnotations?.decision;
    const expected = review.expect === 'audit_violation' ? 'would-deny' : review.expect;
    if (kind === 'guard' && decision !== expected) throw new Error(`${review.label}: expected ${expected}, got ${decision}`);
  }
}

async function round(running: Running, kind: Kind, ca: string, connections: number, duration: number): Promise<RoundResult> {
  const pid = running.child.pid as number;
  const cpuBefore = processCpuSeconds(pid);
  const clientBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  const result = await autocannon({ url: running.url, connections, pipelining: 1, duration, requests: REQUESTS, servername: 'localhost', tlsOptions: { ca } });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const serverCpu = processCpuSeconds(pid) - cpuBefore;
  const client = process.cpuUsage(clientBefore);
  const requests = result.requests.total;
  return {
    server: kind,
    requestsPerSecond: requests / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests,
    non2xx: result.non2xx,
    errors: result.errors,
    serverCpuMicrosPerRequest: (serverCpu * 1e6) / requests,
    serverCpuShare: serverCpu / wall,
    clientCpuShare: (client.user + client.system) / 1e6 / wall,
  };
}

export async function runHttpBench(options: { connections?: number; duration?: number; rounds?: number } = {}): Promise<HttpResult> {
  const connections = options.connections ?? Number(process.env.BENCH_CONNECTIONS ?? 8);
  const duration = options.duration ?? Number(process.env.BENCH_DURATION ?? 8);
  const pairs = options.rounds ?? Number(process.env.BENCH_ROUNDS ?? 2);
  const certDir = await mkdtemp(join(tmpdir(), 'sg-bench-'));
  await ensureCertDir(certDir, { service: 'sidecar-guard', namespace: 'sidecar-guard' });
  const ca = await readFile(join(certDir, 'ca.crt'), 'utf8');
  const servers: Record<Kind, Running> = { guard: await start('guard', certDir), 'guard-quiet': await start('guard-quiet', certDir), bare: await start('bare', certDir) };
  try {
    for (const kind of KINDS) await verify(servers[kind], kind, ca);
    // Warm-up: JIT, TLS session setup, connection pools.
    for (const kind of KINDS) await round(servers[kind], kind, ca, connections, 3);
    const rounds: RoundResult[] = [];
    for (let i = 0; i < pairs; i++) {
      const order: Kind[] = i % 2 === 0 ? [...KINDS] : [...KINDS].reverse();
      for (const kind of order) {
        const r = await round(servers[kind], kind, ca, connections, duration);
        process.stderr.write(`  [http] ${kind.padEnd(11)} ${r.requestsPerSecond.toFixed(0)} req/s, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, server CPU ${r.serverCpuMicrosPerRequest.toFixed(0)} µs/req (${(100 * r.serverCpuShare).toFixed(0)}% of a core), client ${(100 * r.clientCpuShare).toFixed(0)}%\n`);
        if (r.non2xx > 0 || r.errors > 0) throw new Error(`${kind}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
        rounds.push(r);
      }
    }
    const total = (kind: Kind) => {
      const mine = rounds.filter((r) => r.server === kind);
      const requests = mine.reduce((s, r) => s + r.requests, 0);
      const avg = (f: (r: RoundResult) => number) => mine.reduce((s, r) => s + f(r), 0) / mine.length;
      return {
        requestsPerSecond: avg((r) => r.requestsPerSecond),
        p50Ms: avg((r) => r.p50Ms),
        p99Ms: avg((r) => r.p99Ms),
        cpuMicrosPerRequest: mine.reduce((s, r) => s + r.serverCpuMicrosPerRequest * r.requests, 0) / requests,
        rssMb: processRssBytes(servers[kind].child.pid as number) / 1024 / 1024,
      };
    };
    const totals = { guard: total('guard'), 'guard-quiet': total('guard-quiet'), bare: total('bare') };
    const logged = loggedShare();
    return {
      section: 'http',
      connections,
      durationSeconds: duration,
      rounds,
      totals,
      throughputRatio: totals.guard.requestsPerSecond / totals.bare.requestsPerSecond,
      cpuRatio: totals.bare.cpuMicrosPerRequest / totals.guard.cpuMicrosPerRequest,
      quietThroughputRatio: totals['guard-quiet'].requestsPerSecond / totals.bare.requestsPerSecond,
      quietCpuRatio: totals.bare.cpuMicrosPerRequest / totals['guard-quiet'].cpuMicrosPerRequest,
      loggedShare: logged,
      logCpuMicrosPerRequest: totals.guard.cpuMicrosPerRequest - totals['guard-quiet'].cpuMicrosPerRequest,
    };
  } finally {
    await Promise.all(KINDS.map((kind) => stop(servers[kind])));
  }
}

if (import.meta.url === `file://${process.argv[1]}`) emitResult(await runHttpBench());
