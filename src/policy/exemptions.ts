import type { Config, ExemptionTarget } from '../config/types.js';
import { EXEMPT, EXEMPT_REASON, EXEMPT_UNTIL } from './annotations.js';
import type { Labels } from './types.js';

/** What an exemption can switch off: the Sidecar scope rule, the proxy sizing, or both (`all`). */
export type ExemptionKind = 'scope' | 'resources';

export interface Exemption {
  readonly target: ExemptionTarget;
  readonly kinds: readonly ExemptionKind[];
  readonly reason: string;
  /** The `exempt-until` value as written, when there is one. */
  readonly until?: string;
}

export type RefusalCode =
  | 'EXEMPTION_INVALID'
  | 'EXEMPTION_NO_REASON'
  | 'EXEMPTION_NO_EXPIRY'
  | 'EXEMPTION_EXPIRED'
  | 'EXEMPTION_TOO_LONG'
  | 'EXEMPTION_NOT_ALLOWED';

export interface ExemptionRefusal {
  readonly target: ExemptionTarget;
  readonly code: RefusalCode;
  readonly message: string;
}

export type ExemptionReading =
  | { readonly status: 'none' }
  | { readonly status: 'honoured'; readonly exemption: Exemption }
  | { readonly status: 'refused'; readonly refusal: ExemptionRefusal };

const DAY_MS = 24 * 60 * 60 * 1000;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const KIND_WORDS: Readonly<Record<string, readonly ExemptionKind[]>> = {
  scope: ['scope'],
  resources: ['resources'],
  all: ['scope', 'resources'],
};

/**
 * The instant an `exempt-until` value stops being valid, or undefined when it is not a date.
 * A bare date runs to the end of that day (UTC): "until 2026-12-31" includes the 31st.
 */
export function parseExemptUntil(text: string): Date | undefined {
  const dateOnly = DATE_ONLY.exec(text);
  if (dateOnly) {
    const [, year, month, day] = dateOnly.map(Number) as [number, number, number, number];
    const start = new Date(Date.UTC(year, month - 1, day));
    const valid = start.getUTCFullYear() === year && start.getUTCMonth() === month - 1 && start.getUTCDate() === day;
    return valid ? new Date(start.getTime() + DAY_MS) : undefined;
  }
  if (!RFC3339.test(text)) return undefined;
  const instant = new Date(text);
  return Number.isNaN(instant.getTime()) ? undefined : instant;
}

function refuse(target: ExemptionTarget, code: RefusalCode, message: string): ExemptionReading {
  return { status: 'refused', refusal: { target, code, message } };
}

/**
 * Reads the exemption annotations of a Namespace or a workload and judges them against the
 * config and the clock.
 *
 * @example readExemption(ns.annotations, 'namespace', config.exceptions, now).status
 */
export function readExemption(
  annotations: Labels,
  target: ExemptionTarget,
  exceptions: Config['exceptions'],
  now: Date,
): ExemptionReading {
  const raw = annotations[EXEMPT];
  if (raw === undefined) return { status: 'none' };
  const where = target === 'namespace' ? 'namespace' : 'workload';
  const words = raw.split(',').map((w) => w.trim()).filter((w) => w !== '');
  // Own keys only: `in` would accept toString, constructor, __proto__ and carry their values on.
  const unknown = words.filter((w) => !Object.hasOwn(KIND_WORDS, w));
  if (words.length === 0 || unknown.length > 0) {
    return refuse(target, 'EXEMPTION_INVALID', `${where} exemption ${EXEMPT}="${raw}" is not understood: use scope, resources or all`);
  }
  if (!exceptions.allowOn.includes(target)) {
    return refuse(target, 'EXEMPTION_NOT_ALLOWED', `${where} exemptions are not allowed in this cluster (exceptions.allowOn: [${exceptions.allowOn.join(', ')}]): put the exemption on the Namespace, or ask the cluster admin to allow it`);
  }
  const reason = (annotations[EXEMPT_REASON] ?? '').trim();
  if (reason === '') {
    return refuse(target, 'EXEMPTION_NO_REASON', `${where} exemption has no ${EXEMPT_REASON}: add that annotation saying why the exemption is needed (a ticket helps)`);
  }
  const until = annotations[EXEMPT_UNTIL];
  if (until === undefined) {
    if (exceptions.requireExpiry) {
      return refuse(target, 'EXEMPTION_NO_EXPIRY', `${where} exemption has no ${EXEMPT_UNTIL}, which this cluster requires (exceptions.requireExpiry): add one, as YYYY-MM-DD`);
    }
  } else {
    const expiry = parseExemptUntil(until.trim());
    if (expiry === undefined) {
      return refuse(target, 'EXEMPTION_INVALID', `${where} exemption ${EXEMPT_UNTIL}="${until}" is not a date: write it as YYYY-MM-DD or RFC 3339`);
    }
    if (expiry.getTime() <= now.getTime()) {
      return refuse(target, 'EXEMPTION_EXPIRED', `${where} exemption expired at ${until.trim()}: set a later ${EXEMPT_UNTIL} if it is still needed, or remove the exemption`);
    }
    if (expiry.getTime() - now.getTime() > exceptions.maxDays * DAY_MS) {
      return refuse(target, 'EXEMPTION_TOO_LONG', `${where} exemption until ${until.trim()} is further away than the ${exceptions.maxDays} days allowed (exceptions.maxDays): pick an earlier ${EXEMPT_UNTIL}`);
    }
  }
  const kinds = [...new Set(words.flatMap((w) => KIND_WORDS[w] ?? []))];
  return { status: 'honoured', exemption: { target, kinds, reason, ...(until !== undefined ? { until: until.trim() } : {}) } };
}

export interface ExemptionSummary {
  /** The honoured exemptions, namespace first. */
  readonly honoured: readonly Exemption[];
  readonly refused: readonly ExemptionRefusal[];
}

const NO_EXEMPTIONS: ExemptionSummary = Object.freeze({ honoured: Object.freeze([]), refused: Object.freeze([]) });

/** Judges the namespace's and the workload's exemptions together. */
export function resolveExemptions(
  namespaceAnnotations: Labels,
  workloadAnnotations: Labels | undefined,
  exceptions: Config['exceptions'],
  now: Date,
): ExemptionSummary {
  // Most requests carry no exemption at all: nothing to read, one shared answer.
  if (namespaceAnnotations[EXEMPT] === undefined && workloadAnnotations?.[EXEMPT] === undefined) return NO_EXEMPTIONS;
  const readings = [readExemption(namespaceAnnotations, 'namespace', exceptions, now)];
  if (workloadAnnotations) readings.push(readExemption(workloadAnnotations, 'workload', exceptions, now));
  return {
    honoured: readings.flatMap((r) => (r.status === 'honoured' ? [r.exemption] : [])),
    refused: readings.flatMap((r) => (r.status === 'refused' ? [r.refusal] : [])),
  };
}

/** The first honoured exemption that covers `kind`, if any. */
export function exemptionFor(summary: ExemptionSummary, kind: ExemptionKind): Exemption | undefined {
  return summary.honoured.find((e) => e.kinds.includes(kind));
}

/** One line describing an honoured exemption, for warnings, logs and audit annotations. */
export function describeExemption(exemption: Exemption): string {
  const until = exemption.until ? ` until ${exemption.until}` : ' (no expiry)';
  return `${exemption.target} exemption from ${exemption.kinds.join('+')}${until}: ${exemption.reason}`;
}
