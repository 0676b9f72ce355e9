import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ManifestSource } from '../cluster/manifest-source.js';
import type { AuditReport } from './audit.js';
import { REASON_CATALOG, reasonFor } from './reason-catalog.js';

/** Where the audited objects came from, for pointing at them; undefined for stdin or a live cluster. */
export interface SourceLookup {
  workload(namespace: string, kind: string, name: string): ManifestSource | undefined;
  sidecar(namespace: string, name: string): ManifestSource | undefined;
}

export const NO_SOURCES: SourceLookup = { workload: () => undefined, sidecar: () => undefined };

export type SarifLevel = 'error' | 'warning' | 'note';

/** One thing `audit` found, with where it is: the common ground of the SARIF and JUnit renderers. */
export interface Finding {
  readonly code: string;
  readonly level: SarifLevel;
  readonly message: string;
  readonly namespace: string;
  readonly kind: string;
  readonly name: string;
  readonly source?: ManifestSource;
  /** Other objects the finding is about (the other Sidecars of a duplicate). */
  readonly related: readonly { kind: string; name: string; source?: ManifestSource }[];
}

function levelOfKind(kind: string): SarifLevel {
  if (kind.startsWith('deny')) return 'error';
  if (kind.startsWith('warning')) return 'warning';
  return 'note';
}

/**
 * Everything `audit` reports that is not a plain pass: denials (error), workloads it could not judge
 * and refused exemptions (warning), warnings a passing answer carries (warning), and Sidecar problems
 * (error), each placed on its object.
 */
export function auditFindings(report: AuditReport, sources: SourceLookup): Finding[] {
  const findings: Finding[] = [];
  for (const w of report.workloads) {
    const at = { namespace: w.namespace, kind: w.kind, name: w.name, source: sources.workload(w.namespace, w.kind, w.name), related: [] };
    if (w.verdict === 'deny') {
      w.codes.forEach((code, i) => findings.push({ ...at, code, level: 'error', message: w.findings[i] ?? code }));
    } else if (w.verdict === 'unknown') {
      findings.push({ ...at, code: w.codes[0] ?? 'UNKNOWN_NAMESPACE', level: 'warning', message: w.findings[0] ?? 'mesh membership unknown' });
    } else {
      for (const code of w.codes) {
        const kind = reasonFor(code)?.kind ?? '';
        if (levelOfKind(kind) === 'warning') findings.push({ ...at, code, level: 'warning', message: reasonFor(code)?.meaning ?? code });
      }
    }
    for (const e of w.exemptions) {
      if (e.status === 'refused' && e.code) findings.push({ ...at, code: e.code, level: 'warning', message: e.message ?? `${e.target} exemption refused` });
    }
  }
  for (const n of report.namespaces) {
    for (const p of n.problems) {
      const [first, ...others] = p.sidecars.length > 0 ? p.sidecars : [''];
      findings.push({
        code: p.code,
        level: 'error',
        message: p.message,
        namespace: n.name,
        kind: 'Sidecar',
        name: first ?? '',
        source: first ? sources.sidecar(n.name, first) : undefined,
        related: others.map((name) => ({ kind: 'Sidecar', name, source: sources.sidecar(n.name, name) })),
      });
    }
  }
  return findings;
}

const SRCROOT = '%SRCROOT%';

function artifactLocation(file: string, cwd: string): { uri: string; uriBaseId?: string } {
  const absolute = resolve(cwd, file);
  const rel = relative(cwd, absolute);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return { uri: pathToFileURL(absolute).href };
  return { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: SRCROOT };
}

function physical(source: ManifestSource | undefined, cwd: string): object {
  return source ? { physicalLocation: { artifactLocation: artifactLocation(source.file, cwd), region: { startLine: source.line } } } : {};
}

function fingerprint(f: Finding): string {
  return createHash('sha256').update(`${f.code}\u0000${f.namespace}\u0000${f.kind}\u0000${f.name}`).digest('hex').slice(0, 32);
}

export interface SarifOptions {
  /** The directory file URIs are relative to (the repository root in CI). */
  readonly cwd: string;
  readonly version: string;
}

/**
 * The audit as a SARIF 2.1.0 log for code scanning: one rule per reason code (help = what to do,
 * from the README's table), one result per finding at the manifest file and line of its object.
 */
export function renderSarif(report: AuditReport, sources: SourceLookup, options: SarifOptions): string {
  const rules = REASON_CATALOG.flatMap((entry) =>
    entry.codes.map((code) => ({
      id: code,
      name: code,
      shortDescription: { text: entry.meaning },
      fullDescription: { text: entry.meaning },
      help: { text: `What to do: ${entry.action}`, markdown: `**What to do:** ${entry.action}` },
      defaultConfiguration: { level: levelOfKind(entry.kind) },
      properties: { kind: entry.kind },
    })),
  );
  const index = new Map(rules.map((rule, i) => [rule.id, i]));
  const results = auditFindings(report, sources).map((f) => ({
    ruleId: f.code,
    ...(index.has(f.code) ? { ruleIndex: index.get(f.code) } : {}),
    level: f.level,
    message: { text: f.message },
    locations: [{ ...physical(f.source, options.cwd), logicalLocations: [{ fullyQualifiedName: `${f.namespace}/${f.kind}/${f.name}`, kind: 'resource' }] }],
    ...(f.related.length > 0
      ? { relatedLocations: f.related.map((r, i) => ({ id: i + 1, ...physical(r.source, options.cwd), message: { text: `${r.kind} ${f.namespace}/${r.name}` } })) }
      : {}),
    partialFingerprints: { 'sidecarGuardObject/v1': fingerprint(f) },
    properties: { namespace: f.namespace, kind: f.kind, name: f.name },
  }));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'sidecar-guard', semanticVersion: options.version, version: options.version, rules } },
        originalUriBaseIds: { [SRCROOT]: { uri: `${pathToFileURL(options.cwd).href.replace(/\/?$/, '/')}` } },
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
