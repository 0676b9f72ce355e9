import type { Config } from '../config/types.js';
import { finding, type Finding } from './decision.js';
import { isMeshNamespace } from './mesh-membership.js';
import { predictFor, requiredBytes, type MemoryPrediction } from './memory-check.js';
import { formatBytes, formatCount } from './memory-model.js';
import { toSidecarFacts } from './object-facts.js';
import { plainWorkloadProfile } from './profiles.js';
import { parseQuantity } from './quantity.js';
import type { AdmissionInput } from './request.js';
import { findEffectiveSidecar } from './sidecar-scope.js';
import type { ClusterFacts, SidecarFacts } from './types.js';

export interface SidecarMemoryCheck {
  readonly violations: readonly Finding[];
  readonly notices: readonly Finding[];
  /** Before → after, for the audit annotation. */
  readonly summary?: string;
}

const NOTHING: SidecarMemoryCheck = { violations: [], notices: [] };

/** What the workloads this Sidecar will apply to get today: the old object, else the Sidecar that applies to them now. */
function currentScope(input: AdmissionInput, sidecar: SidecarFacts, facts: ClusterFacts): SidecarFacts | undefined {
  if (input.operation === 'UPDATE') return toSidecarFacts(input.oldObject, input.namespace);
  // A copy of the list only when it holds that name already (a CREATE that will fail): findEffectiveSidecar
  // sorts a namespace's Sidecars once per list the view hands out, and a fresh copy is sorted again.
  const others = facts.sidecars.some((s) => s.name === sidecar.name) ? { ...facts, sidecars: facts.sidecars.filter((s) => s.name !== sidecar.name) } : facts;
  return findEffectiveSidecar(sidecar.workloadSelector ?? {}, others)?.sidecar;
}

function change(before: MemoryPrediction, after: MemoryPrediction): string {
  const delta = after.bytes - before.bytes;
  return (
    `${formatCount(before.services)} → ${formatCount(after.services)} services, ${formatCount(before.clusters)} → ${formatCount(after.clusters)} clusters, ` +
    `${formatCount(before.endpoints)} → ${formatCount(after.endpoints)} endpoints; predicted per proxy ${formatBytes(before.bytes)} → ${formatBytes(after.bytes)} (${delta >= 0 ? '+' : ''}${formatBytes(delta)})`
  );
}

/**
 * A new or changed Sidecar in a mesh namespace that widens what its workloads import: a notice
 * with the predicted change per proxy, and, when the prediction (plus margin) exceeds the memory
 * limit of the profile those workloads get by default, SIDECAR_PREDICTED_ABOVE_LIMIT, a
 * violation when `sizing.onSidecarOverLimit: deny` (so enforce denies it), else a notice.
 * A root-namespace Sidecar (the mesh default) is not predicted: it applies across namespaces.
 */
export function checkSidecarMemory(input: AdmissionInput, facts: ClusterFacts, config: Config): SidecarMemoryCheck {
  if (facts.catalog === undefined || (input.operation !== 'CREATE' && input.operation !== 'UPDATE')) return NOTHING;
  const namespace = facts.namespace;
  if (namespace === undefined || namespace.terminating || !isMeshNamespace(namespace.labels)) return NOTHING;
  if (namespace.name === config.scope.rootNamespace) return NOTHING;
  const sidecar = toSidecarFacts(input.object, input.namespace);
  if (!sidecar) return NOTHING;
  const before = predictFor(sidecar.namespace, currentScope(input, sidecar, facts), facts, config);
  const after = predictFor(sidecar.namespace, sidecar, facts, config);
  if (!before || !after || after.bytes <= before.bytes) return NOTHING;

  const whom = sidecar.workloadSelector === undefined ? `the workloads of "${sidecar.namespace}"` : 'the workloads it selects';
  const summary = change(before, after);
  const notices: Finding[] = [finding('SIDECAR_WIDENS_IMPORTS', `Sidecar ${sidecar.namespace}/${sidecar.name} widens what ${whom} import: ${summary}.`, `widens imports: ${summary}`)];
  const violations: Finding[] = [];
  const choice = plainWorkloadProfile(namespace, sidecar.workloadSelector ?? {}, config);
  const limit = parseQuantity(choice.profile.memoryLimit);
  if (limit !== undefined && requiredBytes(after, config) > limit) {
    const over = finding(
      'SIDECAR_PREDICTED_ABOVE_LIMIT',
      `Sidecar ${sidecar.namespace}/${sidecar.name}: ${whom} would be predicted at ${formatBytes(after.bytes)} per proxy (margin ${config.sizing.marginPercent}%), ` +
        `above the ${formatBytes(limit)} memory limit of profile ${choice.name} they get by default, so their proxies may be OOM-killed. ` +
        'List only the hosts they call, or give them a larger profile first.',
      `workloads would be predicted at ${formatBytes(after.bytes)} per proxy, above profile ${choice.name}'s ${formatBytes(limit)} limit`,
    );
    if (config.sizing.onSidecarOverLimit === 'deny') violations.push(over);
    else notices.push(over);
  }
  return { violations, notices, summary };
}
