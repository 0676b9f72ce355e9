import type { Config, Profile } from '../config/types.js';
import { finding, type Finding } from './decision.js';
import { formatBytes, formatCount, predictMemoryBytes, type MemoryModel } from './memory-model.js';
import { parseQuantity } from './quantity.js';
import { summarizeImports, type ImportSummary } from './service-imports.js';
import { findEffectiveSidecar } from './sidecar-scope.js';
import type { ClusterFacts, Labels, SidecarFacts } from './types.js';

/** What one proxy is predicted to hold and weigh. */
export interface MemoryPrediction extends ImportSummary {
  readonly bytes: number;
}

// Per import summary (summarizeImports hands out the same object until the catalog changes) and
// model (per config): every pod of a workload shares its prediction and the words for it.
const predictions = new WeakMap<ImportSummary, WeakMap<MemoryModel, MemoryPrediction>>();
const descriptions = new WeakMap<MemoryPrediction, string>();

/** The prediction for a proxy in `namespace` under `sidecar` (the effective one, or none). */
export function predictFor(namespace: string, sidecar: SidecarFacts | undefined, facts: ClusterFacts, config: Pick<Config, 'scope' | 'sizing'>): MemoryPrediction | undefined {
  if (facts.catalog === undefined) return undefined;
  const imports = summarizeImports(namespace, sidecar, facts.catalog, { clusterDomain: config.scope.clusterDomain, defaultExportTo: config.scope.defaultServiceExportTo });
  const model = config.sizing.model;
  let byModel = predictions.get(imports);
  if (byModel === undefined) predictions.set(imports, (byModel = new WeakMap()));
  let prediction = byModel.get(model);
  if (prediction === undefined) byModel.set(model, (prediction = { ...imports, bytes: predictMemoryBytes(imports, model) }));
  return prediction;
}

/**
 * The prediction for a workload with these pod labels: the Sidecar Istio applies to it decides
 * what it imports. Undefined when the cluster view keeps no catalog (prediction off).
 */
export function predictWorkload(namespace: string, podLabels: Labels, facts: ClusterFacts, config: Pick<Config, 'scope' | 'sizing'>): MemoryPrediction | undefined {
  if (facts.catalog === undefined) return undefined;
  return predictFor(namespace, findEffectiveSidecar(podLabels, facts)?.sidecar, facts, config);
}

/** The prediction with the configured margin on top: what a memory limit has to cover. */
export function requiredBytes(prediction: Pick<MemoryPrediction, 'bytes'>, config: Pick<Config, 'sizing'>): number {
  return Math.ceil(prediction.bytes * (1 + config.sizing.marginPercent / 100));
}

/** `imports 1,240 services / 3,100 clusters / 9,000 endpoints; predicted 410 MiB` */
export function describePrediction(prediction: MemoryPrediction): string {
  let text = descriptions.get(prediction);
  if (text === undefined) {
    text =
      `imports ${formatCount(prediction.services)} service${prediction.services === 1 ? '' : 's'} / ${formatCount(prediction.clusters)} clusters / ` +
      `${formatCount(prediction.endpoints)} endpoints; predicted ${formatBytes(prediction.bytes)}`;
    descriptions.set(prediction, text);
  }
  return text;
}

/**
 * A notice when the memory limit the proxy will get is below its prediction plus the margin.
 * `limit` is the effective proxyMemoryLimit (profile or the workload's own value).
 */
export function memoryLimitFinding(subject: string, prediction: MemoryPrediction, profile: string, limit: string, config: Pick<Config, 'sizing'>): Finding | undefined {
  const limitBytes = parseQuantity(limit);
  if (limitBytes === undefined || requiredBytes(prediction, config) <= limitBytes) return undefined;
  const numbers = `${describePrediction(prediction)}; profile ${profile} limits ${formatBytes(limitBytes)}`;
  const scoped = prediction.unscoped ? ' Nothing scopes it: a Sidecar listing what it calls shrinks the prediction.' : '';
  return finding(
    'PREDICTED_MEMORY_ABOVE_LIMIT',
    `${subject}: its istio-proxy ${numbers} (margin ${config.sizing.marginPercent}%), so it may be OOM-killed.${scoped} Pick a larger profile (sidecar-guard.io/profile) or narrow its Sidecar.`,
    `istio-proxy ${numbers}`,
  );
}

/**
 * The smallest of `candidates` whose memoryLimit covers the prediction plus the margin; the
 * largest when none does. Undefined when no candidate has a readable limit.
 */
export function smallestCovering(prediction: MemoryPrediction, candidates: readonly string[], profiles: Readonly<Record<string, Profile>>, config: Pick<Config, 'sizing'>): string | undefined {
  const needed = requiredBytes(prediction, config);
  const sized = candidates
    .map((name) => ({ name, limit: Object.hasOwn(profiles, name) ? parseQuantity(profiles[name]?.memoryLimit ?? '') : undefined }))
    .filter((p): p is { name: string; limit: number } => p.limit !== undefined)
    .sort((a, b) => a.limit - b.limit || (a.name < b.name ? -1 : 1));
  return (sized.find((p) => p.limit >= needed) ?? sized[sized.length - 1])?.name;
}
