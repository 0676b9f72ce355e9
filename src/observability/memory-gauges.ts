import { Gauge, type Registry } from 'prom-client';
import type { ClusterView } from '../cluster/cluster-view.js';
import { readClusterFacts } from '../cluster/facts.js';
import type { Config } from '../config/types.js';
import { predictWorkload, requiredBytes } from '../policy/memory-check.js';
import { isMeshNamespace } from '../policy/mesh-membership.js';
import { plainWorkloadProfile } from '../policy/profiles.js';
import { parseQuantity } from '../policy/quantity.js';

/** Namespaces labelled in the per-namespace gauges: the ones with the largest predictions. */
export const MEMORY_GAUGE_NAMESPACES = 20;

interface NamespacePrediction {
  readonly namespace: string;
  readonly predicted: number;
  readonly limit: number | undefined;
  readonly over: boolean;
}

/** A namespace's default proxy (no pod labels): the Sidecar and profile a plain workload there gets. */
function predictNamespaces(view: ClusterView, config: Config): NamespacePrediction[] {
  const catalog = view.catalog?.();
  if (!catalog) return [];
  const out: NamespacePrediction[] = [];
  for (const name of catalog.namespaces()) {
    const facts = readClusterFacts(view, name, config);
    if (!facts.namespace || !isMeshNamespace(facts.namespace.labels)) continue;
    const prediction = predictWorkload(name, {}, facts, config);
    if (!prediction) continue;
    const choice = plainWorkloadProfile(facts.namespace, {}, config);
    const limit = parseQuantity(choice.profile.memoryLimit);
    out.push({ namespace: name, predicted: prediction.bytes, limit, over: limit !== undefined && requiredBytes(prediction, config) > limit });
  }
  return out;
}

/**
 * Predicted proxy memory against the profile limit, per mesh namespace with Services. Cardinality
 * is bounded: only the MEMORY_GAUGE_NAMESPACES largest predictions get a `workload_namespace` label (not
 * `namespace`, which Prometheus sets to the scraped pod's own namespace and would rename); the
 * count of namespaces over their limit covers the rest. Computed at scrape time from the view.
 */
export function registerMemoryGauges(registry: Registry, view: ClusterView, config: () => Config): void {
  for (const name of ['sidecar_guard_predicted_proxy_memory_bytes', 'sidecar_guard_proxy_memory_limit_bytes', 'sidecar_guard_namespaces_predicted_over_limit']) {
    if (registry.getSingleMetric(name)) registry.removeSingleMetric(name);
  }
  let snapshot: { at: number; top: NamespacePrediction[]; over: number } | undefined;
  // The three gauges are collected one after another in one scrape: compute once for all three.
  const read = () => {
    const now = Date.now();
    if (snapshot === undefined || now - snapshot.at > 1000) {
      const all = predictNamespaces(view, config());
      const top = [...all].sort((a, b) => b.predicted - a.predicted || a.namespace.localeCompare(b.namespace)).slice(0, MEMORY_GAUGE_NAMESPACES);
      snapshot = { at: now, top, over: all.filter((p) => p.over).length };
    }
    return snapshot;
  };
  new Gauge({
    name: 'sidecar_guard_predicted_proxy_memory_bytes',
    help: `Predicted istio-proxy memory of a workload in the namespace under its namespace-wide scope (docs/memory-model.md); the ${MEMORY_GAUGE_NAMESPACES} largest.`,
    labelNames: ['workload_namespace'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of read().top) this.set({ workload_namespace: p.namespace }, p.predicted);
    },
  });
  new Gauge({
    name: 'sidecar_guard_proxy_memory_limit_bytes',
    help: 'Memory limit of the profile a workload in the namespace gets by default, for the namespaces in sidecar_guard_predicted_proxy_memory_bytes.',
    labelNames: ['workload_namespace'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of read().top) if (p.limit !== undefined) this.set({ workload_namespace: p.namespace }, p.limit);
    },
  });
  new Gauge({
    name: 'sidecar_guard_namespaces_predicted_over_limit',
    help: 'Mesh namespaces whose default proxy is predicted above its profile memory limit (with sizing.marginPercent).',
    registers: [registry],
    collect() {
      this.set(read().over);
    },
  });
}
