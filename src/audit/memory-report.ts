import { plural } from '../cli/table.js';
import type { Config } from '../config/types.js';
import { predictFor, predictWorkload, requiredBytes } from '../policy/memory-check.js';
import { formatBytes, formatCount } from '../policy/memory-model.js';
import { isRecord } from '../policy/object-facts.js';
import { parseQuantity } from '../policy/quantity.js';
import type { ClusterFacts, Labels, SidecarFacts } from '../policy/types.js';

/** A workload's predicted proxy memory, for audit and explain. */
export interface WorkloadMemory {
  readonly services: number;
  readonly clusters: number;
  readonly endpoints: number;
  readonly predictedBytes: number;
  /** The memory limit its proxy gets (after the mutating webhook), when known. */
  readonly limit?: string;
  /** limit − prediction; negative when the prediction (before the margin) is above the limit. */
  readonly headroomBytes?: number;
  /** True when the limit does not cover the prediction plus `sizing.marginPercent`. */
  readonly overLimit: boolean;
  readonly unscoped: boolean;
  /** Pods it runs: `spec.replicas` (1 when unset or not a replicated kind). */
  readonly replicas: number;
  /** Per-pod prediction under the suggested Sidecar (scope.suggestedEgressHosts), when smaller. */
  readonly scopedBytes?: number;
}

/** Memory that scoping a namespace with the suggested Sidecar would save across its pods. */
export interface ScopingSaving {
  readonly namespace: string;
  readonly pods: number;
  readonly savedBytes: number;
}

function replicasOf(object: unknown): number {
  const spec = isRecord(object) && isRecord(object.spec) ? object.spec : {};
  const replicas = spec.replicas;
  return typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 0 ? replicas : 1;
}

/** The prediction for one workload, with the saving the suggested Sidecar would bring; undefined without a catalog. */
export function workloadMemory(namespace: string, podLabels: Labels, object: unknown, facts: ClusterFacts, config: Config, limit: string | undefined): WorkloadMemory | undefined {
  const prediction = predictWorkload(namespace, podLabels, facts, config);
  if (!prediction) return undefined;
  const suggested: SidecarFacts = { namespace, name: 'default', egressHosts: config.scope.suggestedEgressHosts, hasEgress: true };
  const scoped = predictFor(namespace, suggested, facts, config);
  const limitBytes = limit !== undefined ? parseQuantity(limit) : undefined;
  return {
    services: prediction.services,
    clusters: prediction.clusters,
    endpoints: prediction.endpoints,
    predictedBytes: prediction.bytes,
    ...(limit !== undefined ? { limit } : {}),
    ...(limitBytes !== undefined ? { headroomBytes: limitBytes - prediction.bytes } : {}),
    overLimit: limitBytes !== undefined && requiredBytes(prediction, config) > limitBytes,
    unscoped: prediction.unscoped,
    replicas: replicasOf(object),
    ...(scoped && scoped.bytes < prediction.bytes ? { scopedBytes: scoped.bytes } : {}),
  };
}

/** Namespaces by the memory scoping them would save across their pods, largest first. */
export function rankSavings(workloads: readonly { namespace: string; memory?: WorkloadMemory }[]): ScopingSaving[] {
  const byNamespace = new Map<string, { pods: number; savedBytes: number }>();
  for (const { namespace, memory } of workloads) {
    if (!memory || memory.scopedBytes === undefined || !memory.unscoped) continue;
    const entry = byNamespace.get(namespace) ?? { pods: 0, savedBytes: 0 };
    entry.pods += memory.replicas;
    entry.savedBytes += (memory.predictedBytes - memory.scopedBytes) * memory.replicas;
    byNamespace.set(namespace, entry);
  }
  return [...byNamespace.entries()]
    .map(([namespace, s]) => ({ namespace, ...s }))
    .filter((s) => s.savedBytes > 0)
    .sort((a, b) => b.savedBytes - a.savedBytes || a.namespace.localeCompare(b.namespace));
}

/** `imports 1,240 services / 3,100 clusters / 9,000 endpoints; predicted 410 MiB, limit 256Mi (over)` */
export function describeWorkloadMemory(memory: WorkloadMemory): string {
  const limit = memory.limit !== undefined ? `, limit ${memory.limit}${memory.overLimit ? ' (below the prediction + margin)' : ''}` : '';
  return `imports ${formatCount(memory.services)} services / ${formatCount(memory.clusters)} clusters / ${formatCount(memory.endpoints)} endpoints; predicted ${formatBytes(memory.predictedBytes)}${limit}`;
}

/** The memory section of the audit table: per-workload predictions, then the savings ranking. */
export function renderMemorySection(workloads: readonly { namespace: string; kind: string; name: string; memory?: WorkloadMemory }[], savings: readonly ScopingSaving[], suggestedHosts: readonly string[]): string[] {
  const rows = workloads.filter((w) => w.memory !== undefined);
  if (rows.length === 0) return [];
  const lines = ['', 'Predicted proxy memory (docs/memory-model.md):'];
  for (const w of rows) if (w.memory) lines.push(`  ${w.namespace}/${w.kind}/${w.name}: ${describeWorkloadMemory(w.memory)}`);
  if (savings.length > 0) {
    lines.push('', `Scoping with the suggested Sidecar (egress ${suggestedHosts.join(', ')}) would save:`);
    for (const s of savings) lines.push(`  ${s.namespace}: ~${formatBytes(s.savedBytes)} across ${plural(s.pods, 'pod')}`);
  }
  return lines;
}
