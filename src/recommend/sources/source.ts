import type { CardinalityEvidence, MemoryEvidence, PodFacts, ProxyInventory, ScopeEvidence } from '../observations.js';
import type { ListedProxy, StatsSnapshot } from '../envoy-snapshot.js';
import { clustersFromSnapshots, memoryFromSnapshots, requestEdgesFromSnapshots, requestLabelsFromSnapshots } from '../envoy-snapshot.js';
import { podFactsFromName } from '../workload-identity.js';

/** Where the recommenders' evidence comes from; each command asks for the part it needs. */
export interface RecommendSource {
  memory(): Promise<MemoryEvidence>;
  scope(): Promise<ScopeEvidence>;
  cardinality(labels: readonly string[]): Promise<CardinalityEvidence>;
  /** Problems that did not stop the run (an unreachable pod, an unreadable file). */
  readonly warnings: readonly string[];
}

/** Scrapes of Envoy's own stats, plus whatever is known about the pods they came from. */
export interface SnapshotSet {
  readonly snapshots: readonly StatsSnapshot[];
  readonly pods: readonly PodFacts[];
  /** Clusters held, from listings (`/clusters`, config dumps) rather than stats. */
  readonly listings?: readonly ListedProxy[];
  /** The running istio-proxy pods the source listed, when it can list them. */
  readonly inventory?: ProxyInventory;
}

/** Pods that only appear in snapshots get facts from their names. */
function withNamedPods(set: SnapshotSet): PodFacts[] {
  const known = new Map(set.pods.map((p) => [`${p.namespace}/${p.pod}`, p]));
  for (const s of [...set.snapshots, ...(set.listings ?? [])]) {
    const key = `${s.namespace}/${s.pod}`;
    if (!known.has(key)) known.set(key, podFactsFromName(s.namespace, s.pod));
  }
  return [...known.values()];
}

/**
 * A source over scrapes taken once (pod proxy, saved dumps): `load` runs on first use only,
 * so one scrape serves every question.
 *
 * @example const source = snapshotSource(() => readStatsFiles(['dumps/']), warnings)
 */
export function snapshotSource(load: () => Promise<SnapshotSet>, warnings: string[] = []): RecommendSource {
  let loaded: Promise<SnapshotSet> | undefined;
  const get = async (): Promise<SnapshotSet> => {
    loaded ??= load();
    return loaded;
  };
  const scraped = (set: SnapshotSet): PodFacts[] => {
    const seen = new Set([...set.snapshots, ...(set.listings ?? [])].map((s) => `${s.namespace}/${s.pod}`));
    return withNamedPods(set).filter((p) => seen.has(`${p.namespace}/${p.pod}`));
  };
  return {
    warnings,
    async memory() {
      const set = await get();
      return { pods: scraped(set), series: memoryFromSnapshots(set.snapshots) };
    },
    async scope() {
      const set = await get();
      return {
        pods: scraped(set),
        proxies: clustersFromSnapshots(set.snapshots, set.listings),
        requests: requestEdgesFromSnapshots(set.snapshots),
        ...(set.inventory === undefined ? {} : { inventory: set.inventory }),
      };
    },
    async cardinality(labels) {
      const set = await get();
      return { pods: scraped(set), proxies: requestLabelsFromSnapshots(set.snapshots, labels) };
    },
  };
}
