import type { MemoryModel } from '../policy/memory-model.js';
import type { MemorySeries, ProxyClusters } from './observations.js';

/** One proxy's memory against the configuration it holds. */
export interface CalibrationSample {
  readonly bytes: number;
  readonly clusters: number;
  /** Endpoints over its clusters; when any sample lacks it, the fit leaves perEndpointBytes out. */
  readonly endpoints?: number;
}

export interface CalibrationFit {
  readonly model: MemoryModel;
  readonly samples: number;
  /** Whether endpoints were fitted (every sample had a count) or perEndpointBytes was held at `fixedPerEndpointBytes`. */
  readonly fittedEndpoints: boolean;
  /** Root mean square error of the fit, in bytes. */
  readonly rmseBytes: number;
  /** Largest |predicted − observed| / observed over the samples. */
  readonly maxRelativeError: number;
  /** Coefficient of determination (1 = a perfect fit; undefined when every sample weighs the same). */
  readonly r2?: number;
}

export class CalibrationError extends Error {}

/** Solves A x = b by Gaussian elimination with partial pivoting; undefined when A is singular. */
function solve(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(m[row]?.[col] ?? 0) > Math.abs(m[pivot]?.[col] ?? 0)) pivot = row;
    const scale = Math.max(...m.map((row) => Math.abs(row[col] ?? 0)), 1);
    if (Math.abs(m[pivot]?.[col] ?? 0) / scale < 1e-12) return undefined;
    [m[col], m[pivot]] = [m[pivot] ?? [], m[col] ?? []];
    for (let row = 0; row < n; row++) {
      if (row === col) continue;
      const factor = (m[row]?.[col] ?? 0) / (m[col]?.[col] ?? 1);
      for (let k = col; k <= n; k++) (m[row] as number[])[k] = (m[row]?.[k] ?? 0) - factor * (m[col]?.[k] ?? 0);
    }
  }
  return m.map((row, i) => (row[n] ?? 0) / (row[i] ?? 1));
}

/**
 * Fits `bytes = base + perCluster × clusters (+ perEndpoint × endpoints)` by ordinary least
 * squares. Without endpoint counts for every sample, perEndpointBytes stays at
 * `fixedPerEndpointBytes` and is subtracted first. Refuses fits that cannot be told apart
 * (too few samples, every proxy holding the same number of clusters).
 *
 * @example fitMemoryModel(samples, 3000).model.perClusterBytes
 */
export function fitMemoryModel(samples: readonly CalibrationSample[], fixedPerEndpointBytes: number): CalibrationFit {
  const usable = samples.filter((s) => Number.isFinite(s.bytes) && s.bytes > 0 && Number.isFinite(s.clusters) && s.clusters >= 0);
  const fittedEndpoints = usable.length > 0 && usable.every((s) => s.endpoints !== undefined && Number.isFinite(s.endpoints));
  const unknowns = fittedEndpoints ? 3 : 2;
  if (usable.length < unknowns + 1) {
    throw new CalibrationError(`need at least ${unknowns + 1} proxies with memory and cluster counts to fit ${unknowns} coefficients; got ${usable.length}`);
  }
  const rows = usable.map((s) => (fittedEndpoints ? [1, s.clusters, s.endpoints ?? 0] : [1, s.clusters]));
  const targets = usable.map((s) => (fittedEndpoints ? s.bytes : s.bytes - fixedPerEndpointBytes * (s.endpoints ?? 0)));
  const ata = Array.from({ length: unknowns }, (_, i) => Array.from({ length: unknowns }, (_, j) => rows.reduce((sum, r) => sum + (r[i] ?? 0) * (r[j] ?? 0), 0)));
  const atb = Array.from({ length: unknowns }, (_, i) => rows.reduce((sum, r, k) => sum + (r[i] ?? 0) * (targets[k] ?? 0), 0));
  const x = solve(ata, atb);
  if (!x) {
    throw new CalibrationError(
      fittedEndpoints
        ? 'the proxies do not vary enough to tell base, per-cluster and per-endpoint cost apart (include proxies of different scope)'
        : 'every proxy holds the same number of clusters: include proxies of different scope (scoped and unscoped) to fit the per-cluster cost',
    );
  }
  const [base = 0, perCluster = 0, perEndpoint = fixedPerEndpointBytes] = x;
  const model: MemoryModel = { baseBytes: Math.round(base), perClusterBytes: Math.round(perCluster), perEndpointBytes: Math.round(fittedEndpoints ? perEndpoint : fixedPerEndpointBytes) };
  const predicted = usable.map((s) => model.baseBytes + model.perClusterBytes * s.clusters + model.perEndpointBytes * (s.endpoints ?? 0));
  const residuals = usable.map((s, i) => (predicted[i] ?? 0) - s.bytes);
  const rmseBytes = Math.sqrt(residuals.reduce((sum, r) => sum + r * r, 0) / usable.length);
  const maxRelativeError = Math.max(...usable.map((s, i) => Math.abs(residuals[i] ?? 0) / s.bytes));
  const mean = usable.reduce((sum, s) => sum + s.bytes, 0) / usable.length;
  const total = usable.reduce((sum, s) => sum + (s.bytes - mean) ** 2, 0);
  const r2 = total > 0 ? 1 - residuals.reduce((sum, r) => sum + r * r, 0) / total : undefined;
  return { model, samples: usable.length, fittedEndpoints, rmseBytes, maxRelativeError, ...(r2 !== undefined ? { r2 } : {}) };
}

/** Problems with a fit that make it unsafe to use as is, for the printout. */
export function fitWarnings(fit: CalibrationFit): string[] {
  const warnings: string[] = [];
  if (fit.model.baseBytes < 0) warnings.push('the fitted base is negative: the samples do not cover small proxies; keep the default base');
  if (fit.model.perClusterBytes <= 0) warnings.push('the fitted per-cluster cost is not positive: memory does not follow cluster count in these samples');
  if (fit.fittedEndpoints && fit.model.perEndpointBytes < 0) warnings.push('the fitted per-endpoint cost is negative');
  if (fit.maxRelativeError > 0.25) warnings.push(`some proxies are off by ${Math.round(fit.maxRelativeError * 100)}%: check for traffic-driven memory (buffers, connections)`);
  return warnings;
}

/**
 * Samples from what `recommend` already reads: per proxy, the median of one memory signal
 * (`allocated` matches the published coefficients; `working_set` what the limit is measured
 * against) and `envoy_cluster_manager_active_clusters`. Proxies without both are left out;
 * endpoint counts are not in Istio's default stats, so they are left unset.
 */
export function calibrationSamples(series: readonly MemorySeries[], clusters: readonly ProxyClusters[], signal: MemorySeries['signal']): CalibrationSample[] {
  const active = new Map(clusters.filter((c) => c.activeClusters !== undefined).map((c) => [`${c.namespace}/${c.pod}`, c.activeClusters ?? 0]));
  const samples: CalibrationSample[] = [];
  for (const s of series) {
    if (s.signal !== signal || s.values.length === 0) continue;
    const count = active.get(`${s.namespace}/${s.pod}`);
    if (count === undefined) continue;
    const sorted = [...s.values].sort((a, b) => a - b);
    samples.push({ bytes: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0, clusters: count });
  }
  return samples;
}
