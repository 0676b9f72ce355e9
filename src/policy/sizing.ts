import type { Ceilings, Config, Profile } from '../config/types.js';
import { compareQuantities } from './quantity.js';
import { ALLOWED_PROFILES, APPLIED_PROFILE, PROFILE } from './annotations.js';
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

function notAllowedFinding(choice: ProfileChoice): Finding | undefined {
  if (!choice.notAllowed) return undefined;
  const { requested, allowed } = choice.notAllowed;
  const list = allowed.length > 0 ? allowed.join(', ') : 'none';
  return finding(
    'PROFILE_NOT_ALLOWED',
    `the workload asks for ${PROFILE}="${requested}", which workloads here may not pick (allowed: ${list}; set by tenancy.workloadProfiles or the Namespace annotation ${ALLOWED_PROFILES})`,
    `profile "${requested}" may not be picked here (allowed: ${list}); using "${choice.name}"`,
  );
}

/** The profile with the tenancy ceilings folded in: the lower of its own max* and the global one. */
function withCeilings(profile: Profile, ceilings: Ceilings): Profile {
  const merged: Profile = { ...profile };
  for (const key of ['maxCpu', 'maxCpuLimit', 'maxMemory', 'maxMemoryLimit'] as const) {
    const own = profile[key];
    const global = ceilings[key];
    if (global !== undefined && (own === undefined || compareQuantities(global, own) < 0)) merged[key] = global;
  }
  return merged;
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
  const plan = planProxyResources(context.template, withCeilings(choice.profile, config.tenancy.ceilings), { gateway: context.gateway, ...options });
  const unknown = unknownProfileFinding(choice, config);
  const notAllowed = notAllowedFinding(choice);
  const violations: Finding[] = [
    ...(unknown ? [unknown] : []),
    ...(notAllowed ? [notAllowed] : []),
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
