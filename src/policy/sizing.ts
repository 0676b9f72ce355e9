import type { Config } from '../config/types.js';
import { APPLIED_PROFILE, PROFILE } from './annotations.js';
import { finding, type Finding, type PlannedChanges } from './decision.js';
import { chooseProfile, describeProfileChoice, type ProfileChoice } from './profiles.js';
import { planProxyResources } from './proxy-resources.js';
import type { WorkloadContext } from './workload-context.js';

export interface SizingResult {
  readonly choice: ProfileChoice;
  readonly violations: readonly Finding[];
  readonly notices: readonly Finding[];
  readonly changes: PlannedChanges;
}

function unknownProfileFinding(choice: ProfileChoice, config: Config): Finding | undefined {
  if (!choice.unknown) return undefined;
  const where = choice.unknown.source === 'pod-annotation' ? 'the workload' : 'the namespace';
  const valid = Object.keys(config.profiles).sort().join(', ');
  return finding(
    'UNKNOWN_PROFILE',
    `${where} asks for ${PROFILE}="${choice.unknown.requested}", which is not a profile; valid profiles: ${valid}`,
    `unknown profile "${choice.unknown.requested}" (valid: ${valid}); falling back to "${choice.name}"`,
  );
}

/**
 * Chooses the profile for a meshed workload and plans its proxy resources: the four
 * `sidecar.istio.io/proxy*` annotations, `sidecar-guard.io/applied-profile`, and the
 * `istio-proxy` container when there is one.
 */
export function planSizing(context: WorkloadContext, config: Config, options: { finalContainer?: boolean } = {}): SizingResult {
  const choice = chooseProfile(
    {
      pod: context.template,
      namespace: context.namespace,
      namespaceLabels: context.namespaceLabels,
      namespaceAnnotations: context.namespaceAnnotations,
      gateway: context.gateway,
    },
    config,
  );
  const plan = planProxyResources(context.template, choice.profile, { gateway: context.gateway, ...options });
  const unknown = unknownProfileFinding(choice, config);
  const violations: Finding[] = [
    ...(unknown ? [unknown] : []),
    ...plan.violations.map((v) => finding(v.code, `${context.subject}: ${v.message} (${describeProfileChoice(choice)})`, v.message)),
  ];
  const annotations: Record<string, string> = { ...plan.annotations };
  if (context.template.annotations[APPLIED_PROFILE] !== choice.name) annotations[APPLIED_PROFILE] = choice.name;
  return {
    choice,
    violations,
    notices: [],
    changes: { templatePath: context.templatePath, annotations, containerChanges: plan.containerChanges },
  };
}
