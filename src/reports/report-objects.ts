/**
 * Audit results as policy reports: pure, from an `AuditReport` (the one `audit` prints) to the
 * PolicyReport / ClusterPolicyReport objects (wgpolicyk8s.io/v1alpha2) or their OpenReports
 * successors (openreports.io/v1alpha1 Report / ClusterReport). No policy here: which results fail
 * and which warn is `auditFindings`' answer (the same one `-o sarif` and `-o junit` give).
 * Schemas: charts/sidecar-guard/files/crds/wgpolicyk8s.io.yaml and openreports.io.yaml (sources in their heads).
 */
import { createHash } from 'node:crypto';
import type { AuditReport, NamespaceReport, WorkloadReport } from '../audit/audit.js';
import { reasonFor } from '../audit/reason-catalog.js';
import { auditFindings, NO_SOURCES, type Finding } from '../audit/sarif.js';
import { plural } from '../cli/table.js';
import { formatBytes } from '../policy/memory-model.js';

export const REPORT_APIS = {
  wgpolicyk8s: { group: 'wgpolicyk8s.io', version: 'v1alpha2', kind: 'PolicyReport', plural: 'policyreports', clusterKind: 'ClusterPolicyReport', clusterPlural: 'clusterpolicyreports' },
  openreports: { group: 'openreports.io', version: 'v1alpha1', kind: 'Report', plural: 'reports', clusterKind: 'ClusterReport', clusterPlural: 'clusterreports' },
} as const;

export type ReportApi = keyof typeof REPORT_APIS;
export const REPORT_API_NAMES = Object.keys(REPORT_APIS) as ReportApi[];

/** The name of every report sidecar-guard writes (one per namespace, one cluster-wide). */
const REPORT_NAME = 'sidecar-guard';
const POLICY = 'sidecar-guard';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'sidecar-guard';
/** Hash of a report's content less timestamps: equal hashes mean nothing to write. */
export const HASH_ANNOTATION = 'sidecar-guard.io/report-hash';
export const OMITTED_ANNOTATION = 'sidecar-guard.io/results-omitted';

export type ResultStatus = 'pass' | 'fail' | 'warn' | 'error' | 'skip';
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

export interface ObjectReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface ReportResult {
  readonly source: string;
  readonly policy: string;
  readonly rule: string;
  readonly category: string;
  readonly severity: Severity;
  readonly result: ResultStatus;
  readonly scored: boolean;
  readonly message: string;
  readonly resources: readonly ObjectReference[];
  readonly properties: Readonly<Record<string, string>>;
  readonly timestamp: { readonly seconds: number; readonly nanos: number };
}

export type ReportSummary = Record<'pass' | 'fail' | 'warn' | 'error' | 'skip', number>;

export interface ReportObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
  };
  /** OpenReports only: the engine that wrote the report. */
  readonly source?: string;
  readonly scope?: ObjectReference;
  readonly summary: ReportSummary;
  readonly results: readonly ReportResult[];
}

export interface BuildOptions {
  readonly api: ReportApi;
  readonly now: Date;
  /** The served version of networking.istio.io Sidecars (v1, v1beta1), for their references. */
  readonly sidecarVersion: string;
  /** At most this many results per report (etcd holds an object up to 1.5 MiB); fail and warn are kept first. */
  readonly maxResults?: number;
}

export const DEFAULT_MAX_RESULTS = 1000;

const API_VERSION_OF_KIND: Readonly<Record<string, string>> = {
  Pod: 'v1',
  ReplicationController: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
};

const STATUS_ORDER: readonly ResultStatus[] = ['fail', 'error', 'warn', 'pass', 'skip'];
const SEVERITY_OF: Readonly<Record<ResultStatus, Severity>> = { fail: 'high', error: 'medium', warn: 'medium', pass: 'info', skip: 'info' };
const SCOPE_CODES = new Set(['MISSING_SIDECAR', 'SIDECAR_NOT_SCOPING', 'ROOT_DEFAULT_NOT_ACCEPTED', 'SCOPED', 'GATEWAY', 'SIDECAR_OK']);

function categoryOf(code: string, kind: string): string {
  if (kind === 'Namespace') return 'Namespace summary';
  if (kind === 'Sidecar' || SCOPE_CODES.has(code)) return 'Istio sidecar scope';
  if (code.startsWith('EXEMPT')) return 'Exemptions';
  if (/MEMORY|CEILING|QUANTITY|LIMIT|PROFILE|SIZED|OVERRIDES/.test(code)) return 'Istio proxy resources';
  return 'Istio mesh membership';
}

