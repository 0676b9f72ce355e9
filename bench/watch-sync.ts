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
interface WatchModule {
  WatchClusterView: { start(options: { kubeConfig: KubeConfig; registry?: Registry }): Promise<WatchView> };
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
const started = process.hrtime.bigint();
const view = await WatchClusterView.start({ kubeConfig, registry: new Registry() });
await view.waitForSync(60_000, 5);
const syncSeconds = Number(process.hrtime.bigint() - started) / 1e9;
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
emitResult({ section: 'watch', syncSeconds, baselineRssMb, rssMb, heapMb, lookupMicros: summarize(lookups), sink });
process.exit(0);
