import { toManifestYaml } from '../kube/manifest-yaml.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import type { Config } from '../config/types.js';
import { isScopingSidecar } from '../policy/sidecar-scope.js';
import type { AuditReport } from './audit.js';

const SCOPE_CODES = new Set(['MISSING_SIDECAR', 'SIDECAR_NOT_SCOPING', 'ROOT_DEFAULT_NOT_ACCEPTED']);

function sidecarManifest(namespace: string, name: string, hosts: readonly string[], selector?: Readonly<Record<string, string>>): Record<string, unknown> {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name, namespace },
    spec: { ...(selector ? { workloadSelector: { labels: { ...selector } } } : {}), egress: [{ hosts: [...hosts] }] },
  };
}

/**
 * The Sidecars that make every scope finding of a report pass: a namespace-wide `default` where
 * there is none, and a scoped replacement (same name) for each Sidecar that scopes nothing.
 * Returned as objects; `renderFix` prints them for `kubectl apply -f -`.
 */
export function planFix(report: AuditReport, view: ClusterView, config: Config): Record<string, unknown>[] {
  const hosts = config.scope.suggestedEgressHosts;
  const namespaces = new Set<string>();
  for (const workload of report.workloads) if (workload.codes.some((c) => SCOPE_CODES.has(c))) namespaces.add(workload.namespace);
  for (const namespace of report.namespaces) if (namespace.problems.some((p) => p.code === 'SIDECAR_WILDCARD_EGRESS' || p.code === 'SIDECAR_NO_EGRESS')) namespaces.add(namespace.name);

  const manifests: Record<string, unknown>[] = [];
  for (const namespace of [...namespaces].sort()) {
    const sidecars = view.sidecars(namespace);
    const broken = sidecars.filter((s) => !isScopingSidecar(s, config.scope.clusterDomain));
    for (const sidecar of broken) manifests.push(sidecarManifest(namespace, sidecar.name, hosts, sidecar.workloadSelector));
    const hasNamespaceWide = sidecars.some((s) => s.workloadSelector === undefined);
    if (!hasNamespaceWide) manifests.push(sidecarManifest(namespace, 'default', hosts));
  }
  return manifests;
}

/** Multi-document YAML ready for `kubectl apply -f -`, with a comment naming what cannot be fixed by Sidecars. */
export function renderFix(manifests: readonly Record<string, unknown>[], report: AuditReport): string {
  const unfixable = report.workloads.filter((w) => w.verdict === 'deny' && w.codes.some((c) => !SCOPE_CODES.has(c)));
  const header = unfixable.length
    ? unfixable.map((w) => `# not fixed by a Sidecar: ${w.namespace}/${w.kind}/${w.name}: ${w.codes.filter((c) => !SCOPE_CODES.has(c)).join(', ')}`).join('\n') + '\n'
    : '';
  return header + manifests.map((m) => `---\n${toManifestYaml(m)}`).join('');
}
