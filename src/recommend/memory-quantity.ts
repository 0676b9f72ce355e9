const MI = 2 ** 20;
const GI = 2 ** 30;

/** The smallest clean memory quantity: an Envoy sidecar does not start in less. */
export const MIN_CLEAN_MEMORY = 16 * MI;

/**
 * Rounds a byte count up to a clean quantity: four steps per power of two, so values in
 * (2^k, 2^(k+1)] Mi go up in steps of 2^(k-2) Mi (…, 64, 80, 96, 112, 128, 160, 192, 224,
 * 256, 320, …), never below 16Mi. Each step is at most 25% above the one before, and
 * doubling a clean value gives a clean value.
 *
 * @example roundUpMemory(70 * 2 ** 20) / 2 ** 20 // 80
 */
export function roundUpMemory(bytes: number): number {
  if (!Number.isFinite(bytes)) throw new RangeError(`not a byte count: ${bytes}`);
  if (bytes <= MIN_CLEAN_MEMORY) return MIN_CLEAN_MEMORY;
  const mebibytes = bytes / MI;
  // Values a hair above a power of two (float noise) still round to that power.
  const exponent = Math.ceil(Math.log2(mebibytes) - 1e-9) - 1;
  const step = 2 ** (exponent - 2);
  return Math.ceil(mebibytes / step - 1e-9) * step * MI;
}

/**
 * Formats a whole number of mebibytes as a Kubernetes quantity, in Gi when exact.
 *
 * @example formatMemory(1536 * 2 ** 20) // "1536Mi"; formatMemory(2 ** 31) // "2Gi"
 */
export function formatMemory(bytes: number): string {
  if (bytes % GI === 0) return `${bytes / GI}Gi`;
  if (bytes % MI === 0) return `${bytes / MI}Mi`;
  return `${Math.ceil(bytes / MI)}Mi`;
}

/**
 * A byte count for people, one decimal in Mi (or Gi from 10Gi): for tables, never for config.
 *
 * @example describeBytes(64_487_424) // "61.5Mi"
 */
export function describeBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  const size = Math.abs(bytes);
  if (size >= 10 * GI) return `${sign}${(size / GI).toFixed(1)}Gi`;
  return `${sign}${(size / MI).toFixed(1)}Mi`;
}
