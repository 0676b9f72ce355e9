import type { Config, Profile, RuleMatch } from '../config/types.js';
import { ALLOWED_PROFILES, PROFILE } from './annotations.js';
import { selectorMatches } from './sidecar-scope.js';
import type { Labels, NamespaceFacts, PodTemplateView } from './types.js';

/** `prediction`: `sizing.choose: predicted` replaced the default with the smallest profile covering the predicted memory. */
export type ProfileSource = 'pod-annotation' | 'rule' | 'namespace-annotation' | 'default' | 'prediction';

export interface ProfileChoice {
  readonly name: string;
  readonly profile: Profile;
  readonly source: ProfileSource;
  /** Index into `rules` when a rule chose the profile. */
  readonly ruleIndex?: number;
  /** Set when an annotation named a profile that does not exist; `name` is then the default. */
  readonly unknown?: { readonly requested: string; readonly source: ProfileSource };
  /** Set when the workload asked for a profile it may not pick; `name` is what it gets instead. */
  readonly notAllowed?: { readonly requested: string; readonly allowed: readonly string[] };
}

export interface ProfileInput {
  readonly pod: PodTemplateView;
  readonly namespace: string;
  readonly namespaceLabels: Labels;
  readonly namespaceAnnotations: Labels;
  readonly gateway: boolean;
}

const globCache = new Map<string, RegExp>();

/** Shell-style glob (`*`, `?`) over a whole namespace name. */
export function globMatches(glob: string, name: string): boolean {
  let pattern = globCache.get(glob);
  if (pattern === undefined) {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    pattern = new RegExp(`^${body}$`);
    globCache.set(glob, pattern);
  }
  return pattern.test(name);
}

/** True when every field the rule gives matches. */
export function ruleMatches(match: RuleMatch, input: ProfileInput): boolean {
  if (match.namespaces && !match.namespaces.some((glob) => globMatches(glob, input.namespace))) return false;
  if (match.namespaceLabels && !selectorMatches(match.namespaceLabels, input.namespaceLabels)) return false;
  if (match.podLabels && !selectorMatches(match.podLabels, input.pod.labels)) return false;
  if (match.gateway !== undefined && match.gateway !== input.gateway) return false;
  return true;
}

/**
 * Picks the profile for a workload: its `sidecar-guard.io/profile` annotation, else the first
 * matching rule, else the namespace's annotation, else `defaultProfile`. An annotation naming
 * an unknown profile falls back to the default and is reported in `unknown`.
 *
 * @example chooseProfile(input, config).name // "small"
 */
/**
 * The profiles a workload in this namespace may ask for: the Namespace's
 * `sidecar-guard.io/allowed-profiles` (tenants cannot edit Namespaces), else
 * `tenancy.workloadProfiles`, else every profile but `gateway` and those gateway rules choose.
 */
export function workloadProfiles(namespaceAnnotations: Labels, config: Pick<Config, 'profiles' | 'rules' | 'tenancy'>): string[] {
  const fromNamespace = namespaceAnnotations[ALLOWED_PROFILES];
  if (fromNamespace !== undefined) return fromNamespace.split(',').map((p) => p.trim()).filter((p) => Object.hasOwn(config.profiles, p));
  if (config.tenancy.workloadProfiles) return [...config.tenancy.workloadProfiles];
  const gatewayOnly = new Set(['gateway', ...config.rules.filter((r) => r.match.gateway === true).map((r) => r.profile)]);
  return Object.keys(config.profiles).filter((p) => !gatewayOnly.has(p));
}

export function chooseProfile(input: ProfileInput, config: Pick<Config, 'profiles' | 'rules' | 'defaultProfile' | 'tenancy'>): ProfileChoice {
  const fallback = (unknown?: ProfileChoice['unknown']): ProfileChoice => ({
    name: config.defaultProfile,
    profile: config.profiles[config.defaultProfile] as Profile,
    source: 'default',
    ...(unknown ? { unknown } : {}),
  });
  const named = (requested: string, source: ProfileSource): ProfileChoice => {
    const profile = Object.hasOwn(config.profiles, requested) ? config.profiles[requested] : undefined;
    return profile ? { name: requested, profile, source } : fallback({ requested, source });
  };

  const podAnnotation = input.pod.annotations[PROFILE]?.trim();
  if (podAnnotation) {
    const allowed = workloadProfiles(input.namespaceAnnotations, config);
    if (!Object.hasOwn(config.profiles, podAnnotation) || allowed.includes(podAnnotation)) return named(podAnnotation, 'pod-annotation');
    return { ...chooseWithoutWorkloadChoice(input, config, named, fallback), notAllowed: { requested: podAnnotation, allowed } };
  }
  return chooseWithoutWorkloadChoice(input, config, named, fallback);
}

/**
 * The profile a plain workload with these pod labels gets in `namespace` by default: no annotation
 * of its own, not a gateway (what a Sidecar's workloads or a namespace's default proxy are sized by).
 */
export function plainWorkloadProfile(
  namespace: Pick<NamespaceFacts, 'name' | 'labels' | 'annotations'>,
  podLabels: Labels,
  config: Pick<Config, 'profiles' | 'rules' | 'defaultProfile' | 'tenancy'>,
): ProfileChoice {
  const pod = { labels: podLabels, annotations: {}, hostNetwork: false, containers: [], initContainers: [] };
  return chooseProfile({ pod, namespace: namespace.name, namespaceLabels: namespace.labels, namespaceAnnotations: namespace.annotations, gateway: false }, config);
}

function chooseWithoutWorkloadChoice(
  input: ProfileInput,
  config: Pick<Config, 'profiles' | 'rules'>,
  named: (requested: string, source: ProfileSource) => ProfileChoice,
  fallback: () => ProfileChoice,
): ProfileChoice {
  const ruleIndex = config.rules.findIndex((rule) => ruleMatches(rule.match, input));
  const rule = config.rules[ruleIndex];
  if (rule) {
    const profile = config.profiles[rule.profile];
    if (profile) return { name: rule.profile, profile, source: 'rule', ruleIndex };
  }
  const namespaceAnnotation = input.namespaceAnnotations[PROFILE]?.trim();
  if (namespaceAnnotation) return named(namespaceAnnotation, 'namespace-annotation');
  return fallback();
}

/** Where the choice came from, in words. */
export function describeProfileChoice(choice: ProfileChoice): string {
  switch (choice.source) {
    case 'pod-annotation':
      return `profile "${choice.name}" from the workload's ${PROFILE} annotation`;
    case 'rule':
      return `profile "${choice.name}" from rules[${choice.ruleIndex ?? 0}]`;
    case 'namespace-annotation':
      return `profile "${choice.name}" from the namespace's ${PROFILE} annotation`;
    case 'default':
      return `profile "${choice.name}" (defaultProfile)`;
    case 'prediction':
      return `profile "${choice.name}" (the smallest covering the predicted memory, sizing.choose: predicted)`;
  }
}
