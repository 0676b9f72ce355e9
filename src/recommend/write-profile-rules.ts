import type { ProfileRule } from '../config/types.js';
import { ruleMatches } from '../policy/profiles.js';
import type { Labels } from './observations.js';
import type { Workload } from './workloads.js';
import { selectorFor, workloadKey } from './workloads.js';

/** A workload and the profile it needs; `rank` orders profiles by size (0 = smallest). */
export interface Placement {
  readonly workload: Workload;
  readonly profile: string;
  readonly rank: number;
}

const bigger = (a: Placement, b: Placement): Placement => (b.rank > a.rank ? b : a);

/** The profile a namespace-wide rule gives a mixed namespace: see writeProfileRules. */
function namespaceFallback(placements: readonly Placement[]): Placement {
  const unselectable = placements.filter((p) => selectorFor(p.workload, []) === undefined);
  if (unselectable.length > 0) return unselectable.reduce(bigger);
  const counts = new Map<string, number>();
  for (const p of placements) counts.set(p.profile, (counts.get(p.profile) ?? 0) + 1);
  return placements.reduce((best, p) => {
    const diff = (counts.get(p.profile) as number) - (counts.get(best.profile) as number);
    return diff > 0 || (diff === 0 && p.rank > best.rank) ? p : best;
  });
}

const sameRule = (a: ProfileRule, b: ProfileRule): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * Rules (first match wins) that give every workload a profile at least as large as the one it
 * needs, with as few rules as the labels allow:
 * - a namespace whose workloads all need one profile gets a namespace rule, shared with the
 *   other namespaces that need the same profile;
 * - in a mixed namespace, workloads that need something other than the namespace's fallback
 *   get a `podLabels` rule (`app`, plus `version` when `app` alone would also catch a
 *   workload needing another profile), then a namespace rule gives the fallback: the largest
 *   profile among workloads without an `app` label, else the most common one.
 * When labels cannot tell workloads apart, the shared selector gets the largest profile they need.
 *
 * @example writeProfileRules(placements, ['small', 'medium'])[0] // { profile: 'medium', match: { namespaces: ['bookinfo'], podLabels: { app: 'reviews', version: 'v3' } } }
 */
export function writeProfileRules(placements: readonly Placement[], profileOrder: readonly string[]): ProfileRule[] {
  const byNamespace = new Map<string, Placement[]>();
  for (const p of placements) byNamespace.set(p.workload.namespace, [...(byNamespace.get(p.workload.namespace) ?? []), p]);
  const selectorRules: ProfileRule[] = [];
  const fallbackRules: ProfileRule[] = [];
  const uniform = new Map<string, string[]>();
  for (const namespace of [...byNamespace.keys()].sort()) {
    const members = byNamespace.get(namespace) as Placement[];
    const profiles = new Set(members.map((p) => p.profile));
    if (profiles.size === 1) {
      const profile = (members[0] as Placement).profile;
      uniform.set(profile, [...(uniform.get(profile) ?? []), namespace]);
      continue;
    }
    const fallback = namespaceFallback(members);
    const sorted = [...members].sort((a, b) => workloadKey(a.workload).localeCompare(workloadKey(b.workload)));
    for (const p of sorted) {
      if (p.profile === fallback.profile) continue;
      const others = members.filter((o) => o.profile !== p.profile).map((o) => o.workload);
      let podLabels: Labels | undefined = selectorFor(p.workload, others);
      let profile = p.profile;
      if (podLabels === undefined) {
        podLabels = selectorFor(p.workload, []);
        if (podLabels === undefined) continue; // covered by the fallback, which is at least this large
        const selector = podLabels;
        profile = members.filter((o) => Object.entries(selector).every(([k, v]) => o.workload.labels[k] === v)).reduce(bigger).profile;
      }
      const rule: ProfileRule = { profile, match: { namespaces: [namespace], podLabels: { ...podLabels } } };
      if (!selectorRules.some((r) => sameRule(r, rule))) selectorRules.push(rule);
    }
    fallbackRules.push({ profile: fallback.profile, match: { namespaces: [namespace] } });
  }
  const uniformRules = profileOrder
    .filter((profile) => uniform.has(profile))
    .map((profile) => ({ profile, match: { namespaces: uniform.get(profile) as string[] } }));
  return [...selectorRules, ...fallbackRules, ...uniformRules];
}

/**
 * The profile the webhook would choose for a workload under these rules (first match wins, as
 * in policy/profiles.ts); undefined when no rule matches.
 *
 * @example effectiveProfile(rules, reviewsV3) // "medium"
 */
export function effectiveProfile(rules: readonly ProfileRule[], workload: Workload): string | undefined {
  const input = {
    pod: { labels: workload.labels, annotations: {}, hostNetwork: false, containers: [], initContainers: [] },
    namespace: workload.namespace,
    namespaceLabels: {},
    namespaceAnnotations: {},
    gateway: false,
  };
  return rules.find((rule) => ruleMatches(rule.match, input))?.profile;
}
