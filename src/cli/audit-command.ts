import { type Command, Option } from 'commander';
import { auditCluster, hasDenials, hasUnknowns, type AuditReport } from '../audit/audit.js';
import { planFix, renderFix } from '../audit/fix.js';
import { auditReport } from '../report/audit-report.js';
import { writeHtml } from '../report/write-html.js';
import { renderJunit } from '../audit/junit.js';
import { renderReport, type OutputFormat } from '../audit/render.js';
import { NO_SOURCES, renderSarif, type SourceLookup } from '../audit/sarif.js';
import { findWorkloads } from '../audit/workloads.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import { FileClusterView, readManifests } from '../cluster/file-cluster-view.js';
import { sourceOf } from '../cluster/manifest-source.js';
import { classifyObject, isRecord, toSidecarFacts } from '../cluster/objects.js';
import type { Config } from '../config/types.js';
import { loadCommandConfig } from './command-config.js';
import type { RegisterCommand } from './commands.js';
import { PROCESS_IO, type CommandIo } from './command-io.js';
import { CliError, EXIT, exitCodeFor, usageError } from './exit-codes.js';
import { positiveInteger } from './option-parsers.js';
import { plural } from './table.js';
import { packageVersion } from './package-version.js';
import { withExamples } from './help.js';
import { describeNothingToCheck, readInputs, STDIN_SOURCE, withManifestInputs } from './manifest-inputs.js';
import { labelsByNamespace, parseNamespaceLabel, type NamespaceLabel } from './namespace-labels.js';

export interface AuditOptions {
  filename: string[];
  namespace: string;
  clusterState?: string;
  config?: string;
  output: AuditFormat;
  fix?: boolean;
  kubeconfig?: string;
  /** A kubeconfig context other than the current one, for a live audit or --cluster. */
  context?: string;
  /** A live audit of one namespace: `-n` without `-f`, as kubectl scopes to it. */
  onlyNamespace?: string;
  allNamespaces?: boolean;
  pageSize: number;
  allowEmpty?: boolean;
  namespaceLabel: NamespaceLabel[];
  cluster?: boolean;
  /** Also write the report as one self-contained HTML page to this file. */
  html?: string;
}

interface AuditResult {
  report: AuditReport;
  view: ClusterView;
  config: Config;
  /** Where each audited object was read from (-f files); nothing for stdin or a live cluster. */
  sources?: SourceLookup;
}

/** `-o`: the report formats, plus SARIF (code scanning) and JUnit XML (test results) for CI. */
export type AuditFormat = OutputFormat | 'sarif' | 'junit';

const FORMATS: readonly AuditFormat[] = ['table', 'json', 'yaml', 'sarif', 'junit'];
const CHECKED_KINDS = 'a Pod, workload controller, Namespace or Sidecar';

function hasNamespace(object: unknown): boolean {
  const metadata = isRecord(object) && isRecord(object.metadata) ? object.metadata : {};
  return typeof metadata.namespace === 'string' && metadata.namespace !== '';
}

/** Namespaces as the user stated them with --namespace-label, on top of what the inputs say. */
function statedNamespaces(stated: readonly NamespaceLabel[], known: FileClusterView): Record<string, unknown>[] {
  return [...labelsByNamespace(stated)].map(([name, labels]) => {
    const existing = known.namespace(name);
    return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...existing?.labels, ...labels }, annotations: { ...existing?.annotations } } };
  });
}

/** What the audit assumed, on stderr: where namespace-less documents went and which namespaces are unknown. */
function reportAssumptions(options: AuditOptions, objects: readonly unknown[], report: AuditReport, io: CommandIo): void {
  const workloads = findWorkloads(objects, options.namespace);
  const defaulted = workloads.filter((w) => !hasNamespace(w.object)).length;
  if (defaulted > 0) io.stderr(`note: ${plural(defaulted, 'workload')} without metadata.namespace audited in namespace "${options.namespace}" (-n to choose another)\n`);
  const unknown = [...new Set(report.workloads.filter((w) => w.verdict === 'unknown').map((w) => w.namespace))];
  if (unknown.length === 0) return;
  const example = unknown[0] ?? 'NAMESPACE';
  io.stderr(
    `note: nothing is known about namespace${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} (no Namespace object in the inputs), ` +
      `so ${plural(report.summary.unknown, 'workload')} there ${report.summary.unknown === 1 ? 'is' : 'are'} reported with mesh "unknown". ` +
      `State membership with --namespace-label ${example}=istio-injection=enabled (or =disabled), add the Namespace objects with -f or --cluster-state, or read them from the cluster with --cluster\n`,
  );
}

