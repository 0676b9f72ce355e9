import type { Config } from '../config/types.js';
import { finding, type Evaluation, type Finding } from './decision.js';
import { resolveExemptions } from './exemptions.js';
import { isMeshNamespace } from './mesh-membership.js';
import { effectiveMode } from './mode.js';
import type { AdmissionInput } from './request.js';
import { describeScopeProblem, findEffectiveSidecar, isScopingSidecar, meshWideHosts, scopeVerdict, suggestSidecarManifest, WHY_SCOPE, type EffectiveSidecar } from './sidecar-scope.js';
import { planSizing } from './sizing.js';
import type { ClusterFacts, SidecarFacts } from './types.js';
import { allowUntouched, isEvaluation, prepareWorkload, refusalNotices, unsyncedEvaluation, useExemption, type WorkloadContext } from './workload-context.js';
import { isPodBearingKind } from './workload-view.js';
import { toSidecarFacts } from './object-facts.js';
import { validatePodRelabel } from './pod-relabel.js';
import { optedInPodsFinding, podsSidecarsApplyTo, podsUnscopedByChange } from './sidecar-effect.js';
import { checkSidecarMemory } from './sidecar-memory.js';

function scopeFinding(context: WorkloadContext, effective: EffectiveSidecar | undefined, config: Config): Finding | undefined {
  const verdict = scopeVerdict(effective, config.scope);
  if (verdict.scoped) return undefined;
  const problem = describeScopeProblem(verdict, context.namespace);
  const manifest = suggestSidecarManifest(context.namespace, config.scope.suggestedEgressHosts);
  const code = verdict.code === 'NO_SIDECAR' ? 'MISSING_SIDECAR' : verdict.code;
  return finding(
    code,
    `${context.subject} runs an Istio sidecar (${context.membership.reason}), and ${problem}. ${WHY_SCOPE}.\n` +
      `To fix it, apply a Sidecar that limits egress to what the workload calls, such as this one (kubectl apply -f -), or ask for an exemption (sidecar-guard.io/exempt):\n---\n${manifest}`,
    `${problem}; apply a Sidecar with egress hosts ${config.scope.suggestedEgressHosts.join(', ')}`,
  );
}

function validateWorkload(input: AdmissionInput, facts: ClusterFacts, config: Config, now: Date): Evaluation {
  if (input.operation !== 'CREATE' && input.operation !== 'UPDATE') return allowUntouched('validate', config.mode, 'OPERATION_NOT_CHECKED');
  if (input.kind.kind === 'Pod' && input.operation === 'UPDATE') return validatePodRelabel(input, facts, config, now);
  const deleting = (input.object as { metadata?: { deletionTimestamp?: unknown } } | null)?.metadata?.deletionTimestamp;
  if (deleting != null) return allowUntouched('validate', config.mode, 'BEING_DELETED');

  const prepared = prepareWorkload('validate', input, facts, config, now);
  if (isEvaluation(prepared)) return prepared;
  const context = prepared;
  const violations: Finding[] = [];
  const notices: Finding[] = [...context.notices];
  const exemptions = [];
  // The Sidecar that applies decides both the scope check and the memory prediction: looked up once.
  // A Sidecar does not apply to gateways (sidecar.proto NOTE 3).
  const lookedUp = { effective: context.gateway ? undefined : findEffectiveSidecar(context.template.labels, facts) };

  if (!context.gateway) {
    const exempt = useExemption(context, 'scope');
    if (exempt) {
      exemptions.push(exempt.exemption);
      notices.push(exempt.notice);
    } else {
      const problem = scopeFinding(context, lookedUp.effective, config);
      if (problem) violations.push(problem);
    }
  }

  // Controllers are checked here so a bad profile or an oversized proxy shows at apply time, not
  // as pods that never appear. Pods are checked too: validation runs after every mutation,
  // Istio's injection included, so this sees the final istio-proxy container whatever produced
  // its resources (our patch, the pod's own values, proxy.istio.io/overrides, another webhook).
  let profile: string | undefined;
  let memory: string | undefined;
  {
    const exempt = useExemption(context, 'resources');
    if (exempt) {
      exemptions.push(exempt.exemption);
      notices.push(exempt.notice);
    } else {
      const sizing = planSizing(context, config, { finalContainer: input.kind.kind === 'Pod', facts, lookedUp });
      profile = sizing.choice.name;
      violations.push(...sizing.violations);
      if (sizing.memoryFinding) notices.push(sizing.memoryFinding);
      memory = sizing.memorySummary;
    }
  }

  const code = violations[0]?.code ?? (context.gateway ? 'GATEWAY' : exemptions.length > 0 ? 'EXEMPT' : 'SCOPED');
  return {
    webhook: 'validate',
    mode: context.mode,
    code,
    violations,
    notices,
    exemptions,
    refusals: context.exemptions.refused,
    ...(profile ? { profile } : {}),
    ...(memory ? { memory } : {}),
  };
}

