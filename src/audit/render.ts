import { toManifestYaml } from '../kube/manifest-yaml.js';
import type { AuditReport, ProxyResources } from './audit.js';
import { renderMemorySection } from './memory-report.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

const COLOURS = { red: '\u001b[31m', green: '\u001b[32m', yellow: '\u001b[33m', dim: '\u001b[2m', reset: '\u001b[0m' } as const;

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

function resources(value: ProxyResources | undefined): string {
  if (!value || Object.keys(value).length === 0) return '-';
  return `${value.memory ?? '?'}/${value.memoryLimit ?? '?'} ${value.cpu ?? '?'}/${value.cpuLimit ?? '?'}`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** One line with the counts; also the last line of the table output. */
export function summaryLine(report: AuditReport): string {
  const s = report.summary;
  const unknown = s.unknown > 0 ? `, ${s.unknown} unknown` : '';
  return `${count(s.namespaces, 'namespace')} (${s.meshNamespaces} in the mesh), ${count(s.workloads, 'workload')} (${s.meshWorkloads} meshed${unknown}): ${s.denied} would be denied, ${count(s.namespaceProblems, 'Sidecar problem')}`;
}

/**
 * The report as a readable table (colour only when `colour`), or as JSON/YAML with the shape of
 * AuditReport (documented in the README).
 */
export function renderReport(report: AuditReport, format: OutputFormat, colour = false, suggestedHosts: readonly string[] = ['./*', 'istio-system/*']): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'yaml') return toManifestYaml(report);
  const paint = (text: string, tone: keyof typeof COLOURS) => (colour ? `${COLOURS[tone]}${text}${COLOURS.reset}` : text);
  const namespaceRows = [
    ['NAMESPACE', 'MESH', 'MODE', 'SCOPED BY', 'PROBLEMS'],
    ...report.namespaces.map((n) => [
      n.name,
      n.inMesh === 'unknown' ? paint('unknown', 'yellow') : n.inMesh ? 'yes' : 'no',
      n.mode,
      n.scopedBy ?? (n.inMesh === true ? paint('none', 'red') : '-'),
      n.problems.length ? paint(n.problems.map((p) => p.code).join(','), 'red') : '-',
    ]),
  ];
  const workloadRows = [
    ['NAMESPACE', 'WORKLOAD', 'MESH', 'VERDICT', 'PROFILE', 'PROXY NOW (mem req/lim cpu req/lim)', 'PROXY AFTER', 'REASONS'],
    ...report.workloads.map((w) => [
      w.namespace,
      `${w.kind}/${w.name}`,
      w.meshed === 'unknown' ? paint('unknown', 'yellow') : w.meshed ? 'yes' : 'no',
      w.verdict === 'deny' ? paint('DENY', 'red') : w.verdict === 'unknown' ? paint('unknown', 'yellow') : paint('pass', 'green'),
      w.profile ?? '-',
      resources(w.current),
      resources(w.target),
      [...w.codes, ...w.exemptions.map((e) => (e.status === 'honoured' ? `exempt(${e.target})` : `exemption-refused(${e.code})`))].join(','),
    ]),
  ];
  const problems = [
    ...report.namespaces.flatMap((n) => n.problems.map((p) => `  ${n.name}: ${p.message}`)),
    ...report.workloads.flatMap((w) => w.findings.map((f) => `  ${w.namespace}/${w.kind}/${w.name}: ${f}`)),
  ];
  return [
    table(namespaceRows),
    '',
    table(workloadRows),
    ...(problems.length ? ['', 'Findings:', ...problems] : []),
    ...renderMemorySection(report.workloads, report.scopingSavings ?? [], suggestedHosts),
    '',
    summaryLine(report),
    '',
  ].join('\n');
}
