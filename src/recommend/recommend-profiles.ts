import type { Profile, ProfileRule } from '../config/types.js';
import { chooseLevels } from './choose-levels.js';
import { formatMemory, roundUpMemory } from './memory-quantity.js';
import type { MemoryEvidence } from './observations.js';
import type { ProfileConfig } from './profile-config.js';
import { profileConfig } from './profile-config.js';
import type { SizingOptions, SkippedWorkload, WorkloadSizing } from './size-workloads.js';
import { DEFAULT_SIZING, sizeWorkloads } from './size-workloads.js';
import type { Placement } from './write-profile-rules.js';
import { effectiveProfile, writeProfileRules } from './write-profile-rules.js';
import type { Workload } from './workloads.js';

export interface ProfileOptions extends SizingOptions {
  readonly maxProfiles: number;
  /** memoryLimit = clean(memory × limitRatio), or the largest member's limit floor if higher. */
  readonly limitRatio: number;
  /** The issue is memory; CPU is one flag-given pair for every profile. */
  readonly cpu: string;
  readonly cpuLimit: string;
}

// The shipped medium profile's CPU and its 1:2 memory request:limit ratio (config/defaults.ts).
export const DEFAULT_PROFILE_OPTIONS: ProfileOptions = { ...DEFAULT_SIZING, maxProfiles: 3, limitRatio: 2, cpu: '100m', cpuLimit: '1000m' };

export interface WorkloadRecommendation extends WorkloadSizing {
  /** The profile the generated rules give it: never smaller than `recommended`. */
  readonly profile: string;
  readonly profileMemory: number;
  readonly profileMemoryLimit: number;
  /** (current − profile) × pods, in bytes; negative means the workload needs more. */
  readonly savedRequest?: number;
  readonly savedLimit?: number;
}

export interface ProfileRecommendation {
  /** The workload profiles, smallest first, and the rules that give them. */
  readonly profiles: Record<string, Profile>;
  readonly rules: ProfileRule[];
  /** What to write to the config file: the above plus what makes `serve --config` load it; none without profiles. */
  readonly config: ProfileConfig | undefined;
  readonly workloads: readonly WorkloadRecommendation[];
  readonly gateways: readonly WorkloadSizing[];
  readonly skipped: readonly SkippedWorkload[];
}

const SIZE_NAMES: Readonly<Record<number, readonly string[]>> = {
  1: ['standard'],
  2: ['small', 'large'],
  3: ['small', 'medium', 'large'],
  4: ['xsmall', 'small', 'medium', 'large'],
  5: ['xsmall', 'small', 'medium', 'large', 'xlarge'],
};

/** Profile names, smallest first. */
export function nameProfiles(count: number): string[] {
  return [...(SIZE_NAMES[count] ?? Array.from({ length: count }, (_, i) => `size-${i + 1}`))];
}

const asWorkload = (s: WorkloadSizing): Workload => ({ namespace: s.namespace, name: s.workload, kind: s.kind, labels: s.labels, pods: [] });

/**
 * From memory evidence to a profile table: size each workload (sizeWorkloads), pick at most
 * `maxProfiles` memory levels covering all of them weighted by pod count (chooseLevels), write
 * rules mapping workloads to them (writeProfileRules), then set each profile's limit from the
 * workloads the rules actually give it.
 *
 * @example recommendProfiles(evidence).profiles.small // { cpu: '100m', cpuLimit: '1000m', memory: '80Mi', memoryLimit: '160Mi' }
 */
export function recommendProfiles(evidence: MemoryEvidence, options: ProfileOptions = DEFAULT_PROFILE_OPTIONS): ProfileRecommendation {
  const { sized, gateways, skipped } = sizeWorkloads(evidence, options);
  const levels = chooseLevels(
    sized.map((s) => ({ value: s.recommended, weight: s.pods })),
    options.maxProfiles,
  );
  const names = nameProfiles(levels.length);
  const placements: Placement[] = sized.map((s) => {
    const rank = levels.findIndex((level) => level >= s.recommended);
    return { workload: asWorkload(s), profile: names[rank] as string, rank };
  });
  const rules = writeProfileRules(placements, names);
  const effective = sized.map((s) => {
    const name = effectiveProfile(rules, asWorkload(s)) as string;
    return { sizing: s, name, rank: names.indexOf(name) };
  });
  const memoryLimits = levels.map((level, rank) =>
    Math.max(roundUpMemory(level * options.limitRatio), ...effective.filter((e) => e.rank === rank).map((e) => e.sizing.limitFloor)),
  );
  const profiles: Record<string, Profile> = {};
  levels.forEach((level, rank) => {
    profiles[names[rank] as string] = {
      cpu: options.cpu,
      cpuLimit: options.cpuLimit,
      memory: formatMemory(level),
      memoryLimit: formatMemory(memoryLimits[rank] as number),
    };
  });
  const workloads = effective.map(({ sizing, name, rank }): WorkloadRecommendation => {
    const profileMemory = levels[rank] as number;
    const profileMemoryLimit = memoryLimits[rank] as number;
    return {
      ...sizing,
      profile: name,
      profileMemory,
      profileMemoryLimit,
      ...(sizing.currentRequest === undefined ? {} : { savedRequest: (sizing.currentRequest - profileMemory) * sizing.pods }),
      ...(sizing.currentLimit === undefined ? {} : { savedLimit: (sizing.currentLimit - profileMemoryLimit) * sizing.pods }),
    };
  });
  const config = levels.length === 0 ? undefined : profileConfig(profiles, rules, gateways, options.limitRatio);
  return { profiles, rules, config, workloads, gateways, skipped };
}
