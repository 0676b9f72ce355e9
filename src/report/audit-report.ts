import type { AuditReport } from '../audit/audit.js';
import { toManifestYaml } from '../kube/manifest-yaml.js';
import { parseQuantity } from '../policy/quantity.js';
import { describeBytes } from '../recommend/memory-quantity.js';
import { renderPage, type Section } from './html.js';

function memory(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseQuantity(value);
}

/**
 * `audit --html`: per workload the proxy memory request and limit now and after the mutating
 * webhook, namespaces ranked by how many workloads enforce would deny, and the Sidecars of `--fix`.
 */
export function auditReport(report: AuditReport, fix: readonly Record<string, unknown>[], generated: Date): string {
  const meshed = report.workloads.filter((w) => w.meshed !== false);
  const names = meshed.map((w) => `${w.namespace}/${w.kind}/${w.name}`);
  const byNamespace = report.namespaces
    .map((n) => ({ name: n.name, denied: report.workloads.filter((w) => w.namespace === n.name && w.verdict === 'deny').length + n.problems.length, unscoped: n.inMesh === true && n.scopedBy === undefined }))
    .sort((a, b) => b.denied - a.denied || a.name.localeCompare(b.name));
  const sections: Section[] = [
    { kind: 'text', text: `${report.summary.workloads} workloads (${report.summary.meshWorkloads} meshed), ${report.summary.denied} would be denied; ${report.summary.namespaceProblems} Sidecar problems.` },
    {
      kind: 'chart',
      id: 'memory-by-workload',
      title: 'istio-proxy memory per mesh workload: now and after the mutating webhook',
      categories: names,
      series: [
        { name: 'request now', values: meshed.map((w) => memory(w.current.memory)) },
        { name: 'limit now', values: meshed.map((w) => memory(w.current.memoryLimit)) },
        { name: 'request after', values: meshed.map((w) => memory(w.target?.memory)) },
        { name: 'limit after', values: meshed.map((w) => memory(w.target?.memoryLimit)) },
      ],
      format: describeBytes,
    },
    {
      kind: 'chart',
      id: 'namespaces-ranked',
      title: 'Namespaces ranked by findings (denied workloads and Sidecar problems)',
      categories: byNamespace.map((n) => n.name),
      series: [{ name: 'findings', values: byNamespace.map((n) => n.denied) }],
      format: (v) => String(v),
    },
    {
      kind: 'table',
      title: 'Workloads',
      head: ['namespace', 'workload', 'mesh', 'verdict', 'profile', 'reasons', 'findings'],
      rows: report.workloads.map((w) => [w.namespace, `${w.kind}/${w.name}`, String(w.meshed), w.verdict, w.profile ?? '-', w.codes.join(', '), w.findings.join('; ')]),
    },
    {
      kind: 'table',
      title: 'Namespaces',
      head: ['namespace', 'mesh', 'mode', 'scoped by', 'problems'],
      rows: report.namespaces.map((n) => [n.name, String(n.inMesh), n.mode, n.scopedBy ?? '-', n.problems.map((p) => p.code).join(', ') || '-']),
    },
    { kind: 'code', title: 'Suggested Sidecars (audit --fix)', blocks: fix.map((m) => ({ label: sidecarName(m), text: toManifestYaml(m) })) },
  ];
  return renderPage('sidecar-guard audit', `Generated ${generated.toISOString()} by sidecar-guard audit`, sections);
}

function sidecarName(manifest: Record<string, unknown>): string {
  const metadata = manifest.metadata as { namespace?: string; name?: string } | undefined;
  return `${metadata?.namespace ?? ''}/${metadata?.name ?? ''}`;
}
