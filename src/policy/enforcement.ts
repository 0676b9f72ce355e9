import { describeExemption } from './exemptions.js';
import { isEmptyChange, type Evaluation, type PlannedChanges } from './decision.js';
import { CONTAINER_FIELD_FOR } from './proxy-resources.js';

/** What the webhook answers, once the mode has been applied to an evaluation. */
export type Verdict = 'allowed' | 'patched' | 'denied' | 'audit_violation';

export interface Outcome {
  readonly allowed: boolean;
  readonly verdict: Verdict;
  readonly code: string;
  readonly status?: { readonly code: number; readonly reason: string; readonly message: string };
  /** Changes to apply as a JSON patch; only in enforce mode, only when allowed. */
  readonly changes?: PlannedChanges;
  readonly warnings: readonly string[];
  readonly auditAnnotations: Readonly<AuditAnnotations>;
}

/**
 * Every audit annotation an answer can carry, in the order they are set. A fixed set, so the
 * answer's encoder writes each by name (src/admission/respond.ts lists the same keys).
 */
export interface AuditAnnotations {
  decision: string;
  reason: string;
  mode: string;
  profile?: string;
  'predicted-memory'?: string;
  exemption?: string;
  'exemption-refused'?: string;
  'would-deny'?: string;
  'would-patch'?: string;
  patched?: string;
}

const WARNING_PREFIX = 'sidecar-guard: ';
/** Beyond this the apiserver truncates warnings to 256 runes anyway (4096-rune budget per request). */
const WARNING_MAX = 240;
const AUDIT_VALUE_MAX = 1024;

/** kube-apiserver drops warnings with control characters or invalid UTF-8 (admission-contract §1.5). */
export function toWarning(text: string): string {
  const clean = (WARNING_PREFIX + text).replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return clean.length > WARNING_MAX ? `${clean.slice(0, WARNING_MAX - 1)}…` : clean;
}

function clip(text: string): string {
  return text.length > AUDIT_VALUE_MAX ? `${text.slice(0, AUDIT_VALUE_MAX - 1)}…` : text;
}

/** `proxyMemory=128Mi, …` for the changes a patch would make. */
export function describeChanges(changes: PlannedChanges): string {
  let text = '';
  for (const key in changes.annotations) text += `${text === '' ? '' : ', '}${key.slice(key.lastIndexOf('/') + 1)}=${changes.annotations[key]}`;
  for (const c of changes.containerChanges) {
    const [section, resource] = CONTAINER_FIELD_FOR[c.key];
    text += `${text === '' ? '' : ', '}${c.container}.${section}.${resource}=${c.value}`;
  }
  return text;
}

/**
 * Turns an evaluation into the answer for its mode: `enforce` denies violations and patches,
 * `audit` allows everything untouched and reports what enforce would have done, `off` allows.
 * Audit annotation keys carry no `/` and stay under 63 characters (admission-contract §1.6).
 */
export function applyMode(evaluation: Evaluation): Outcome {
  const audit: AuditAnnotations = { decision: '', reason: evaluation.code, mode: evaluation.mode };
  if (evaluation.profile) audit.profile = evaluation.profile;
  if (evaluation.memory) audit['predicted-memory'] = clip(evaluation.memory);
  if (evaluation.exemptions.length > 0) audit.exemption = clip(evaluation.exemptions.map(describeExemption).join('; '));
  if (evaluation.refusals.length > 0) audit['exemption-refused'] = clip(evaluation.refusals.map((r) => r.message).join('; '));
  const warnings = evaluation.notices.map((n) => toWarning(n.summary));
  const hasChanges = !isEmptyChange(evaluation.changes);

  if (evaluation.mode === 'audit') {
    if (evaluation.violations.length > 0) {
      audit['would-deny'] = clip(evaluation.violations.map((v) => `${v.code}: ${v.summary}`).join('; '));
      warnings.push(...evaluation.violations.map((v) => toWarning(`[audit] enforce would deny: ${v.summary}`)));
    }
    if (hasChanges && evaluation.changes) {
      audit['would-patch'] = clip(describeChanges(evaluation.changes));
      warnings.push(toWarning(`[audit] enforce would set ${describeChanges(evaluation.changes)}`));
    }
    const verdict: Verdict = evaluation.violations.length > 0 ? 'audit_violation' : 'allowed';
    audit.decision = evaluation.violations.length > 0 ? 'would-deny' : 'allowed';
    return { allowed: true, verdict, code: evaluation.code, warnings, auditAnnotations: audit };
  }

  if (evaluation.mode === 'enforce' && evaluation.violations.length > 0) {
    audit.decision = 'denied';
    const message = evaluation.violations.map((v) => v.message).join('\n\n');
    return {
      allowed: false,
      verdict: 'denied',
      code: evaluation.code,
      status: { code: 403, reason: 'Forbidden', message },
      warnings,
      auditAnnotations: audit,
    };
  }

  if (evaluation.mode === 'enforce' && hasChanges && evaluation.changes) {
    audit.decision = 'patched';
    audit.patched = clip(describeChanges(evaluation.changes));
    return { allowed: true, verdict: 'patched', code: evaluation.code, changes: evaluation.changes, warnings, auditAnnotations: audit };
  }
  audit.decision = 'allowed';
  return { allowed: true, verdict: 'allowed', code: evaluation.code, warnings, auditAnnotations: audit };
}
