import type { SizingConfig } from '../config/types.js';
import type { ImportSummary } from './service-imports.js';

/** Coefficients of the proxy memory model, in bytes (config `sizing.model`). */
export type MemoryModel = Readonly<SizingConfig['model']>;

/**
 * Defaults from published measurements (docs/memory-model.md has the derivations):
 * - perClusterBytes 42,000: Envoy's own memory test bounds the cost of one cluster with stats at
 *   42,000 bytes (envoyproxy/envoy test/integration/stats_integration_test.cc, MemoryLargeClusterSize);
 * - perEndpointBytes 3,000: the same test's bound per host (MemoryLargeHostSizeWithStats);
 * - baseBytes 36 MiB: istio/istio#18954 reports 50,992,288 bytes allocated with 325 clusters;
 *   less 325 × 42,000 that leaves 37.3 MB, rounded down to 36 MiB.
 */
export const DEFAULT_MEMORY_MODEL: MemoryModel = {
  baseBytes: 36 * 1024 * 1024,
  perClusterBytes: 42_000,
  perEndpointBytes: 3_000,
};

/** Predicted proxy memory in bytes: base + perCluster × clusters + perEndpoint × endpoints. */
export function predictMemoryBytes(imports: Pick<ImportSummary, 'clusters' | 'endpoints'>, model: MemoryModel): number {
  return Math.round(model.baseBytes + model.perClusterBytes * imports.clusters + model.perEndpointBytes * imports.endpoints);
}

const UNITS: readonly [string, number][] = [
  ['GiB', 1024 ** 3],
  ['MiB', 1024 ** 2],
  ['KiB', 1024],
];

/** Bytes for people: `410 MiB`, `3.1 GiB` (one decimal below 10 units, none above). */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  const size = Math.abs(bytes);
  for (const [unit, scale] of UNITS) {
    if (size >= scale) {
      const value = size / scale;
      return `${sign}${value < 10 ? value.toFixed(1).replace(/\.0$/, '') : Math.round(value).toString()} ${unit}`;
    }
  }
  return `${sign}${Math.round(size)} B`;
}

/** `1,240` */
export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
