import type { Config, Mode } from '../config/types.js';
import { finding, type Evaluation, type Finding, type Webhook } from './decision.js';
import { describeExemption, resolveExemptions, type Exemption, type ExemptionKind, type ExemptionSummary } from './exemptions.js';
import { decideMeshMembership, isGatewayPod, type Membership } from './mesh-membership.js';
import { effectiveMode } from './mode.js';
import { isRecord } from './object-facts.js';
import { globMatches } from './profiles.js';
import type { AdmissionInput } from './request.js';
import type { ClusterFacts, Labels, PodTemplateView } from './types.js';
import { membershipViewOf, podTemplateOf, podTemplatePath } from './workload-view.js';

/** Everything both webhooks need to know about a pod-bearing object before their own rules. */
export interface WorkloadContext {
  readonly template: PodTemplateView;
  readonly templatePath: readonly string[];
  readonly namespace: string;
  readonly namespaceLabels: Labels;
  readonly namespaceAnnotations: Labels;
  readonly mode: Mode;
  readonly membership: Membership;
  readonly gateway: boolean;
  readonly exemptions: ExemptionSummary;
  /** Notices every outcome carries: refused exemptions, an invalid mode label. */
  readonly notices: readonly Finding[];
  /** `Deployment "web"`, or just the kind for a generateName pod. */
  readonly subject: string;
}

/** An evaluation that lets the request through untouched. */
export function allowUntouched(webhook: Webhook, mode: Mode, code: string, notices: readonly Finding[] = []): Evaluation {
  return { webhook, mode, code, violations: [], notices, exemptions: [], refusals: [] };
}

/** What a decision is while the cluster view is not synced: allowed with a warning, or denied (cluster.whenUnsynced). */
export function unsyncedEvaluation(webhook: Webhook, mode: Mode, config: Config, notices: readonly Finding[]): Evaluation {
  const text = `cluster view not synced: the request was not checked (cluster.whenUnsynced: ${config.cluster.whenUnsynced})`;
  const unsynced = finding('CLUSTER_VIEW_NOT_SYNCED', text);
  if (config.cluster.whenUnsynced === 'allow') return allowUntouched(webhook, mode, 'CLUSTER_VIEW_NOT_SYNCED', [...notices, unsynced]);
  return { ...allowUntouched(webhook, mode, 'CLUSTER_VIEW_NOT_SYNCED', notices), violations: [unsynced] };
}

/** Refused exemptions become notices: the answer always says why an exemption was not honoured. */
export function refusalNotices(exemptions: Pick<ExemptionSummary, 'refused'>): Finding[] {
  return exemptions.refused.map((r) => finding(r.code, `exemption not honoured: ${r.message}`));
}

/** The honoured exemption covering `kind`, with the notice that makes it visible. */
export function useExemption(context: WorkloadContext, kind: ExemptionKind): { exemption: Exemption; notice: Finding } | undefined {
  const exemption = context.exemptions.honoured.find((e) => e.kinds.includes(kind));
  if (!exemption) return undefined;
  const text = `${kind} check skipped: ${describeExemption(exemption)}`;
  return { exemption, notice: finding('EXEMPT', text) };
}

/**
 * Reads the pod template, the mode, mesh membership and exemptions of a pod-bearing request.
 * Returns an Evaluation instead when the request needs no further look (mode off, not meshed,
 * view not synced, …).
 */
export function prepareWorkload(
  webhook: Webhook,
  input: AdmissionInput,
  facts: ClusterFacts,
  config: Config,
  now: Date,
): WorkloadContext | Evaluation {
  const groupKind = input.kind;
  // Membership first, from the few fields that decide it: a pod outside the mesh (most pods in
  // most clusters) is answered without reading the rest of it.
  const light = membershipViewOf(groupKind, input.object);
  const { mode, notice: modeNotice } = effectiveMode(config, facts.namespace);
  const baseNotices: Finding[] = modeNotice ? [modeNotice] : [];
  if (light === undefined) return allowUntouched(webhook, mode, 'NO_POD_TEMPLATE', baseNotices);
  if (mode === 'off') return allowUntouched(webhook, mode, 'MODE_OFF');
  if (!facts.synced) return unsyncedEvaluation(webhook, mode, config, baseNotices);

  const namespaceLabels = facts.namespace?.labels ?? {};
  const membership = decideMeshMembership(light, input.namespace, namespaceLabels);
  if (!membership.meshed) return allowUntouched(webhook, mode, membership.code, baseNotices);
  const template = podTemplateOf(groupKind, input.object) as PodTemplateView;

  const namespaceAnnotations = facts.namespace?.annotations ?? {};
  // A pod is a gateway (no scope check, gateway rules and profile) only where the admin says:
  // anyone can shape a pod like one (a lone istio-proxy, inject.istio.io/templates: gateway).
  const looksLikeGateway = isGatewayPod(template);
  const gateway = looksLikeGateway && config.tenancy.gatewayNamespaces.some((glob) => globMatches(glob, input.namespace));
  if (looksLikeGateway && !gateway) {
    baseNotices.push(
      finding('GATEWAY_NOT_RECOGNISED', `the pod is shaped like a gateway, but namespace ${input.namespace} is not in tenancy.gatewayNamespaces: it is checked as a workload (Sidecar scope, workload profiles and ceilings)`),
    );
  }
  const exemptions = resolveExemptions(namespaceAnnotations, template.annotations, config.exceptions, now);
  return {
    template,
    templatePath: podTemplatePath(groupKind) ?? [],
    namespace: input.namespace,
    namespaceLabels,
    namespaceAnnotations,
    mode,
    membership,
    gateway,
    exemptions,
    notices: [...baseNotices, ...refusalNotices(exemptions)],
    subject: describeSubject(input.kind.kind, input.name, input.object),
  };
}

/**
 * How messages name the object: `Pod "web"`; a pod created from `generateName` (its name is set only
 * after admission) by that prefix and its owner, `Pod "web-7d9f-*" of ReplicaSet "web-7d9f"`.
 */
export function describeSubject(kind: string, requestName: string, object: unknown): string {
  const metadata = isRecord(object) && isRecord(object.metadata) ? object.metadata : {};
  const name = requestName || (typeof metadata.name === 'string' ? metadata.name : '');
  if (name !== '') return `${kind} "${name}"`;
  const owners = Array.isArray(metadata.ownerReferences) ? metadata.ownerReferences.filter(isRecord) : [];
  const owner = owners.find((o) => o.controller === true) ?? owners[0];
  const of = owner && typeof owner.kind === 'string' && typeof owner.name === 'string' ? ` of ${owner.kind} "${owner.name}"` : '';
  const generateName = typeof metadata.generateName === 'string' && metadata.generateName !== '' ? ` "${metadata.generateName}*"` : '';
  return `${kind}${generateName}${of}`;
}

export function isEvaluation(value: WorkloadContext | Evaluation): value is Evaluation {
  return 'webhook' in value;
}
