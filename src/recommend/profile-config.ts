import { DEFAULT_CONFIG } from '../config/defaults.js';
import type { Ceilings, Profile, ProfileRule } from '../config/types.js';
import { compareQuantities } from '../policy/quantity.js';
import { formatMemory, roundUpMemory } from './memory-quantity.js';
import type { WorkloadSizing } from './size-workloads.js';

const GATEWAY = 'gateway';

/** The part of a `serve --config` file that `recommend profiles` writes; the rest keeps its defaults. */
export interface ProfileConfigDocument {
  readonly defaultProfile: string;
  /** Always false: the document lists every rule it means (the built-in gateway rules first), so none is appended. */
  readonly defaultRules: false;
  readonly profiles: Record<string, Profile>;
  readonly rules: ProfileRule[];
  /** Only when a profile is above a built-in ceiling, which would make the file fail to load. */
  readonly tenancy?: { readonly ceilings: Ceilings };
}

export interface ProfileConfig {
  readonly document: ProfileConfigDocument;
  /** Why the document differs from the plain recommendation, for the file's comments. */
  readonly notes: readonly string[];
}

const larger = (a: string, b: string): string => (compareQuantities(a, b) >= 0 ? a : b);
const CEILING_OF: readonly [keyof Ceilings, keyof Profile][] = [
  ['maxCpu', 'cpu'],
  ['maxCpuLimit', 'cpuLimit'],
  ['maxMemory', 'memory'],
  ['maxMemoryLimit', 'memoryLimit'],
];

/**
 * The built-in gateway profile, raised to cover the gateways the stats saw: `profiles` in a config
 * file replace the built-in table whole, so without it gateways would fall to a workload profile.
 */
function gatewayProfile(gateways: readonly WorkloadSizing[], limitRatio: number): Profile {
  const builtIn = DEFAULT_CONFIG.profiles[GATEWAY] as Profile;
  if (gateways.length === 0) return { ...builtIn };
  const need = Math.max(...gateways.map((g) => g.recommended));
  const floor = Math.max(...gateways.map((g) => g.limitFloor), roundUpMemory(need * limitRatio));
  return { ...builtIn, memory: larger(builtIn.memory, formatMemory(need)), memoryLimit: larger(builtIn.memoryLimit, formatMemory(floor)) };
}

/**
 * A config block `serve --config` loads as is: the recommended profiles plus the gateway profile,
 * the built-in gateway rules first (they must win over namespace rules), `defaultProfile` the
 * largest workload profile (what a workload the stats did not see gets: better too big than
 * OOM-killed), and `tenancy.ceilings` raised only where a profile is above a built-in one.
 *
 * @example profileConfig({ small: p1, large: p2 }, rules, [], 2).document.defaultProfile // "large"
 */
export function profileConfig(
  profiles: Readonly<Record<string, Profile>>,
  rules: readonly ProfileRule[],
  gateways: readonly WorkloadSizing[],
  limitRatio: number,
): ProfileConfig {
  const names = Object.keys(profiles);
  const defaultProfile = names[names.length - 1];
  if (defaultProfile === undefined) throw new RangeError('no profiles to write');
  if (names.includes(GATEWAY)) throw new RangeError(`"${GATEWAY}" is reserved for the gateway profile`);
  const gateway = gatewayProfile(gateways, limitRatio);
  const all: Record<string, Profile> = { ...profiles, [GATEWAY]: gateway };
  const notes = [`defaultProfile ${defaultProfile}: the largest, for workloads these stats did not see`];
  if (gateways.length > 0) {
    notes.push(`gateway ${gateway.memory}/${gateway.memoryLimit}: the built-in gateway profile, covering ${gateways.map((g) => `${g.namespace}/${g.workload}`).join(', ')}`);
  }
  const builtInCeilings = DEFAULT_CONFIG.tenancy.ceilings;
  const ceilings: Ceilings = { ...builtInCeilings };
  let raised = false;
  for (const [ceilingKey, key] of CEILING_OF) {
    const ceiling = builtInCeilings[ceilingKey];
    const highest = Object.values(all).map((p) => p[key] as string).reduce(larger);
    if (ceiling !== undefined && compareQuantities(highest, ceiling) > 0) {
      ceilings[ceilingKey] = highest;
      raised = true;
      notes.push(`tenancy.ceilings.${ceilingKey} raised from ${ceiling} to ${highest}: a profile needs it, and the file would not load under the built-in ceiling`);
    }
  }
  const gatewayRules = DEFAULT_CONFIG.rules.filter((rule) => rule.profile === GATEWAY);
  return {
    document: { defaultProfile, defaultRules: false, profiles: all, rules: [...structuredClone(gatewayRules), ...rules], ...(raised ? { tenancy: { ceilings } } : {}) },
    notes,
  };
}
