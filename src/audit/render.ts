import { plural, renderTable, type Cell } from '../cli/table.js';
import { toManifestYaml } from '../kube/manifest-yaml.js';
import type { AuditReport, ExemptionStatus, ProxyResources } from './audit.js';
import { renderMemorySection } from './memory-report.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** Why an exemption was refused, in words, for the Findings list (the table shows only its code). */
function refusal(exemption: ExemptionStatus): string {
  return `${exemption.target} exemption refused (${exemption.code ?? 'refused'}), so it is not honoured: ${exemption.message ?? 'see the exemption annotations'}`;
}

function resources(value: ProxyResources | undefined): string {
  if (!value || Object.keys(value).length === 0) return '-';
  return `${value.memory ?? '?'}/${value.memoryLimit ?? '?'} ${value.cpu ?? '?'}/${value.cpuLimit ?? '?'}`;
}

/** One line with the counts; also the last line of the table output. */
export function summaryLine(report: AuditReport): string {
  const s = report.summary;
  const unknown = s.unknown > 0 ? `, ${s.unknown} unknown` : '';
  return `${plural(s.namespaces, 'namespace')} (${s.meshNamespaces} in the mesh), ${plural(s.workloads, 'workload')} (${s.meshWorkloads} meshed${unknown}): ${s.denied} would be denied, ${plural(s.namespaceProblems, 'Sidecar problem')}`;
}

/**
 * The report as a readable table (colour only when `colour`), or as JSON/YAML with the shape of
 * AuditReport (documented in the README).
 */
export function renderReport(report: AuditReport, format: OutputFormat, colour = false, suggestedHosts: readonly string[] = ['./*', 'istio-system/*']): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'yaml') return toManifestYaml(report);
  const red = (text: string): Cell => ({ text, tone: 'red' });
  const yellow = (text: string): Cell => ({ text, tone: 'yellow' });
  const namespaceRows: Cell[][] = report.namespaces.map((n) => [
    n.name,
    n.inMesh === 'unknown' ? yellow('unknown') : n.inMesh ? 'yes' : 'no',
    n.mode,
    n.scopedBy ?? (n.inMesh === true ? red('none') : '-'),
    n.problems.length || n.exemption?.status === 'refused'
      ? red([...n.problems.map((p) => p.code), ...(n.exemption?.status === 'refused' ? [`exemption-refused(${n.exemption.code ?? ''})`] : [])].join(','))
      : '-',
  ]);
  const workloadRows: Cell[][] = report.workloads.map((w) => [
    w.namespace,
    `${w.kind}/${w.name}`,
    w.meshed === 'unknown' ? yellow('unknown') : w.meshed ? 'yes' : 'no',
    w.verdict === 'deny' ? red('DENY') : w.verdict === 'unknown' ? yellow('unknown') : { text: 'pass', tone: 'green' },
    w.profile ?? '-',
    resources(w.current),
    resources(w.target),
    [...w.codes, ...w.exemptions.map((e) => (e.status === 'honoured' ? `exempt(${e.target})` : `exemption-refused(${e.code})`))].join(','),
  ]);
  const problems = [
    ...report.namespaces.flatMap((n) => [
      ...n.problems.map((p) => `  ${n.name}: ${p.message}`),
      ...(n.exemption?.status === 'refused' ? [`  ${n.name}: ${refusal(n.exemption)}`] : []),
    ]),
    ...report.workloads.flatMap((w) => [
      ...w.findings.map((f) => `  ${w.namespace}/${w.kind}/${w.name}: ${f}`),
      // A namespace's refused exemption is listed once, under the namespace.
      ...w.exemptions.filter((e) => e.status === 'refused' && e.target === 'workload').map((e) => `  ${w.namespace}/${w.kind}/${w.name}: ${refusal(e)}`),
    ]),
  ];
  const options = { colour };
  return [
    renderTable(['NAMESPACE', 'MESH', 'MODE', 'SCOPED BY', 'PROBLEMS'], namespaceRows, options).trimEnd(),
    '',
    renderTable(['NAMESPACE', 'WORKLOAD', 'MESH', 'VERDICT', 'PROFILE', 'PROXY NOW (mem req/lim cpu req/lim)', 'PROXY AFTER', 'REASONS'], workloadRows, options).trimEnd(),
    ...(problems.length ? ['', 'Findings:', ...problems] : []),
    ...renderMemorySection(report.workloads, report.scopingSavings ?? [], suggestedHosts),
    '',
    summaryLine(report),
    '',
  ].join('\n');
}
