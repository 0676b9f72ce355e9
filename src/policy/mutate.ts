import type { Config } from '../config/types.js';
import type { Evaluation, Finding } from './decision.js';
import type { AdmissionInput } from './request.js';
import { describeProfileChoice } from './profiles.js';
import { planSizing } from './sizing.js';
import type { ClusterFacts } from './types.js';
import { allowUntouched, isEvaluation, prepareWorkload, useExemption } from './workload-context.js';

/**
 * The mutating webhook's decision: a mesh pod on CREATE gets its proxy resources from its
 * profile (all four annotations, the applied profile, and an existing `istio-proxy` container).
 *
 * @example evaluateMutation(input, facts, config, now).changes?.annotations
 */
export function evaluateMutation(input: AdmissionInput, facts: ClusterFacts, config: Config, now: Date): Evaluation {
  if (input.subResource) return allowUntouched('mutate', config.mode, 'SUBRESOURCE');
  if (input.kind.group !== '' || input.kind.kind !== 'Pod') return allowUntouched('mutate', config.mode, 'NOT_APPLICABLE');
  if (input.operation !== 'CREATE') return allowUntouched('mutate', config.mode, 'OPERATION_NOT_CHECKED');

  const prepared = prepareWorkload('mutate', input, facts, config, now);
  if (isEvaluation(prepared)) return prepared;
  const context = prepared;
  const exempt = useExemption(context, 'resources');
  if (exempt) {
    return {
      webhook: 'mutate',
      mode: context.mode,
      code: 'EXEMPT',
      violations: [],
      notices: [...context.notices, exempt.notice],
      exemptions: [exempt.exemption],
      refusals: context.exemptions.refused,
    };
  }
  // The facts let `sizing.choose: predicted` pick by prediction; without that setting nothing here
  // reads a prediction. The memory warning itself is the validating webhook's, which sees every pod
  // and controller after all mutation.
  const sizing = planSizing(context, config, config.sizing.choose === 'predicted' ? { facts } : {});
  const notices: Finding[] = [...context.notices, ...sizing.notices];
  return {
    webhook: 'mutate',
    mode: context.mode,
    code: sizing.violations[0]?.code ?? 'SIZED',
    violations: sizing.violations,
    notices,
    exemptions: [],
    refusals: context.exemptions.refused,
    profile: sizing.choice.name,
    profileReason: describeProfileChoice(sizing.choice),
    changes: sizing.changes,
  };
}
