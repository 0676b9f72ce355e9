/**
 * The watch-backed cluster view (src/cluster/watch-cluster-view.ts) syncing the large cluster
 * from the stand-in API server at `argv[2]`: time to sync, RSS held, lookup cost. Run with --expose-gc.
 */
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { readClusterFacts } from '../src/cluster/facts.js';
import type { ClusterView } from '../src/cluster/cluster-view.js';
import { BUILT_IN_CONFIG } from '../src/config/load-config.js';
import { EXT } from './child.js';
import { emitResult, gc, MB, summarize } from './stats.js';

interface WatchView extends ClusterView {
  waitForSync(timeoutMs?: number, pollMs?: number): Promise<void>;
}

/** Polls until the view's service catalog has synced (it may be absent from the tree: then at once). */
async function waitForCatalog(view: WatchView, timeoutMs: number): Promise<boolean> {
  if (view.catalog === undefined) return false;
  const deadline = Date.now() + timeoutMs;
  while (view.catalog() === undefined) {
    if (Date.now() > deadline) throw new Error(`service catalog not synced after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}
interface WatchModule {
  WatchClusterView: { start(options: { kubeConfig: KubeConfig; registry?: Registry; pageSize?: number }): Promise<WatchView> };
}

const url = process.argv[2];
if (!url) throw new Error('usage: watch-sync.ts <apiserver url>');
const namespaces = Number(process.env.BENCH_NAMESPACES ?? 10_000);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromOptions({
  clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
  users: [{ name: 'bench', token: 'bench-token' }],
  contexts: [{ name: 'fake', cluster: 'fake', user: 'bench' }],
  currentContext: 'fake',
});
gc();
const baselineRssMb = process.memoryUsage().rss / MB;
const modulePath = fileURLToPath(new URL(`../src/cluster/watch-cluster-view${EXT}`, import.meta.url));
const { WatchClusterView } = (await import(modulePath)) as WatchModule;
const pageSize = process.env.BENCH_PAGE_SIZE ? Number(process.env.BENCH_PAGE_SIZE) : undefined;
const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
const view = await WatchClusterView.start({ kubeConfig, registry: new Registry(), ...(pageSize ? { pageSize } : {}) });
await view.waitForSync(60_000, 5);
const syncSeconds = Number(process.hrtime.bigint() - started) / 1e9;
const withCatalog = await waitForCatalog(view, 120_000);
const ended = process.hrtime.bigint();
const catalogSyncSeconds = Number(ended - started) / 1e9;
const cpuDuringSync = process.cpuUsage(cpuBefore);
// The sync's seconds on the monotonic clock V8's profiler stamps samples with: profile-top.ts --window=FROM-TO.
process.stderr.write(`  [watch-sync.ts] sync window for profile-top.ts: --window=${started / 1000n}-${ended / 1000n}\n`);
let catalogCounts: Record<string, number> = {};
if (withCatalog) {
  const catalog = view.catalog?.();
  let services = 0;
  let endpoints = 0;
  for (const ns of catalog?.namespaces() ?? []) {
    for (const svc of catalog?.services(ns) ?? []) {
      services += 1;
      endpoints += catalog?.endpoints(ns, svc.name) ?? 0;
    }
  }
  catalogCounts = { services, endpoints };
}
if (view.namespace(`ns-${namespaces - 1}`) === undefined) throw new Error('synced view is missing namespaces');
gc();
const rssMb = process.memoryUsage().rss / MB;
const heapMb = process.memoryUsage().heapUsed / MB;
const lookups = new Float64Array(100_000);
let sink = 0;
for (let i = 0; i < lookups.length; i++) {
  const s = process.hrtime.bigint();
  sink += readClusterFacts(view, `ns-${(i * 7919) % namespaces}`, BUILT_IN_CONFIG).sidecars.length;
  lookups[i] = Number(process.hrtime.bigint() - s) / 1e3;
}
await view.close();
// Prediction cost on the synced view: an unscoped namespace and a scoped one, per admission.
const predictMicros = new Float64Array(withCatalog ? 20_000 : 0);
if (withCatalog) {
  const { predictWorkload } = (await import(fileURLToPath(new URL(`../src/policy/memory-check${EXT}`, import.meta.url)))) as {
    predictWorkload(ns: string, labels: Record<string, string>, facts: ReturnType<typeof readClusterFacts>, config: typeof BUILT_IN_CONFIG): { bytes: number } | undefined;
  };
  for (let i = 0; i < predictMicros.length; i++) {
    const ns = `ns-${(i * 7919) % namespaces}`;
    const s = process.hrtime.bigint();
    sink += predictWorkload(ns, { app: 'x' }, readClusterFacts(view, ns, BUILT_IN_CONFIG), BUILT_IN_CONFIG)?.bytes ?? 0;
    predictMicros[i] = Number(process.hrtime.bigint() - s) / 1e3;
  }
}
emitResult({
  section: 'watch',
  syncSeconds,
  catalogSyncSeconds,
  cpuSeconds: (cpuDuringSync.user + cpuDuringSync.system) / 1e6,
  pageSize: pageSize ?? 500,
  catalogCounts,
  baselineRssMb,
  rssMb,
  heapMb,
  lookupMicros: summarize(lookups),
  ...(withCatalog ? { predictMicros: summarize(predictMicros) } : {}),
  sink,
});
process.exit(0);