/** Finds the file and line of each workload and Sidecar among the objects read (the first one wins, as kubectl apply would see it). */
function sourceLookup(objects: readonly unknown[], defaultNamespace: string): SourceLookup {
  const fileOf = (object: unknown) => {
    const source = sourceOf(object);
    return source?.file === STDIN_SOURCE ? undefined : source;
  };
  const workloads = new Map<string, ReturnType<typeof sourceOf>>();
  for (const w of findWorkloads(objects, defaultNamespace)) {
    const key = `${w.namespace}/${w.kind}/${w.name}`;
    if (!workloads.has(key)) workloads.set(key, fileOf(w.object));
  }
  const sidecars = new Map<string, ReturnType<typeof sourceOf>>();
  for (const object of objects) {
    if (classifyObject(object) !== 'Sidecar' || !isRecord(object) || !isRecord(object.metadata)) continue;
    const { name, namespace } = object.metadata;
    const key = `${typeof namespace === 'string' && namespace !== '' ? namespace : defaultNamespace}/${String(name)}`;
    // Later documents replace earlier ones in the view (FileClusterView), so the last one is the one judged.
    sidecars.set(key, fileOf(object));
  }
  return {
    workload: (namespace, kind, name) => workloads.get(`${namespace}/${kind}/${name}`),
    sidecar: (namespace, name) => sidecars.get(`${namespace}/${name}`),
  };
}

/** An offline audit over manifests: the input's Namespaces and Sidecars (plus --cluster-state, --cluster, --namespace-label) are the cluster. */
export async function offlineAudit(options: AuditOptions, io: CommandIo): Promise<AuditResult> {
  const config = await loadCommandConfig(options.config, io);
  const objects = await readInputs(options.filename, io);
  const workloads = findWorkloads(objects, options.namespace);
  const checkable = workloads.length + objects.filter((o) => classifyObject(o) !== undefined).length;
  if (checkable === 0 && !options.allowEmpty) {
    const why = await describeNothingToCheck(options.filename, objects, CHECKED_KINDS);
    throw new CliError(`${why}. Check the -f path (a typo, the wrong directory, an empty helm render?), or pass --allow-empty when an empty input is expected`, EXIT.INCOMPLETE);
  }
  const extra = options.clusterState ? await readManifests([options.clusterState]) : [];
  // Loaded only when needed: the Kubernetes client is slow to import.
  const live = options.cluster ? await (await import('./live-audit.js')).readLiveNamespacesAndSidecars(options) : [];
  const context = [...live, ...extra, ...objects];
  const stated = statedNamespaces(options.namespaceLabel, FileClusterView.fromObjects(context, options.namespace));
  const view = FileClusterView.fromObjects([...context, ...stated], options.namespace);
  // Report the namespaces the inputs name, not every namespace of a live cluster: their Namespaces, and the
  // namespaces their Sidecars are in (a Sidecar whose Namespace is not among the inputs is still checked).
  const namespaces = [
    ...[...objects, ...extra, ...stated].filter((o) => classifyObject(o) === 'Namespace').map((o) => (o as { metadata: { name: string } }).metadata.name),
    ...objects.flatMap((o) => (classifyObject(o) === 'Sidecar' ? (toSidecarFacts(o, options.namespace)?.namespace ?? []) : [])),
  ];
  const report = auditCluster({ workloads, view, namespaces, config, now: io.now() });
  reportAssumptions(options, objects, report, io);
  return { report, view, config, sources: sourceLookup([...extra, ...objects], options.namespace) };
}

/** Flags that would be accepted and ignored in this combination are usage errors instead. */
function checkCombinations(options: AuditOptions, given: ReadonlySet<string>): void {
  const offline = options.filename.length > 0;
  const only = (flag: string, key: string, when: boolean, rule: string) => {
    if (given.has(key) && !when) throw usageError(`${flag} ${rule}`);
  };
  only('-o', 'output', !options.fix, 'does not apply to --fix, which prints Sidecar manifests as YAML for kubectl apply -f -: drop -o, or drop --fix for the report');
  only('-A', 'allNamespaces', !offline && !given.has('namespace'), 'is for a live audit, and not with -n (a live audit reads every namespace unless -n names one)');
  only('--cluster-state', 'clusterState', offline, 'applies to -f input; a live audit reads the cluster itself');
  only('--namespace-label', 'namespaceLabel', offline, 'applies to -f input; a live audit reads the real labels');
  only('--allow-empty', 'allowEmpty', offline, 'applies to -f input');
  only('--cluster', 'cluster', offline, 'adds the live cluster to -f input; without -f, audit reads the live cluster already');
  only('--kubeconfig', 'kubeconfig', !offline || options.cluster === true, 'is for a live audit (no -f) or with --cluster');
  only('--context', 'context', !offline || options.cluster === true, 'is for a live audit (no -f) or with --cluster');
  only('--page-size', 'pageSize', !offline || options.cluster === true, 'is for a live audit (no -f) or with --cluster');
}