function workloadRef(w: Pick<WorkloadReport, 'kind' | 'namespace' | 'name'>): ObjectReference {
  return { apiVersion: API_VERSION_OF_KIND[w.kind] ?? 'v1', kind: w.kind, namespace: w.namespace, name: w.name };
}

function workloadProperties(w: WorkloadReport): Record<string, string> {
  const properties: Record<string, string> = { membership: w.membership };
  if (w.profile !== undefined) properties.profile = w.profile;
  if (w.memory) {
    properties.predictedMemoryBytes = String(w.memory.predictedBytes);
    properties.predictedMemory = formatBytes(w.memory.predictedBytes);
    if (w.memory.limit !== undefined) properties.memoryLimit = w.memory.limit;
    properties.services = String(w.memory.services);
    properties.clusters = String(w.memory.clusters);
    properties.endpoints = String(w.memory.endpoints);
  }
  return properties;
}

type Draft = Omit<ReportResult, 'source' | 'policy' | 'severity' | 'scored' | 'timestamp' | 'category'> & { kind: string };

function statusOfFinding(finding: Finding): ResultStatus {
  return finding.level === 'error' ? 'fail' : 'warn';
}

function workloadDrafts(w: WorkloadReport, findings: readonly Finding[]): Draft[] {
  const resources = [workloadRef(w)];
  const properties = workloadProperties(w);
  const drafts: Draft[] = findings.map((f) => ({ kind: w.kind, rule: f.code, result: statusOfFinding(f), message: f.message, resources, properties }));
  if (w.memory?.overLimit) {
    const limit = w.memory.limit !== undefined ? `its memory limit ${w.memory.limit}` : 'no memory limit';
    drafts.push({
      kind: w.kind,
      rule: 'PREDICTED_MEMORY_ABOVE_LIMIT',
      result: 'warn',
      message: `istio-proxy imports ${w.memory.services} services / ${w.memory.clusters} clusters / ${w.memory.endpoints} endpoints; predicted ${formatBytes(w.memory.predictedBytes)} is above ${limit} plus the margin`,
      resources,
      properties,
    });
  }
  if (drafts.length > 0) return drafts;
  if (w.meshed === false) return [{ kind: w.kind, rule: w.membership, result: 'skip', message: reasonFor(w.membership)?.meaning ?? 'not in the mesh', resources, properties }];
  const code = w.codes[0] ?? 'SCOPED';
  return [{ kind: w.kind, rule: code, result: 'pass', message: reasonFor(code)?.meaning ?? code, resources, properties }];
}

function sidecarDrafts(n: NamespaceReport, findings: readonly Finding[], sidecarVersion: string): Draft[] {
  const ref = (name: string): ObjectReference => ({ apiVersion: `networking.istio.io/${sidecarVersion}`, kind: 'Sidecar', namespace: n.name, name });
  const drafts: Draft[] = [];
  const withProblem = new Set<string>();
  for (const f of findings) {
    const names = [f.name, ...f.related.map((r) => r.name)].filter((name) => name !== '');
    for (const name of names) withProblem.add(name);
    drafts.push({ kind: 'Sidecar', rule: f.code, result: statusOfFinding(f), message: f.message, resources: names.map(ref), properties: {} });
  }
  for (const name of n.sidecars) {
    if (withProblem.has(name)) continue;
    const scoping = n.scopedBy === `${n.name}/${name}`;
    drafts.push({
      kind: 'Sidecar',
      rule: 'SIDECAR_OK',
      result: 'pass',
      message: scoping ? `scopes namespace ${n.name}` : 'declares egress hosts and imports only what they name',
      resources: [ref(name)],
      properties: scoping ? { scopesNamespace: 'true' } : {},
    });
  }
  return drafts;
}

function summarize(results: readonly { result: ResultStatus }[]): ReportSummary {
  const summary: ReportSummary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const r of results) summary[r.result] += 1;
  return summary;
}

function finish(drafts: readonly Draft[], options: BuildOptions): { results: ReportResult[]; summary: ReportSummary; omitted: number } {
  const millis = options.now.getTime();
  const timestamp = { seconds: Math.floor(millis / 1000), nanos: (millis % 1000) * 1_000_000 };
  const all = drafts
    .map(({ kind, ...d }): ReportResult => ({
      source: POLICY,
      policy: POLICY,
      rule: d.rule,
      category: categoryOf(d.rule, kind),
      severity: SEVERITY_OF[d.result],
      result: d.result,
      scored: true,
      message: d.message,
      resources: d.resources,
      properties: d.properties,
      timestamp,
    }))
    .sort((a, b) => STATUS_ORDER.indexOf(a.result) - STATUS_ORDER.indexOf(b.result) || refKey(a).localeCompare(refKey(b)) || a.rule.localeCompare(b.rule));
  const max = options.maxResults ?? DEFAULT_MAX_RESULTS;
  return { results: all.slice(0, max), summary: summarize(all), omitted: Math.max(0, all.length - max) };
}

