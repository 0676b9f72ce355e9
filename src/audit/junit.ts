import type { ManifestSource } from '../cluster/manifest-source.js';
import type { AuditReport } from './audit.js';
import { reasonFor } from './reason-catalog.js';
import { auditFindings, type Finding, type SourceLookup } from './sarif.js';

// XML 1.0 allows neither these control characters nor lone surrogates, escaped or not.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function xml(text: string): string {
  return text.replace(NOT_XML, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

interface TestCase {
  readonly classname: string;
  readonly name: string;
  readonly failures: readonly Finding[];
  readonly errors: readonly Finding[];
  readonly skipped?: string;
  readonly notes: readonly string[];
  readonly source?: ManifestSource;
}

function where(source: ManifestSource | undefined): string {
  return source ? `${source.file}:${source.line}` : '';
}

function element(tag: 'failure' | 'error', f: Finding): string {
  const action = reasonFor(f.code)?.action;
  const body = [f.message, action ? `What to do: ${action}` : '', f.source ? `at ${where(f.source)}` : ''].filter(Boolean).join('\n');
  return `      <${tag} type="${xml(f.code)}" message="${xml(`${f.code}: ${f.message}`)}">${xml(body)}</${tag}>`;
}

function renderCase(c: TestCase): string {
  const children = [
    ...(c.skipped ? [`      <skipped message="${xml(c.skipped)}"/>`] : []),
    ...c.failures.map((f) => element('failure', f)),
    ...c.errors.map((f) => element('error', f)),
  ];
  const out = [...(c.source ? [`source: ${where(c.source)}`] : []), ...c.notes];
  if (out.length > 0) children.push(`      <system-out>${xml(out.join('\n'))}</system-out>`);
  const open = `    <testcase classname="${xml(c.classname)}" name="${xml(c.name)}" time="0"`;
  return children.length === 0 ? `${open}/>` : [`${open}>`, ...children, '    </testcase>'].join('\n');
}

/**
 * The audit as JUnit XML (the Jenkins/Ant schema): a test suite per namespace, a test case per
 * workload and per Sidecar (classname `namespace/Kind`), a failure per violation, an error for a
 * workload that could not be judged, skipped for a workload outside the mesh.
 */
export function renderJunit(report: AuditReport, sources: SourceLookup): string {
  const findings = auditFindings(report, sources);
  const about = (namespace: string, kind: string, name: string) =>
    findings.filter((f) => f.namespace === namespace && ((f.kind === kind && f.name === name) || (kind === 'Sidecar' && f.related.some((r) => r.name === name))));
  const suites = report.namespaces.map((n) => {
    const cases: TestCase[] = [];
    for (const w of report.workloads.filter((x) => x.namespace === n.name)) {
      const mine = about(w.namespace, w.kind, w.name);
      cases.push({
        classname: `${w.namespace}/${w.kind}`,
        name: w.name,
        failures: mine.filter((f) => f.level === 'error'),
        errors: w.verdict === 'unknown' ? mine.filter((f) => f.code === w.codes[0]) : [],
        ...(w.meshed === false ? { skipped: `not in the mesh (${w.membership})` } : {}),
        notes: mine.filter((f) => f.level === 'warning' && w.verdict !== 'unknown').map((f) => `warning ${f.code}: ${f.message}`),
        source: sources.workload(w.namespace, w.kind, w.name),
      });
    }
    for (const sidecar of n.sidecars) {
      const mine = about(n.name, 'Sidecar', sidecar);
      cases.push({ classname: `${n.name}/Sidecar`, name: sidecar, failures: mine, errors: [], notes: [], source: sources.sidecar(n.name, sidecar) });
    }
    const count = (test: (c: TestCase) => boolean) => cases.filter(test).length;
    const failures = count((c) => c.failures.length > 0);
    const errors = count((c) => c.errors.length > 0);
    const skipped = count((c) => c.skipped !== undefined);
    return {
      tests: cases.length,
      failures,
      errors,
      xml: [
        `  <testsuite name="${xml(n.name)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="0">`,
        ...cases.map(renderCase),
        '  </testsuite>',
      ].join('\n'),
    };
  });
  const total = (key: 'tests' | 'failures' | 'errors') => suites.reduce((sum, s) => sum + s[key], 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="sidecar-guard audit" tests="${total('tests')}" failures="${total('failures')}" errors="${total('errors')}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}
