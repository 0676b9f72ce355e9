/**
 * Nearest-rank percentile: the smallest observed value with at least `p` percent of the
 * observations at or below it. Chosen over interpolation so the result is always a value the
 * proxy really reached, and so a reader can check it by counting.
 *
 * @example percentile([10, 20, 30, 40], 90) // 40 (rank ceil(0.9 × 4) = 4)
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of no values');
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}
