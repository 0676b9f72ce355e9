import { roundUpMemory } from './memory-quantity.js';
import type { Labels, MemoryEvidence, MemorySeries, MemorySignal, PodFacts, WorkloadKind } from './observations.js';
import { CONTAINER_SIGNALS, MEMORY_SIGNALS } from './observations.js';
import { percentile } from './percentile.js';
import { groupWorkloads, workloadKey } from './workloads.js';

const MI = 2 ** 20;

/** The VPA recommender's memory defaults (vertical-pod-autoscaler recommender flags and model/container.go). */
export interface SizingOptions {
  /** `--target-memory-percentile` 0.9. */
  readonly percentile: number;
  /** `--recommendation-margin-fraction` 0.15. */
  readonly headroom: number;
  /** `OOMBumpUpRatio` 1.2 and `OOMMinBumpUp` 100MB: after an OOM, at least max(L × 1.2, L + 100Mi). */
  readonly oomBumpRatio: number;
  readonly oomMinBump: number;
}

export const DEFAULT_SIZING: SizingOptions = { percentile: 90, headroom: 0.15, oomBumpRatio: 1.2, oomMinBump: 100 * MI };

/** What one workload used and what it should request. All sizes are bytes. */
export interface WorkloadSizing {
  readonly namespace: string;
  readonly workload: string;
  readonly kind: WorkloadKind;
  readonly labels: Labels;
  readonly pods: number;
  /** The container measures the values came from (each pod's best; usually one). */
  readonly signals: readonly MemorySignal[];
  readonly samples: number;
  readonly p90: number;
  readonly peak: number;
  readonly oomKills: number;
  readonly currentRequest?: number;
  readonly currentLimit?: number;
  /** clean(P × (1 + headroom)), raised to clean(OOM bump) after an OOM: the memory request. */
  readonly recommended: number;
  /** clean(peak × (1 + headroom)): the memory limit must not be below it. */
  readonly limitFloor: number;
}

export interface SkippedWorkload {
  readonly namespace: string;
  readonly workload: string;
  readonly reason: 'GATEWAY' | 'NO_CONTAINER_MEMORY';
  /** Envoy-only signals that were found, when the container's memory was not. */
  readonly found: readonly MemorySignal[];
}

const maxOf = (values: readonly (number | undefined)[]): number | undefined => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
};

/**
 * Sizes every workload from its istio-proxy containers' memory: each pod's best container
 * signal (never Envoy's memory alone: pilot-agent shares the container), pooled across pods; P90 plus headroom, rounded up to a clean quantity; raised after an OOM to
 * the VPA bump of the limit it died at (the observed peak when the limit is unknown). Gateways
 * are sized apart: they get the gateway profile, not a workload one; one without the container's
 * memory keeps the built-in gateway profile.
 *
 * @example sizeWorkloads(evidence).sized[0].recommended // 83886080 (80Mi)
 */
export function sizeWorkloads(
  evidence: MemoryEvidence,
  options: SizingOptions = DEFAULT_SIZING,
): { sized: WorkloadSizing[]; gateways: WorkloadSizing[]; skipped: SkippedWorkload[] } {
  const seriesByPod = new Map<string, MemorySeries[]>();
  for (const s of evidence.series) seriesByPod.set(`${s.namespace}/${s.pod}`, [...(seriesByPod.get(`${s.namespace}/${s.pod}`) ?? []), s]);
  const sized: WorkloadSizing[] = [];
  const gateways: WorkloadSizing[] = [];
  const skipped: SkippedWorkload[] = [];
  for (const workload of groupWorkloads(evidence.pods)) {
    const id = { namespace: workload.namespace, workload: workload.name };
    const gateway = workload.pods.some((p) => p.gateway);
    if (gateway) skipped.push({ ...id, reason: 'GATEWAY', found: [] });
    const podSeries = workload.pods.map((p) => seriesByPod.get(`${p.namespace}/${p.pod}`) ?? []);
    // Each pod's best container measure; pods without one add nothing.
    const chosen = podSeries.flatMap((own) => {
      const signal = CONTAINER_SIGNALS.find((sig) => own.some((s) => s.signal === sig && s.values.length > 0));
      return signal === undefined ? [] : own.filter((s) => s.signal === signal);
    });
    if (chosen.length === 0) {
      if (!gateway) skipped.push({ ...id, reason: 'NO_CONTAINER_MEMORY', found: MEMORY_SIGNALS.filter((sig) => podSeries.flat().some((s) => s.signal === sig)) });
      continue;
    }
    const signals = CONTAINER_SIGNALS.filter((sig) => chosen.some((s) => s.signal === sig));
    const values = chosen.flatMap((s) => s.values);
    const p90 = percentile(values, options.percentile);
    const peak = Math.max(...values);
    const oomKilled = workload.pods.filter((p: PodFacts) => p.oomKills > 0);
    let recommended = roundUpMemory(p90 * (1 + options.headroom));
    if (oomKilled.length > 0) {
      const diedAt = maxOf(oomKilled.map((p) => p.memoryLimit)) ?? peak;
      recommended = Math.max(recommended, roundUpMemory(Math.max(diedAt * options.oomBumpRatio, diedAt + options.oomMinBump)));
    }
    const currentRequest = maxOf(workload.pods.map((p) => p.memoryRequest));
    const currentLimit = maxOf(workload.pods.map((p) => p.memoryLimit));
    (gateway ? gateways : sized).push({
      ...id,
      kind: workload.kind,
      labels: workload.labels,
      pods: workload.pods.length,
      signals,
      samples: values.length,
      p90,
      peak,
      oomKills: oomKilled.reduce((sum, p) => sum + p.oomKills, 0),
      ...(currentRequest === undefined ? {} : { currentRequest }),
      ...(currentLimit === undefined ? {} : { currentLimit }),
      recommended,
      limitFloor: roundUpMemory(peak * (1 + options.headroom)),
    });
  }
  const byKey = (a: WorkloadSizing, b: WorkloadSizing): number => workloadKey(a).localeCompare(workloadKey(b));
  return { sized: sized.sort(byKey), gateways: gateways.sort(byKey), skipped };
}