/** `sidecar-guard audit`: exit codes as in ./exit-codes.ts (0 clean, 1 violations, 2 usage, 3 cluster, 4 nothing or not everything judged). */
export async function runAudit(options: AuditOptions, io: CommandIo, given: ReadonlySet<string> = new Set()): Promise<number> {
  let result: AuditResult;
  try {
    checkCombinations(options, given);
    if (options.filename.length > 0) {
      result = await offlineAudit(options, io);
    } else {
      const { liveAudit } = await import('./live-audit.js');
      // Without -f, -n scopes the audit to one namespace, as kubectl's -n does.
      result = await liveAudit(given.has('namespace') ? { ...options, onlyNamespace: options.namespace } : options, io);
    }
  } catch (error) {
    io.stderr(`sidecar-guard audit: ${(error as Error).message}\n`);
    return exitCodeFor(error);
  }
  if (options.html !== undefined) {
    const written = await writeHtml(options.html, auditReport(result.report, planFix(result.report, result.view, result.config), io.now()));
    if (written !== undefined) {
      io.stderr(`sidecar-guard audit: ${written}\n`);
      return EXIT.USAGE;
    }
  }
  if (options.fix) io.stdout(renderFix(planFix(result.report, result.view, result.config), result.report));
  else if (options.output === 'sarif') io.stdout(renderSarif(result.report, result.sources ?? NO_SOURCES, { cwd: process.cwd(), version: packageVersion() }));
  else if (options.output === 'junit') io.stdout(renderJunit(result.report, result.sources ?? NO_SOURCES));
  else io.stdout(renderReport(result.report, options.output, io.isTty && options.output === 'table', result.config.scope.suggestedEgressHosts));
  if (hasDenials(result.report)) return EXIT.VIOLATIONS;
  return hasUnknowns(result.report) ? EXIT.INCOMPLETE : EXIT.CLEAN;
}

/** The options given on the command line (not defaults), by attribute name. */
export function givenOptions(command: Command): Set<string> {
  return new Set(command.options.map((o) => o.attributeName()).filter((key) => command.getOptionValueSource(key) === 'cli'));
}

export const registerAuditCommand: RegisterCommand = (program: Command, io = PROCESS_IO) => {
  const command = withManifestInputs(
    program
      .command('audit')
      .description('report what enforce would decide, for manifests (-f) or a live cluster; exit 1 when it would deny something'),
  )
    .addOption(new Option('-o, --output <format>', 'output format').choices(FORMATS).default('table'))
    .option('--fix', 'print the Sidecars that would make every scope finding pass (for kubectl apply -f -)')
    .option('--kubeconfig <file>', 'kubeconfig for a live audit (default: in-cluster, KUBECONFIG, ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context for a live audit or --cluster (default: its current context)')
    .option('-A, --all-namespaces', 'a live audit of every namespace (the default without -n; for kubectl habits)')
    .option('--page-size <n>', 'objects per LIST page in a live audit', positiveInteger, 500)
    .option('--allow-empty', 'with -f: exit 0 when the input holds no Kubernetes objects (else exit 4)')
    .option('--namespace-label <ns=key=value>', 'with -f: a label of a namespace the inputs do not define (or override), e.g. shop=istio-injection=enabled; repeatable', parseNamespaceLabel, [])
    .option('--cluster', "with -f: take Namespaces and Sidecars from the live cluster (--kubeconfig) where the inputs have none")
    .option('--html <file>', 'also write the report as one self-contained HTML page (charts, the --fix Sidecars with copy buttons)')
    .action(async (options: AuditOptions, command: Command) => {
      io.setExitCode(await runAudit(options, io, givenOptions(command)));
    });
  withExamples(command, [
    'sidecar-guard audit -f manifests/ --cluster-state cluster/',
    'helm template charts/app | sidecar-guard audit -f - -n shop --namespace-label shop=istio-injection=enabled',
    'helm template charts/app | sidecar-guard audit -f - -n shop --cluster -o json',
    'sidecar-guard audit -f manifests/ -o sarif > sidecar-guard.sarif   # GitHub code scanning',
    'sidecar-guard audit -f manifests/ -o junit > sidecar-guard.xml     # CI test results',
    'sidecar-guard audit -f manifests/ --fix | kubectl apply -f -',
    'sidecar-guard audit --kubeconfig ~/.kube/config',
    'sidecar-guard audit --context prod -n shop            # live, one namespace (also: kubectl sidecar-guard audit -n shop)',
  ]);
};
