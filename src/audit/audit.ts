import { reviewInput } from '../admission/review.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import { readClusterFacts } from '../cluster/facts.js';
import type { Config } from '../config/types.js';
import { MODE_LABEL } from '../policy/annotations.js';
import type { Evaluation } from '../policy/decision.js';
import { readExemption, type ExemptionReading } from '../policy/exemptions.js';
import { ISTIO_INJECTION } from '../policy/annotations.js';
import { decideMeshMembership, findProxyContainer, IGNORED_NAMESPACES, isGatewayPod, isMeshNamespace } from '../policy/mesh-membership.js';
import { globMatches } from '../policy/profiles.js';
import { effectiveMode } from '../policy/mode.js';
import { ANNOTATION_FOR, CONTAINER_FIELD_FOR, RESOURCE_KEYS, type ResourceKey } from '../policy/proxy-resources.js';
import { findEffectiveSidecar, isScopingSidecar, meshWideHosts } from '../policy/sidecar-scope.js';
import type { ClusterFacts, Labels, NamespaceFacts, PodTemplateView, SidecarFacts } from '../policy/types.js';
import { podTemplateOf, podTemplatePath } from '../policy/workload-view.js';
import { createInputFor, podFromTemplate, type WorkloadObject } from './workloads.js';
import { rankSavings, workloadMemory, type ScopingSaving, type WorkloadMemory } from './memory-report.js';

export type ProxyResources = Partial<Record<ResourceKey, string>>;

export interface ExemptionStatus {
  readonly target: 'namespace' | 'workload';
  readonly status: 'honoured' | 'refused';
  readonly kinds?: readonly string[];
  readonly reason?: string;
  readonly until?: string;
  readonly code?: string;
  readonly message?: string;
}

export interface WorkloadReport {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** `unknown` when the namespace is not among the inputs and the pod alone does not settle it. */
  readonly meshed: boolean | 'unknown';
  readonly membership: string;
  /** What enforce would answer: `deny` when any webhook would deny it; `unknown` when mesh membership is. */
  readonly verdict: 'pass' | 'deny' | 'unknown';
  readonly codes: readonly string[];
  readonly findings: readonly string[];
  readonly profile?: string;
  /** Proxy resources as they are now: from the istio-proxy container, or the annotations. */
  readonly current: ProxyResources;
  readonly currentSource: 'istio-proxy' | 'annotations' | 'none';
  /** Proxy resources after the mutating webhook. */
  readonly target?: ProxyResources;
  readonly exemptions: readonly ExemptionStatus[];
  /** Predicted proxy memory, when the view keeps Services (docs/memory-model.md). */
  readonly memory?: WorkloadMemory;
}

export interface NamespaceReport {
  readonly name: string;
  /** `unknown` when no Namespace object (nor a stated label) tells. */
  readonly inMesh: boolean | 'unknown';
  readonly mode: string;
  /** `namespace/name` of the Sidecar that scopes the namespace as a whole, if any. */
  readonly scopedBy?: string;
  readonly sidecars: readonly string[];
  readonly problems: readonly NamespaceProblem[];
  readonly exemption?: ExemptionStatus;
}

export interface NamespaceProblem {
  readonly code: string;
  readonly message: string;
  /** Names of the Sidecars (in this namespace) the problem is about. */
  readonly sidecars: readonly string[];
}

export interface AuditReport {
  readonly namespaces: readonly NamespaceReport[];
  readonly workloads: readonly WorkloadReport[];
  readonly summary: {
    readonly namespaces: number;
    readonly meshNamespaces: number;
    readonly workloads: number;
    readonly meshWorkloads: number;
    /** Workloads whose mesh membership is unknown (their namespace is not among the inputs). */
    readonly unknown: number;
    readonly denied: number;
    readonly namespaceProblems: number;
  };
  /** Namespaces by the memory the suggested Sidecar would save across their pods, largest first. */
  readonly scopingSavings?: readonly ScopingSaving[];
}

export interface AuditInput {
  readonly workloads: readonly WorkloadObject[];
  readonly view: ClusterView;
  /** Namespaces to report on besides the ones workloads live in. */
  readonly namespaces: readonly string[];
  readonly config: Config;
  readonly now: Date;
  /** A running pod per workload (`namespace/Kind/name`), whose istio-proxy shows the current resources. */
  readonly runningPods?: ReadonlyMap<string, Record<string, unknown>>;
}

/** The key `runningPods` is indexed by. */
export function workloadKey(namespace: string, kind: string, name: string): string {
  return `${namespace}/${kind}/${name}`;
}

function statusOf(reading: ExemptionReading): ExemptionStatus | undefined {
  if (reading.status === 'honoured') {
    const { target, kinds, reason, until } = reading.exemption;
    return { target, status: 'honoured', kinds, reason, ...(until ? { until } : {}) };
  }
  if (reading.status === 'refused') {
    return { target: reading.refusal.target, status: 'refused', code: reading.refusal.code, message: reading.refusal.message };
  }
  return undefined;
}

