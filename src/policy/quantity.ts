import { BoundedMemo, MEMO_TEXT_MAX } from './bounded-memo.js';

/**
 * Kubernetes resource quantities ("100m", "128Mi", "1.5Gi", "2e3"), parsed to plain numbers
 * in base units (cores, bytes) so they can be compared.
 *
 * Grammar: the OpenAPI pattern controller-gen emits for `resource.Quantity` (istio-facts §1.2),
 * which is what Istio >= 1.29 enforces through `resource.ParseQuantity` before it injects.
 */
const QUANTITY_PATTERN =
  /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))((?:[KMGTPE]i)|[numkMGTPE]|(?:[eE][+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)))?$/;

const SUFFIX_FACTORS: Readonly<Record<string, number>> = {
  '': 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * The common forms (`500m`, `128Mi`, `2`, `1Gi`: digits and a one- or two-letter suffix) without
 * the regular expression, which was most of a quantity comparison; undefined for anything else,
 * which the full grammar then reads. Gives what the full grammar gives for these forms.
 */
function parseSimpleQuantity(text: string): number | undefined {
  let end = 0;
  while (end < text.length && end < 15) {
    const c = text.charCodeAt(end);
    if (c < 48 || c > 57) break;
    end++;
  }
  if (end === 0 || end < text.length - 2) return undefined;
  const suffix = end === text.length ? '' : text.slice(end);
  const factor = Object.hasOwn(SUFFIX_FACTORS, suffix) ? SUFFIX_FACTORS[suffix] : undefined;
  if (factor === undefined) return undefined;
  const value = Number(text.slice(0, end)) * factor;
  return Number.isFinite(value) ? value : undefined;
}

/**
 * The same few quantities (the profiles', `100m`, `128Mi`) are read some forty times per mesh
 * decision: parsing each once was a fifth of the decision. NaN marks a text that is not a quantity.
 */
const parsed = new BoundedMemo<number>(4096, MEMO_TEXT_MAX);

/**
 * Parses a quantity to its value in base units; undefined when it is not a valid quantity.
 *
 * @example parseQuantity('128Mi') // 134217728
 */
export function parseQuantity(text: string): number | undefined {
  const known = parsed.get(text);
  if (known !== undefined) return Number.isNaN(known) ? undefined : known;
  const value = parseUncached(text);
  parsed.set(text, value ?? Number.NaN);
  return value;
}


function parseUncached(text: string): number | undefined {
  const simple = parseSimpleQuantity(text);
  if (simple !== undefined) return simple;
  const match = QUANTITY_PATTERN.exec(text);
  if (match === null) return undefined;
  const [, digits = '', suffix = ''] = match;
  const base = Number(digits);
  // `E` and `Ei` are exa and exbi; only a suffix not in the table is a decimal exponent (`e3`, `E-2`).
  const factor = Object.hasOwn(SUFFIX_FACTORS, suffix) ? SUFFIX_FACTORS[suffix] : 10 ** Number(suffix.slice(1));
  if (factor === undefined || !Number.isFinite(base * factor)) return undefined;
  return base * factor;
}

/** True for a quantity a container resource may carry: valid and not negative. */
export function isResourceQuantity(text: string): boolean {
  const value = parseQuantity(text);
  return value !== undefined && value >= 0;
}

/** Compares two valid quantities: negative when a < b, 0 when equal, positive when a > b. */
export function compareQuantities(a: string, b: string): number {
  const left = parseQuantity(a);
  const right = parseQuantity(b);
  if (left === undefined || right === undefined) throw new RangeError(`not a quantity: ${left === undefined ? a : b}`);
  // Relative tolerance: "1Gi" and "1073741824" are the same amount even after float rounding.
  const scale = Math.max(Math.abs(left), Math.abs(right), 1e-12);
  const diff = left - right;
  return Math.abs(diff) / scale < 1e-12 ? 0 : diff;
}
