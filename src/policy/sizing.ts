import type { Ceilings, Config, Profile } from '../config/types.js';
import { compareQuantities } from './quantity.js';
import { ALLOWED_PROFILES, APPLIED_PROFILE, PROFILE, PROXY_OVERRIDES } from './annotations.js';
import { finding, type Finding, type PlannedChanges } from './decision.js';
import { describePrediction, memoryLimitFinding, predictFor, predictWorkload, smallestCovering, type MemoryPrediction } from './memory-check.js';
import type { EffectiveSidecar } from './sidecar-scope.js';
import { formatBytes } from './memory-model.js';
import { chooseProfile, describeProfileChoice, workloadProfiles, type ProfileChoice } from './profiles.js';
import { parseQuantity } from './quantity.js';
import { BoundedMemo, MEMO_TEXT_MAX } from './bounded-memo.js';
import type { ClusterFacts } from './types.js';
import { planProxyResources, type ResourcePlan } from './proxy-resources.js';
import type { WorkloadContext } from './workload-context.js';

export interface SizingResult {
  readonly choice: ProfileChoice;
  readonly violations: readonly Finding[];
  readonly notices: readonly Finding[];
  readonly changes: PlannedChanges;
  /** PREDICTED_MEMORY_ABOVE_LIMIT when the limit it gets is below the prediction plus the margin. */
  readonly memoryFinding?: Finding;
  /** The numbers for the audit annotation: imports, prediction, profile and its limit. */
  readonly memorySummary?: string;
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

// Per config (a reload brings new objects): folding the ceilings in compared eight quantities per request.
const ceilingCache = new WeakMap<Profile, WeakMap<Ceilings, Profile>>();

/** The profile with the tenancy ceilings folded in: the lower of its own max* and the global one. */
function withCeilings(profile: Profile, ceilings: Ceilings): Profile {
  let byCeilings = ceilingCache.get(profile);
  if (byCeilings === undefined) {
    byCeilings = new WeakMap();
    ceilingCache.set(profile, byCeilings);
  }
  let merged = byCeilings.get(ceilings);
  if (merged === undefined) {
    merged = foldCeilings(profile, ceilings);
    byCeilings.set(ceilings, merged);
  }
  return merged;
}

function foldCeilings(profile: Profile, ceilings: Ceilings): Profile {
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

function overridesFinding(plan: ResourcePlan, subject: string): Finding | undefined {
  if (!plan.overrides) return undefined;
  const { problem, kind } = plan.overrides;
  const consequence = {
    undecodable: `Istio's injector decodes it as JSON {"containers": [...], "initContainers": [...]} (Go encoding/json into Kubernetes containers, pkg/kube/inject/webhook.go reinsertOverrides) and refuses the pod when that fails`,
    'repeated-key': 'Istio would read it, but not the way it looks, so the istio-proxy resources it sets cannot be held to the ceilings',
    'too-large': 'the API server refuses the object',
  }[kind];
  return finding(
    'INVALID_PROXY_OVERRIDES',
    `${subject}: the annotation ${PROXY_OVERRIDES} cannot be used: ${problem}. ${consequence}. Remove it (Istio writes it itself when it injects a pod that declares its own istio-proxy), or write it as {"containers":[{"name":"istio-proxy","resources":{...}}]} with each key once.`,
    `${PROXY_OVERRIDES}: ${problem}`,
  );
}

// Per prediction, the sentence for each profile and limit it met. Only short limits are kept: the
// limit may be the workload's own annotation (up to 256 KiB at the validating webhook) and a
// prediction lives until the catalog changes.
const summaries = new WeakMap<MemoryPrediction, BoundedMemo<string>>();
const SUMMARIES_PER_PREDICTION_MAX = 16;

/** `imports … ; predicted 410 MiB; profile medium limits 256 MiB`, for the audit annotation. */
function describeAgainstLimit(prediction: MemoryPrediction, profile: string, limit: string): string {
  const describe = () => {
    const limitBytes = parseQuantity(limit);
    return `${describePrediction(prediction)}; profile ${profile} limits ${limitBytes !== undefined ? formatBytes(limitBytes) : limit}`;
  };
  if (limit.length > MEMO_TEXT_MAX) return describe();
  let byLimit = summaries.get(prediction);
  if (byLimit === undefined) summaries.set(prediction, (byLimit = new BoundedMemo(SUMMARIES_PER_PREDICTION_MAX)));
  const key = `${profile}\u0000${limit}`;
  return byLimit.get(key) ?? byLimit.set(key, describe());
}

/** For tests: how many sentences are kept for `prediction`. */
export function keptSummaryCount(prediction: MemoryPrediction): number {
  return summaries.get(prediction)?.size ?? 0;
}

/**
 * Chooses the profile for a meshed workload and plans its proxy resources: the four
 * `sidecar.istio.io/proxy*` annotations, `sidecar-guard.io/applied-profile`, and the
 * `istio-proxy` container when there is one.
 */
export interface SizingOptions {
  /** The pod as it will run (validation, after Istio's injection). */
  readonly finalContainer?: boolean;
  /** Given, the prediction is made (and `sizing.choose: predicted` can use it). */
  readonly facts?: ClusterFacts;
  /** The Sidecar that applies, when the caller has looked it up already (findEffectiveSidecar). */
  readonly lookedUp?: { readonly effective: EffectiveSidecar | undefined };
}

export function planSizing(context: WorkloadContext, config: Config, options: SizingOptions = {}): SizingResult {
  let choice = chooseProfile(
    {
      pod: context.template,
      namespace: context.namespace,
      namespaceLabels: context.namespaceLabels,
      namespaceAnnotations: context.namespaceAnnotations,
      gateway: context.gateway,
    },
    config,
  );
  // A Sidecar does not apply to gateways (sidecar.proto NOTE 3): no prediction for them.
  const prediction =
    options.facts === undefined || context.gateway
      ? undefined
      : options.lookedUp
        ? predictFor(context.namespace, options.lookedUp.effective?.sidecar, options.facts, config)
        : predictWorkload(context.namespace, context.template.labels, options.facts, config);
  if (prediction && config.sizing.choose === 'predicted' && choice.source === 'default' && !choice.unknown) {
    const name = smallestCovering(prediction, workloadProfiles(context.namespaceAnnotations, config), config.profiles, config);
    const profile = name !== undefined ? config.profiles[name] : undefined;
    if (name !== undefined && profile) choice = { name, profile, source: 'prediction' };
  }
  const plan = planProxyResources(context.template, withCeilings(choice.profile, config.tenancy.ceilings), { gateway: context.gateway, ...options });
  const unknown = unknownProfileFinding(choice, config);
  const notAllowed = notAllowedFinding(choice);
  const overrides = overridesFinding(plan, context.subject);
  const violations: Finding[] = [
    ...(unknown ? [unknown] : []),
    ...(notAllowed ? [notAllowed] : []),
    ...(overrides ? [overrides] : []),
    ...plan.violations.map((v) => finding(v.code, `${context.subject}: ${v.message} (${describeProfileChoice(choice)})`, v.message)),
  ];
  const annotations: Record<string, string> = { ...plan.annotations };
  if (context.template.annotations[APPLIED_PROFILE] !== choice.name) annotations[APPLIED_PROFILE] = choice.name;
  const limit = plan.effective.memoryLimit.value;
  const memoryFinding = prediction ? memoryLimitFinding(context.subject, prediction, choice.name, limit, config) : undefined;
  const memorySummary = prediction ? describeAgainstLimit(prediction, choice.name, limit) : undefined;
  return {
    choice,
    violations,
    notices: [],
    changes: { templatePath: context.templatePath, annotations, containerChanges: plan.containerChanges },
    ...(memoryFinding ? { memoryFinding } : {}),
    ...(memorySummary ? { memorySummary } : {}),
  };
}