function isSidecarRequest(input: AdmissionInput): boolean {
  return input.kind.group === 'networking.istio.io' && input.kind.kind === 'Sidecar';
}

function ref(sidecar: SidecarFacts): string {
  return `${sidecar.namespace}/${sidecar.name}`;
}

function sameSelector(a: SidecarFacts, b: SidecarFacts): boolean {
  if (a.workloadSelector === undefined || b.workloadSelector === undefined) return a.workloadSelector === b.workloadSelector;
  const keys = Object.keys(a.workloadSelector);
  return keys.length === Object.keys(b.workloadSelector).length && keys.every((k) => b.workloadSelector?.[k] === a.workloadSelector?.[k]);
}

/**
 * When `before` stops applying (deleted, or its selector changed), the pods it scoped fall back to
 * the namespace's selector-less Sidecar. Only another *scoping selector-less* Sidecar (or an
 * accepted root default) keeps them scoped: a selector Sidecar next to it, say a decoy that
 * matches nothing, does not.
 */
function lostScopeFinding(before: SidecarFacts, how: string, facts: ClusterFacts, config: Config): Finding | undefined {
  const domain = config.scope.clusterDomain;
  const fallback =
    facts.sidecars.some((s) => s.name !== before.name && s.workloadSelector === undefined && isScopingSidecar(s, domain)) ||
    (config.scope.acceptRootNamespaceDefault && facts.rootSidecars.some((s) => s.workloadSelector === undefined && isScopingSidecar(s, domain)));
  if (fallback) return undefined;
  const scoped = before.workloadSelector === undefined ? `the mesh namespace "${before.namespace}"` : `the workloads it selects in "${before.namespace}"`;
  return finding(
    'LAST_SCOPING_SIDECAR',
    `${how} Sidecar ${ref(before)} would leave ${scoped} with no Sidecar that limits egress (no other selector-less Sidecar that limits egress would remain). ${WHY_SCOPE}. ` +
      'To fix it, first apply a selector-less Sidecar that limits egress (workload-specific ones do not cover the other pods), or take the namespace out of the mesh.',
    `${how.toLowerCase()} the last scoping Sidecar of mesh namespace "${before.namespace}"`,
  );
}

/**
 * A Sidecar change in a namespace known to have no injection label: judged only by its effect on
 * the pods that opted in there on their own (the cluster view's opted-in pods). With none running,
 * nothing there takes a Sidecar, so any change is allowed, at the cost of one lookup.
 */
function optedInSidecarFindings(input: AdmissionInput, facts: ClusterFacts, config: Config): Finding[] {
  if (facts.namespace?.terminating) return [];
  const pods = podsSidecarsApplyTo(facts.optedInPods ?? [], input.namespace, config);
  if (pods.length === 0) return [];
  const before = input.operation === 'CREATE' ? undefined : toSidecarFacts(input.oldObject, input.namespace);
  const after = input.operation === 'DELETE' ? undefined : toSidecarFacts(input.object, input.namespace);
  const changed = after ?? before;
  if (!changed) return [];
  const lost = optedInPodsFinding(input.operation, changed, podsUnscopedByChange(pods, facts, before, after, config.scope));
  return lost ? [lost] : [];
}

