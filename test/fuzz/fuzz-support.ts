/**
 * Shared pieces of the property-based tests: a fixed seed and a bounded run count for CI,
 * the app under test (Fastify `inject`, no TLS), arbitraries for hostile input, and the check
 * that an answer is either a 4xx error body or a well-formed AdmissionReview.
 *
 * Longer run: `FUZZ_RUNS=5000 FUZZ_SEED=$RANDOM npx tap test/fuzz` (a failure prints the seed
 * and path to replay it with `FUZZ_SEED=<seed>`).
 */
import fc from 'fast-check';
import type { Config } from '../../src/config/types.js';
import { BUILT_IN_CONFIG } from '../../src/config/load-config.js';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { NOW, type Json } from '../support/builders.js';
import { MemoryView } from '../support/memory-view.js';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261123);
/** Runs per property; CI keeps the default, a longer run raises it. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 150);

export function fuzzParameters(scale = 1): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(FUZZ_RUNS * scale)), endOnFailure: true };
}

export function fuzzApp(objects: Json[], config: Config = BUILT_IN_CONFIG) {
  const view = new MemoryView(objects);
  const metrics = createMetrics({ defaultMetrics: false });
  return buildApp({ config: () => config, view, metrics, now: () => NOW, readiness: () => ({ ready: true }) });
}

export type FuzzApp = ReturnType<typeof fuzzApp>;

export async function post(app: FuzzApp, url: string, payload: string, contentType = 'application/json') {
  return app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });
}

/** Strings with what breaks naive code: `/` and `~` (JSON Pointer), control characters, lone surrogates, unicode. */
export const oddString = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('a', 'z', '0', '-', '.', '_') },
    { weight: 2, arbitrary: fc.constantFrom('/', '~', '~0', '~1', '%', '"', '\\', ' ', '\n', '\t', '\u0000', '\u007f', '\u2028') },
    { weight: 1, arbitrary: fc.constantFrom('\ud800', '\udfff', 'é', 'ß', '漢', '🙂', '\u200b', '\ufeff') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 2 }) },
  ),
  maxLength: 24,
});

/** Keys of label/annotation maps, mixing real keys with hostile ones (and the empty key). */
export const annotationKey = fc.oneof(
  fc.constantFrom(
    'sidecar.istio.io/proxyCPU',
    'sidecar.istio.io/proxyCPULimit',
    'sidecar.istio.io/proxyMemory',
    'sidecar.istio.io/proxyMemoryLimit',
    'sidecar.istio.io/status',
    'sidecar.istio.io/inject',
    'inject.istio.io/templates',
    'sidecar-guard.io/profile',
    'sidecar-guard.io/applied-profile',
    'sidecar-guard.io/exempt',
    'sidecar-guard.io/exempt-reason',
    'sidecar-guard.io/exempt-until',
    '',
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
  ),
  oddString,
);

/** Values: quantities good and bad, profile names, dates, and hostile strings. */
export const annotationValue = fc.oneof(
  fc.constantFrom('100m', '1', '2.5', '128Mi', '1Gi', '1e3', '0', '-1', '1.5Gi', '+5', '.5', '1E2', '99999999999999999999Ei', 'NaN', 'Infinity', ''),
  fc.constantFrom('small', 'medium', 'large', 'gateway', 'nope', 'true', 'false', 'gateway,sidecar', 'scope', 'resources', 'all', 'scope, resources'),
  fc.constantFrom('2026-12-31', '2026-11-24T00:00:00Z', '2026-02-30', '1999-01-01', '2026-11-23T12:00:00+25:00'),
  oddString,
);

export const stringMapArb = fc.dictionary(annotationKey, annotationValue, { maxKeys: 12 });

/** Any JSON value, including big and nested ones. */
export const anyJson = fc.jsonValue({ maxDepth: 6 });

/** Random key order everywhere in a JSON value (arrays keep their order: it is meaningful). */
export function shuffleKeys(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffleKeys(v, random));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [entries[i], entries[j]] = [entries[j] as [string, unknown], entries[i] as [string, unknown]];
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: shuffleKeys(v, random), enumerable: true, writable: true, configurable: true });
  return out;
}

/** Deep copy with keys sorted, so two answers can be compared whatever order their maps came in. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value as Record<string, unknown>).sort()) {
    Object.defineProperty(out, k, { value: canonical((value as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export interface Answer {
  statusCode: number;
  body: string;
}

/**
 * The contract every answer keeps: a 4xx with `{error, message}`, or a 200 AdmissionReview v1
 * echoing the uid, with `allowed`, and a patch only together with `patchType: JSONPatch`.
 * Returns a description of what is wrong, or undefined.
 */
export function contractViolation(answer: Answer, uid: string | undefined): string | undefined {
  if (answer.statusCode >= 500) return `HTTP ${answer.statusCode}: ${answer.body.slice(0, 300)}`;
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return `HTTP ${answer.statusCode} with a body that is not JSON`;
  }
  const record = json as Record<string, unknown>;
  if (answer.statusCode >= 400) {
    if (typeof record.error !== 'string' || typeof record.message !== 'string') return `HTTP ${answer.statusCode} without {error, message}`;
    if (/\.ts:\d+|\n\s+at /.test(record.message)) return 'a stack trace in the error message';
    return undefined;
  }
  if (answer.statusCode !== 200) return `unexpected HTTP ${answer.statusCode}`;
  if (record.apiVersion !== 'admission.k8s.io/v1' || record.kind !== 'AdmissionReview') return 'not an admission.k8s.io/v1 AdmissionReview';
  const response = record.response as Record<string, unknown> | undefined;
  if (!response || typeof response !== 'object') return 'no response';
  if (uid !== undefined && response.uid !== uid) return `uid ${String(response.uid)} instead of ${uid}`;
  if (typeof response.allowed !== 'boolean') return 'allowed is not a boolean';
  if (('patch' in response) !== ('patchType' in response)) return 'patch and patchType not together';
  if ('patch' in response) {
    if (response.patchType !== 'JSONPatch') return 'patchType is not JSONPatch';
    if (response.allowed !== true) return 'a patch on a denial';
    const ops: unknown = JSON.parse(Buffer.from(String(response.patch), 'base64').toString('utf8'));
    if (!Array.isArray(ops) || ops.length === 0) return 'patch is not a non-empty JSON array';
  }
  if (response.allowed === false) {
    const status = response.status as Record<string, unknown> | undefined;
    if (!status || typeof status.code !== 'number' || status.code < 400 || typeof status.message !== 'string') return 'a denial without a 4xx status and message';
  }
  if (response.warnings !== undefined) {
    if (!Array.isArray(response.warnings)) return 'warnings is not an array';
    // The apiserver silently drops warnings with control characters (admission-contract §1.5).
    if (response.warnings.some((w) => typeof w !== 'string' || /[\u0000-\u001f\u007f-\u009f]/.test(w))) return 'a warning the apiserver would drop';
  }
  if (response.auditAnnotations !== undefined) {
    for (const [k, v] of Object.entries(response.auditAnnotations as Record<string, unknown>)) {
      if (!/^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/.test(k) || k.length > 63) return `audit annotation key ${k} is not a qualified name`;
      if (typeof v !== 'string') return `audit annotation ${k} is not a string`;
    }
  }
  return undefined;
}
