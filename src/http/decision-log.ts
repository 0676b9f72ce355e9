import type { ReviewResult } from '../admission/review.js';
import type { Webhook } from '../policy/decision.js';
import { describeSubject } from '../policy/workload-context.js';

/**
 * Which decisions are worth a line at info, as Gatekeeper's --log-denies: denials, audit
 * violations, patches, and any answer that carries a warning, an exemption or a refused
 * exemption. An allowed request left untouched with nothing to say is logged at debug only:
 * most pods (outside the mesh, already sized, scoped) are that, and a line each cost more than
 * deciding them.
 */
export function decisionLogLevel(result: Pick<ReviewResult, 'evaluation' | 'outcome'>): 'info' | 'debug' {
  const { outcome, evaluation } = result;
  if (outcome.verdict !== 'allowed') return 'info';
  return outcome.warnings.length > 0 || evaluation.exemptions.length > 0 || evaluation.refusals.length > 0 ? 'info' : 'debug';
}

/** The fields of the "admission decision" line. */
export function decisionLogFields(webhook: Webhook, result: Pick<ReviewResult, 'input' | 'evaluation' | 'outcome'>): Record<string, unknown> {
  const { input, evaluation, outcome } = result;
  return {
    webhook,
    uid: input.uid,
    namespace: input.namespace,
    kind: input.kind.kind,
    name: input.name,
    // A pod from generateName has no name yet: log what will name it.
    ...(input.name === '' ? { subject: describeSubject(input.kind.kind, input.name, input.object) } : {}),
    operation: input.operation,
    verdict: outcome.verdict,
    reason: outcome.code,
    mode: evaluation.mode,
    dryRun: input.dryRun,
    ...(evaluation.profile ? { profile: evaluation.profile } : {}),
    ...(evaluation.exemptions.length > 0 ? { exemptions: evaluation.exemptions } : {}),
    ...(evaluation.refusals.length > 0 ? { refusedExemptions: evaluation.refusals } : {}),
    ...(outcome.warnings.length > 0 ? { warnings: outcome.warnings.length } : {}),
  };
}
