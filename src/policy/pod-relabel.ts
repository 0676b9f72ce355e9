import type { Config } from '../config/types.js';
import { finding, type Evaluation } from './decision.js';
import { findProxyContainer, isMeshNamespace } from './mesh-membership.js';
import { hasOptInLabel, OPT_IN_LABELS } from './pod-facts.js';
import type { AdmissionInput } from './request.js';
import { decideScope, describeScopeProblem } from './sidecar-scope.js';
import type { ClusterFacts, Labels } from './types.js';
import { allowUntouched, isEvaluation, prepareWorkload, useExemption } from './workload-context.js';
import { podTemplateOf } from './workload-view.js';

const POD = { group: '', kind: 'Pod' };

/** `app=web→api`, `tier=fe removed`, `canary=true added`: the labels that differ. */
function describeRelabel(before: Labels, after: Labels): string {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys
    .filter((key) => before[key] !== after[key])
    .map((key) => {
      if (!Object.hasOwn(after, key)) return `${key}=${before[key]} removed`;
      if (!Object.hasOwn(before, key)) return `${key}=${after[key]} added`;
      return `${key}=${before[key]}→${after[key]}`;
    })
    .join(', ');
}

/**
 * A pod UPDATE: only a label change is judged, and only for a pod that runs an istio-proxy. A Sidecar
 * selects pods by label and istiod re-pushes a relabelled pod's configuration with no admission
 * call, so a relabel that takes a scoped pod out of every scoping Sidecar's reach is denied. A pod
 * that was not scoped before the change (or is exempt, or a gateway) is let through: the change
 * does not make it worse, and operators relabel pods for their own reasons.
 */
export function validatePodRelabel(input: AdmissionInput, facts: ClusterFacts, config: Config, now: Date): Evaluation {
  const before = podTemplateOf(POD, input.oldObject);
  const after = podTemplateOf(POD, input.object);
  if (!before || !after || describeRelabel(before.labels, after.labels) === '') return allowUntouched('validate', config.mode, 'POD_UPDATE');
  // Injection happens at CREATE only: a pod without a proxy now never gets one, whatever its labels.
  if (findProxyContainer(after) === undefined) return allowUntouched('validate', config.mode, 'POD_UPDATE');

  const prepared = prepareWorkload('validate', input, facts, config, now);
  if (isEvaluation(prepared)) return prepared;
  const context = prepared;
  const base = { webhook: 'validate', mode: context.mode, violations: [], exemptions: [], refusals: context.exemptions.refused } as const;
  if (context.gateway) return { ...base, code: 'GATEWAY', notices: context.notices };
  const exempt = useExemption(context, 'scope');
  if (exempt) return { ...base, code: 'EXEMPT', notices: [...context.notices, exempt.notice], exemptions: [exempt.exemption] };

  // Outside mesh namespaces the cluster view knows a running proxy only by its opt-in label (any
  // value): dropping every such key would hide the pod from the judgement of later Sidecar changes.
  if (facts.namespace && !isMeshNamespace(facts.namespace.labels) && hasOptInLabel(before.labels) && !hasOptInLabel(after.labels)) {
    const change = describeRelabel(before.labels, after.labels);
    const violation = finding(
      'OPT_IN_LABEL_REMOVED',
      `${context.subject} runs an istio-proxy in namespace "${context.namespace}", which has no injection label, and the new labels (${change}) drop its last opt-in label (${OPT_IN_LABELS.join(' or ')}). ` +
        'sidecar-guard finds such pods by that label to judge later Sidecar changes; without it, a Sidecar change could unscope the pod unseen. ' +
        `Keep the label (any value; "false" does not remove the running proxy), or delete and recreate the pod without it (it then runs no proxy).`,
      `relabelling (${change}) drops the last opt-in label of a pod that runs an istio-proxy in a namespace without an injection label`,
    );
    return { ...base, code: violation.code, violations: [violation], notices: context.notices };
  }

  const verdict = decideScope(after.labels, facts, config.scope);
  if (verdict.scoped) return { ...base, code: 'SCOPED', notices: context.notices };
  const previous = decideScope(before.labels, facts, config.scope);
  if (!previous.scoped) return { ...base, code: 'POD_UPDATE', notices: context.notices };

  const scopedBy = previous.sidecar ? `${previous.sidecar.sidecar.namespace}/${previous.sidecar.sidecar.name}` : 'a Sidecar';
  const change = describeRelabel(before.labels, after.labels);
  const problem = describeScopeProblem(verdict, context.namespace);
  const violation = finding(
    'RELABEL_UNSCOPED',
    `${context.subject} runs an istio-proxy scoped by Sidecar ${scopedBy}, and the new labels (${change}) would take it out: ${problem}. ` +
      'istiod would push it the configuration of every service in the mesh with no further admission call, so proxy memory grows with the whole cluster until it is OOM-killed. ' +
      `Keep labels that a scoping Sidecar selects, or apply a scoping Sidecar for the new labels (or a selector-less one in "${context.namespace}") first.`,
    `relabelling (${change}) takes the pod out of Sidecar ${scopedBy}: ${problem}`,
  );
  return { ...base, code: violation.code, violations: [violation], notices: context.notices };
}
