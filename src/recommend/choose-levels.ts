export interface WeightedValue {
  readonly value: number;
  /** How much over-provisioning this value costs per byte: its pod count. */
  readonly weight: number;
}

/**
 * The fewest levels (at most `max`) that cover every value, each value served by the smallest
 * level at or above it. With no more distinct values than `max`, every distinct value is a
 * level and nothing is wasted. Otherwise the levels are chosen among the values (the largest
 * always among them) to minimise the total over-provisioning Σ weight × (level − value):
 * the 1-D k-levels dynamic programme, O(max × n²) over n distinct values.
 *
 * @example chooseLevels([{ value: 64, weight: 1 }, { value: 80, weight: 3 }, { value: 256, weight: 1 }], 2) // [80, 256]
 */
export function chooseLevels(values: readonly WeightedValue[], max: number): number[] {
  if (max < 1) throw new RangeError(`need at least one level, got ${max}`);
  const weights = new Map<number, number>();
  for (const v of values) weights.set(v.value, (weights.get(v.value) ?? 0) + v.weight);
  const distinct = [...weights.keys()].sort((a, b) => a - b);
  if (distinct.length <= max) return distinct;
  const n = distinct.length;
  const w = distinct.map((v) => weights.get(v) as number);
  // cost(a, b): values a..b all served by level distinct[b].
  const cost = (a: number, b: number): number => {
    let total = 0;
    for (let i = a; i <= b; i += 1) total += (w[i] as number) * ((distinct[b] as number) - (distinct[i] as number));
    return total;
  };
  // best[j][b]: least waste covering values 0..b with j levels, the last at b; from[j][b]: where its group starts.
  const best: number[][] = Array.from({ length: max + 1 }, () => new Array<number>(n).fill(Number.POSITIVE_INFINITY));
  const from: number[][] = Array.from({ length: max + 1 }, () => new Array<number>(n).fill(0));
  for (let b = 0; b < n; b += 1) (best[1] as number[])[b] = cost(0, b);
  for (let j = 2; j <= max; j += 1) {
    for (let b = j - 1; b < n; b += 1) {
      for (let a = j - 1; a <= b; a += 1) {
        const candidate = (best[j - 1] as number[])[a - 1] as number;
        const total = candidate + cost(a, b);
        if (total < ((best[j] as number[])[b] as number)) {
          (best[j] as number[])[b] = total;
          (from[j] as number[])[b] = a;
        }
      }
    }
  }
  const levels: number[] = [];
  for (let j = max, b = n - 1; j >= 1 && b >= 0; j -= 1) {
    levels.unshift(distinct[b] as number);
    b = j === 1 ? -1 : ((from[j] as number[])[b] as number) - 1;
  }
  return levels;
}
