const UNIT_SECONDS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Parses a Prometheus-style duration ("90s", "5m", "1h30m", "7d") to seconds.
 *
 * @example parseDuration('1h30m') // 5400
 */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new RangeError(`not a duration: "${text}" (try 90s, 5m, 24h, 7d)`);
  return parts.reduce((total, [, amount = '0', unit = 's']) => total + Number(amount) * (UNIT_SECONDS[unit] as number), 0);
}