function refKey(r: ReportResult): string {
  const first = r.resources[0];
  return first ? `${first.kind}/${first.name}` : '';
}

/** The hash of what a report says, timestamps left out: a pass that finds the same results writes nothing. */
function reportFingerprint(report: Pick<ReportObject, 'scope' | 'summary' | 'results' | 'source'>): string {
  const content = { source: report.source, scope: report.scope, summary: report.summary, results: report.results.map(({ timestamp: _timestamp, ...rest }) => rest) };
  return createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 32);
}

function reportObject(
  options: BuildOptions,
  kind: string,
  namespace: string | undefined,
  scope: ObjectReference | undefined,
  built: { results: ReportResult[]; summary: ReportSummary; omitted: number },
): ReportObject {
  const api = REPORT_APIS[options.api];
  const body = {
    ...(options.api === 'openreports' ? { source: POLICY } : {}),
    ...(scope ? { scope } : {}),
    summary: built.summary,
    results: built.results,
  };
  return {
    apiVersion: `${api.group}/${api.version}`,
    kind,
    metadata: {
      name: REPORT_NAME,
      ...(namespace !== undefined ? { namespace } : {}),
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY },
      annotations: { [HASH_ANNOTATION]: reportFingerprint(body), ...(built.omitted > 0 ? { [OMITTED_ANNOTATION]: String(built.omitted) } : {}) },
    },
    ...body,
  };
}

function namespaceSummaryDraft(n: NamespaceReport, summary: ReportSummary): Draft {
  const checked = summary.pass + summary.fail + summary.warn + summary.error;
  const result: ResultStatus = summary.fail > 0 ? 'fail' : summary.error > 0 ? 'error' : summary.warn > 0 ? 'warn' : checked > 0 || n.inMesh === true ? 'pass' : 'skip';
  const parts = [`${summary.fail} failed`, plural(summary.warn, 'warning'), `${summary.pass} passed`, `${summary.skip} skipped`];
  return {
    kind: 'Namespace',
    rule: 'NAMESPACE_REPORT',
    result,
    message: `namespace ${n.name} (${n.inMesh === true ? 'in the mesh' : n.inMesh === false ? 'not in the mesh' : 'mesh unknown'}, mode ${n.mode}): ${parts.join(', ')} of ${plural(checked + summary.skip, 'result')}`,
    resources: [{ apiVersion: 'v1', kind: 'Namespace', name: n.name }],
    properties: {
      inMesh: String(n.inMesh),
      mode: n.mode,
      ...(n.scopedBy !== undefined ? { scopedBy: n.scopedBy } : {}),
      ...Object.fromEntries(Object.entries(summary).map(([k, v]) => [k, String(v)])),
    },
  };
}

/**
 * One report per namespace of the audit (a result per workload finding or pass/skip, a result per
 * Sidecar), and one cluster report with a result per namespace. Sorted: the same audit gives the
 * same objects, byte for byte, but for the timestamps.
 */
export function buildReports(report: AuditReport, options: BuildOptions): { namespaced: ReportObject[]; cluster: ReportObject } {
  const api = REPORT_APIS[options.api];
  const findings = auditFindings(report, NO_SOURCES);
  const findingsOf = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = f.kind === 'Sidecar' ? `${f.namespace}/Sidecar` : `${f.namespace}/${f.kind}/${f.name}`;
    const list = findingsOf.get(key);
    if (list) list.push(f);
    else findingsOf.set(key, [f]);
  }
  const workloadsOf = new Map<string, WorkloadReport[]>();
  for (const w of report.workloads) {
    const list = workloadsOf.get(w.namespace);
    if (list) list.push(w);
    else workloadsOf.set(w.namespace, [w]);
  }

  const namespaced: ReportObject[] = [];
  const summaries: Draft[] = [];
  for (const n of report.namespaces) {
    const drafts = [
      ...(workloadsOf.get(n.name) ?? []).flatMap((w) => workloadDrafts(w, findingsOf.get(`${w.namespace}/${w.kind}/${w.name}`) ?? [])),
      ...sidecarDrafts(n, findingsOf.get(`${n.name}/Sidecar`) ?? [], options.sidecarVersion),
    ];
    const built = finish(drafts, options);
    namespaced.push(reportObject(options, api.kind, n.name, { apiVersion: 'v1', kind: 'Namespace', name: n.name }, built));
    summaries.push(namespaceSummaryDraft(n, built.summary));
  }
  const cluster = reportObject(options, api.clusterKind, undefined, undefined, finish(summaries, options));
  return { namespaced, cluster };
}