function sidecarObjectFindings(input: AdmissionInput, facts: ClusterFacts, config: Config): Finding[] {
  const domain = config.scope.clusterDomain;
  const namespace = facts.namespace;
  // Outside mesh namespaces only pods that opted in on their own take a Sidecar: judge the change by
  // its effect on them. An unknown namespace (the view lags behind) gets the mesh namespace's checks.
  if (namespace !== undefined && !isMeshNamespace(namespace.labels)) return optedInSidecarFindings(input, facts, config);
  const meshNamespace = namespace !== undefined && !namespace.terminating && isMeshNamespace(namespace.labels);
  if (input.operation === 'DELETE') {
    const deleted = toSidecarFacts(input.oldObject, input.namespace);
    if (!deleted || !meshNamespace || !isScopingSidecar(deleted, domain)) return [];
    const lost = lostScopeFinding(deleted, 'Deleting', facts, config);
    return lost ? [lost] : [];
  }
  if (input.operation !== 'CREATE' && input.operation !== 'UPDATE') return [];
  const sidecar = toSidecarFacts(input.object, input.namespace);
  if (!sidecar) return [];
  const findings: Finding[] = [];
  const suggestion = `To fix it, list only what the workloads call, such as ${config.scope.suggestedEgressHosts.map((h) => `"${h}"`).join(', ')}.`;
  const wide = meshWideHosts(sidecar, domain);
  if (wide.length > 0) {
    const hosts = wide.map((h) => `"${h}"`).join(', ');
    findings.push(
      finding(
        'SIDECAR_WILDCARD_EGRESS',
        `Sidecar ${ref(sidecar)} has egress host ${hosts}, which imports every service in the mesh, so the Sidecar limits nothing. ${suggestion}`,
        `egress host ${hosts} limits nothing`,
      ),
    );
  } else if (!isScopingSidecar(sidecar, domain)) {
    findings.push(
      finding(
        'SIDECAR_NO_EGRESS',
        `Sidecar ${ref(sidecar)} declares no egress hosts, so the workloads it applies to import every service in the mesh (Istio's default egress is "*/*"). ${suggestion}`,
        'no egress hosts: the workloads it applies to import the whole mesh',
      ),
    );
  }
  if (sidecar.workloadSelector === undefined) {
    const other = facts.sidecars.find((s) => s.name !== sidecar.name && s.workloadSelector === undefined);
    if (other) {
      findings.push(
        finding(
          'DUPLICATE_NAMESPACE_SIDECAR',
          `namespace "${sidecar.namespace}" already has a selector-less Sidecar, ${ref(other)}, and Istio does not define which of two it uses (istioctl analyze IST0111). ` +
            'To fix it, edit that one instead, or give this one a workloadSelector.',
          `a second selector-less Sidecar in "${sidecar.namespace}" (already: ${other.name})`,
        ),
      );
    }
  }
  if (input.operation === 'UPDATE' && meshNamespace) {
    const before = toSidecarFacts(input.oldObject, input.namespace);
    if (before && isScopingSidecar(before, domain) && !sameSelector(before, sidecar)) {
      const lost = lostScopeFinding(before, 'Changing the workloadSelector of', facts, config);
      if (lost) findings.push(lost);
    }
  }
  return findings;
}

function validateSidecarObject(input: AdmissionInput, facts: ClusterFacts, config: Config, now: Date): Evaluation {
  const { mode, notice } = effectiveMode(config, facts.namespace);
  const notices: Finding[] = notice ? [notice] : [];
  if (mode === 'off') return allowUntouched('validate', mode, 'MODE_OFF');
  if (!facts.synced) return unsyncedEvaluation('validate', mode, config, notices);
  const memory = checkSidecarMemory(input, facts, config);
  const findings = [...sidecarObjectFindings(input, facts, config), ...memory.violations];
  notices.push(...memory.notices);
  const exemptions = resolveExemptions(facts.namespace?.annotations ?? {}, undefined, config.exceptions, now);
  notices.push(...refusalNotices(exemptions));
  const scopeExemption = exemptions.honoured.find((e) => e.kinds.includes('scope'));
  if (findings.length > 0 && scopeExemption) {
    notices.push(finding('EXEMPT', `Sidecar checks skipped: namespace exemption from scope: ${scopeExemption.reason}`));
    return { webhook: 'validate', mode, code: 'EXEMPT', violations: [], notices, exemptions: [scopeExemption], refusals: exemptions.refused };
  }
  return {
    webhook: 'validate',
    mode,
    code: findings[0]?.code ?? 'SIDECAR_OK',
    violations: findings,
    notices,
    exemptions: [],
    refusals: exemptions.refused,
    ...(memory.summary ? { memory: memory.summary } : {}),
  };
}

/**
 * The validating webhook's decision: mesh workloads need a Sidecar that scopes their egress;
 * Sidecars must scope, not clash, and not leave a mesh namespace unscoped.
 *
 * @example evaluateValidation(input, facts, config, now).violations
 */
export function evaluateValidation(input: AdmissionInput, facts: ClusterFacts, config: Config, now: Date): Evaluation {
  // pods/status can rewrite metadata.labels too (the status strategy keeps only the spec and owner
  // references of the old pod): a relabel through it is judged like one through the pod itself.
  const podStatusRelabel = input.subResource === 'status' && input.kind.group === '' && input.kind.kind === 'Pod' && input.operation === 'UPDATE';
  if (input.subResource && !podStatusRelabel) return allowUntouched('validate', config.mode, 'SUBRESOURCE');
  if (isSidecarRequest(input)) return validateSidecarObject(input, facts, config, now);
  if (!isPodBearingKind(input.kind)) return allowUntouched('validate', config.mode, 'NOT_APPLICABLE');
  return validateWorkload(input, facts, config, now);
}
