import type { Labels, PodFacts, WorkloadKind } from './observations.js';

/** The pods of one workload, with the labels all of them carry. */
export interface Workload {
  readonly namespace: string;
  readonly name: string;
  readonly kind: WorkloadKind;
  readonly pods: readonly PodFacts[];
  readonly labels: Labels;
}

/** `namespace/workload`, the key tables and maps use. */
export const workloadKey = (w: { readonly namespace: string; readonly workload?: string; readonly name?: string }): string =>
  `${w.namespace}/${w.workload ?? w.name ?? ''}`;

function commonLabels(pods: readonly PodFacts[]): Labels {
  const [first, ...rest] = pods;
  if (first === undefined) return {};
  return Object.fromEntries(Object.entries(first.labels).filter(([k, v]) => rest.every((p) => p.labels[k] === v)));
}

/**
 * Pods grouped by workload, sorted by namespace then name.
 *
 * @example groupWorkloads(pods).map((w) => w.name) // ["productpage-v1", "reviews-v1", …]
 */
export function groupWorkloads(pods: readonly PodFacts[]): Workload[] {
  const groups = new Map<string, PodFacts[]>();
  for (const pod of pods) groups.set(workloadKey(pod), [...(groups.get(workloadKey(pod)) ?? []), pod]);
  return [...groups.values()]
    .map((members) => {
      const first = members[0] as PodFacts;
      return { namespace: first.namespace, name: first.workload, kind: first.workloadKind, pods: members, labels: commonLabels(members) };
    })
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

const NAME_KEYS = ['app.kubernetes.io/name', 'app'] as const;
const VERSION_KEYS = ['app.kubernetes.io/version', 'version'] as const;

const selects = (selector: Labels, labels: Labels): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

/**
 * The smallest pod-label selector (`app`, then `app` + `version`) that selects `target` and
 * none of `others`; undefined when the labels cannot tell them apart.
 *
 * @example selectorFor(reviewsV2, [reviewsV1, reviewsV3]) // { app: 'reviews', version: 'v2' }
 */
export function selectorFor(target: Workload, others: readonly Workload[]): Labels | undefined {
  const nameKey = NAME_KEYS.find((k) => target.labels[k] !== undefined);
  if (nameKey === undefined) return undefined;
  const base = { [nameKey]: target.labels[nameKey] as string };
  const versionKey = VERSION_KEYS.find((k) => target.labels[k] !== undefined);
  const candidates = versionKey === undefined ? [base] : [base, { ...base, [versionKey]: target.labels[versionKey] as string }];
  return candidates.find((selector) => !others.some((other) => selects(selector, other.labels)));
}