/** Audit asks what enforce would say: the namespace's own mode label is reported, not applied. */
function enforceFacts(facts: ClusterFacts): ClusterFacts {
  if (!facts.namespace || facts.namespace.labels[MODE_LABEL] === undefined) return facts;
  const labels = Object.fromEntries(Object.entries(facts.namespace.labels).filter(([key]) => key !== MODE_LABEL));
  return { ...facts, namespace: { ...facts.namespace, labels } };
}

function currentResources(workload: WorkloadObject): { current: ProxyResources; source: WorkloadReport['currentSource'] } {
  const template = podTemplateOf(workload, workload.object);
  if (!template) return { current: {}, source: 'none' };
  const proxy = findProxyContainer(template);
  const current: ProxyResources = {};
  if (proxy?.container.resources) {
    for (const key of RESOURCE_KEYS) {
      const [section, resource] = CONTAINER_FIELD_FOR[key];
      const value = proxy.container.resources[section]?.[resource];
      if (value !== undefined) current[key] = value;
    }
    if (Object.keys(current).length > 0) return { current, source: 'istio-proxy' };
  }
  for (const key of RESOURCE_KEYS) {
    const value = template.annotations[ANNOTATION_FOR[key]];
    if (value !== undefined) current[key] = value;
  }
  return { current, source: Object.keys(current).length > 0 ? 'annotations' : 'none' };
}

function targetResources(pod: WorkloadObject, evaluation: Evaluation, current: ProxyResources): ProxyResources | undefined {
  if (!evaluation.changes) return undefined;
  const template = podTemplateOf(pod, pod.object);
  const target: ProxyResources = {};
  for (const key of RESOURCE_KEYS) {
    const value = evaluation.changes.annotations[ANNOTATION_FOR[key]] ?? template?.annotations[ANNOTATION_FOR[key]] ?? current[key];
    if (value !== undefined) target[key] = value;
  }
  return target;
}

/** The code for a workload whose namespace is unknown and whose pod does not settle membership alone. */
export const UNKNOWN_NAMESPACE = 'UNKNOWN_NAMESPACE';

/** Istio's answer does not depend on the namespace's labels: the pod (or the namespace's name) settles it. */
function settledWithoutNamespace(pod: PodTemplateView, namespace: string): boolean {
  const probes: Labels[] = [{}, { [ISTIO_INJECTION]: 'enabled' }, { [ISTIO_INJECTION]: 'disabled' }];
  const answers = new Set(probes.map((labels) => decideMeshMembership(pod, namespace, labels).meshed));
  return answers.size === 1;
}

function unknownWorkload(workload: WorkloadObject, base: Omit<WorkloadReport, 'meshed' | 'membership' | 'verdict' | 'codes' | 'findings'>): WorkloadReport {
  return {
    ...base,
    meshed: 'unknown',
    membership: UNKNOWN_NAMESPACE,
    verdict: 'unknown',
    codes: [UNKNOWN_NAMESPACE],
    findings: [`namespace ${workload.namespace} is not among the inputs, so whether its pods get an Istio sidecar is unknown`],
  };
}

function auditWorkload(workload: WorkloadObject, input: AuditInput): WorkloadReport {
  const config: Config = { ...input.config, mode: 'enforce' };
  const factsFor = (namespace: string) => enforceFacts(readClusterFacts(input.view, namespace, config));
  const deps = { config, now: input.now, factsFor };
  const validation = reviewInput('validate', createInputFor(workload), deps).evaluation;
  const path = podTemplatePath(workload) ?? [];
  let template: unknown = workload.object;
  for (const segment of path) template = (template as Record<string, unknown> | undefined)?.[segment];
  const pod = workload.kind === 'Pod' ? workload : podFromTemplate(workload, template as { metadata?: unknown; spec?: unknown });
  const mutation = reviewInput('mutate', createInputFor(pod), deps).evaluation;

  const violations = [...validation.violations, ...mutation.violations.filter((m) => !validation.violations.some((v) => v.code === m.code))];
  const facts = factsFor(workload.namespace);
  const podView = podTemplateOf(pod, pod.object);
  const membership = podView ? decideMeshMembership(podView, workload.namespace, facts.namespace?.labels ?? {}) : undefined;
  const running = input.runningPods?.get(workloadKey(workload.namespace, workload.kind, workload.name));
  const { current, source } = currentResources(
    running ? { group: '', version: 'v1', kind: 'Pod', namespace: workload.namespace, name: workload.name, object: running } : workload,
  );
  const target = targetResources(pod, mutation, current);
  const exemptions = [
    statusOf(readExemption(facts.namespace?.annotations ?? {}, 'namespace', config.exceptions, input.now)),
    statusOf(readExemption(podView?.annotations ?? {}, 'workload', config.exceptions, input.now)),
  ].filter((e): e is ExemptionStatus => e !== undefined);
  const base = {
    kind: workload.kind,
    namespace: workload.namespace,
    name: workload.name,
    ...(mutation.profile ? { profile: mutation.profile } : {}),
    current,
    currentSource: source,
    ...(target ? { target } : {}),
    exemptions,
  };
  if (!facts.namespace && podView && !settledWithoutNamespace(podView, workload.namespace)) return unknownWorkload(workload, base);
  // A Sidecar does not apply to gateways (sidecar.proto NOTE 3): they are not predicted.
  const gateway = podView !== undefined && isGatewayPod(podView) && config.tenancy.gatewayNamespaces.some((glob) => globMatches(glob, workload.namespace));
  const memory =
    membership?.meshed && podView && !gateway
      ? workloadMemory(workload.namespace, podView.labels, workload.object, facts, config, target?.memoryLimit ?? current.memoryLimit)
      : undefined;
  return {
    ...base,
    ...(memory ? { memory } : {}),
    meshed: membership?.meshed ?? false,
    membership: membership?.code ?? validation.code,
    verdict: violations.length > 0 ? 'deny' : 'pass',
    codes: violations.length > 0 ? violations.map((v) => v.code) : [validation.code],
    findings: violations.map((v) => v.summary),
  };
}

function sidecarRef(sidecar: SidecarFacts): string {
  return `${sidecar.namespace}/${sidecar.name}`;
}

function auditNamespace(name: string, input: AuditInput): NamespaceReport {
  const facts = readClusterFacts(input.view, name, input.config);
  const namespace: NamespaceFacts | undefined = facts.namespace;
  const labels = namespace?.labels ?? {};
  const problems: NamespaceProblem[] = [];
  for (const sidecar of facts.sidecars) {
    const wide = meshWideHosts(sidecar, input.config.scope.clusterDomain);
    if (wide.length > 0) {
      problems.push({
        code: 'SIDECAR_WILDCARD_EGRESS',
        message: `Sidecar ${sidecarRef(sidecar)} has egress host ${wide.map((h) => `"${h}"`).join(', ')} and scopes nothing`,
        sidecars: [sidecar.name],
      });
    } else if (!isScopingSidecar(sidecar, input.config.scope.clusterDomain)) {
      problems.push({ code: 'SIDECAR_NO_EGRESS', message: `Sidecar ${sidecarRef(sidecar)} declares no egress hosts and scopes nothing`, sidecars: [sidecar.name] });
    }
  }
  const selectorless = facts.sidecars.filter((s) => s.workloadSelector === undefined);
  if (selectorless.length > 1) {
    problems.push({
      code: 'DUPLICATE_NAMESPACE_SIDECAR',
      message: `${selectorless.length} selector-less Sidecars (${selectorless.map((s) => s.name).join(', ')}): Istio's behaviour is undefined (IST0111)`,
      sidecars: selectorless.map((s) => s.name),
    });
  }
  const effective = findEffectiveSidecar({}, facts);
  const scoped =
    effective !== undefined &&
    effective.source !== 'workload-selector' &&
    isScopingSidecar(effective.sidecar, input.config.scope.clusterDomain) &&
    (effective.source === 'namespace' || input.config.scope.acceptRootNamespaceDefault);
  const exemption = statusOf(readExemption(namespace?.annotations ?? {}, 'namespace', input.config.exceptions, input.now));
  return {
    name,
    inMesh: namespace === undefined && !IGNORED_NAMESPACES.includes(name) ? 'unknown' : isMeshNamespace(labels),
    mode: effectiveMode(input.config, namespace).mode,
    ...(scoped && effective ? { scopedBy: sidecarRef(effective.sidecar) } : {}),
    sidecars: facts.sidecars.map((s) => s.name).sort(),
    problems,
    ...(exemption ? { exemption } : {}),
  };
}

/**
 * Audits workloads and namespaces with the webhook's own decision code, as enforce would
 * judge them. Pure over its inputs: the same report for the same manifests and clock.
 */
export function auditCluster(input: AuditInput): AuditReport {
  const workloads = input.workloads
    .map((w) => auditWorkload(w, input))
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  const names = [...new Set([...input.namespaces, ...input.workloads.map((w) => w.namespace)])].sort();
  const namespaces = names.map((n) => auditNamespace(n, input));
  return {
    namespaces,
    workloads,
    summary: {
      namespaces: namespaces.length,
      meshNamespaces: namespaces.filter((n) => n.inMesh === true).length,
      workloads: workloads.length,
      meshWorkloads: workloads.filter((w) => w.meshed === true).length,
      unknown: workloads.filter((w) => w.verdict === 'unknown').length,
      denied: workloads.filter((w) => w.verdict === 'deny').length,
      namespaceProblems: namespaces.reduce((sum, n) => sum + n.problems.length, 0),
    },
    ...(workloads.some((w) => w.memory) ? { scopingSavings: rankSavings(workloads) } : {}),
  };
}

/** True when some workload could not be judged because its namespace's mesh membership is unknown. */
export function hasUnknowns(report: AuditReport): boolean {
  return report.summary.unknown > 0;
}

/** True when enforce would deny something in the report. */
export function hasDenials(report: AuditReport): boolean {
  return report.summary.denied > 0 || report.summary.namespaceProblems > 0;
}
