import { type Command, InvalidArgumentError, Option } from 'commander';
import { compareQuantities, isResourceQuantity } from '../policy/quantity.js';
import { parseDuration } from '../recommend/duration.js';
import { analyseCardinality, DEFAULT_CARDINALITY_LABELS } from '../recommend/recommend-cardinality.js';
import { DEFAULT_PROFILE_OPTIONS, recommendProfiles } from '../recommend/recommend-profiles.js';
import { gatewaysSkipped, recommendScopes, unobservedWorkloads } from '../recommend/recommend-scope.js';
import type { OutputFormat } from '../recommend/render-recommendations.js';
import { describeCut, renderCardinality, renderProfiles, renderScopes, type VerifiedScope } from '../recommend/render-recommendations.js';
import { CalibrationError, calibrationSamples, fitMemoryModel, fitWarnings } from '../recommend/calibrate-model.js';
import { renderCalibration } from '../recommend/render-calibration.js';
import { DEFAULT_MEMORY_MODEL } from '../policy/memory-model.js';
import { readStatsFiles } from '../recommend/sources/files.js';
import { readAccessLogs, type AccessLogEntry } from '../recommend/access-log.js';
import { memoryFromCatalog, memoryFromClusters, OUTBOUND_POLICIES, verifyScope, type OutboundPolicy, type VerifyInput } from '../recommend/verify-scope.js';
import type { ScopeRecommendation } from '../recommend/recommend-scope.js';
import type { ScopeEvidence } from '../recommend/observations.js';
import { DEFAULT_CONFIG } from '../config/defaults.js';
import { loadCommandConfig } from './command-config.js';
import { loadFileClusterView } from '../cluster/file-cluster-view.js';
import { scrapePodProxies } from '../recommend/sources/pod-proxy.js';
import { prometheusSource } from '../recommend/sources/prometheus-api.js';
import type { RecommendSource } from '../recommend/sources/source.js';
import { snapshotSource } from '../recommend/sources/source.js';
import { AGENT_RSS_METRIC, CONTAINER_SIGNALS, MEMORY_SIGNAL_NAMES, MEMORY_SIGNALS, type MemorySignal } from '../recommend/observations.js';
import type { SkippedWorkload } from '../recommend/size-workloads.js';
import { profilesReport, scopeReport } from '../report/recommend-report.js';
import { writeHtml } from '../report/write-html.js';
import { clusterFailure } from '../kube/cluster-access.js';
import { resolveKubeConfig } from '../kube/kubeconfig.js';
import type { RegisterCommand } from './commands.js';
import { PROCESS_IO } from './command-io.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { withExamples } from './help.js';
import { shortList } from './table.js';

/** Options every `recommend` sub-command takes: where the stats come from and how to print. */
export interface SourceOptions {
  prometheus?: string;
  podProxy?: boolean;
  fromFiles?: string[];
  pods?: string;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  selector?: string;
  window: string;
  step: string;
  samples: number;
  interval: string;
  namespaceLabel: string;
  podLabel: string;
  output: OutputFormat;
  /** Also write a self-contained HTML report to this file (profiles and scope). */
  html?: string;
}

export interface ProfilesCommandOptions extends SourceOptions {
  maxProfiles: number;
  percentile: number;
  headroom: number;
  limitRatio: number;
  cpu: string;
  cpuLimit: string;
}

export interface ScopeCommandOptions extends SourceOptions {
  per: 'namespace' | 'workload';
  include: string[];
  clusterDomain: string;
  rootNamespace: string;
  /** sidecar-guard configuration whose sizing.model and scope predict the before/after memory. */
  config?: string;
  /** Write a selector-less Sidecar in the root namespace, the mesh-wide default, when the stats call for one. */
  meshWideDefault?: boolean;
  /** istio-proxy access logs (`kubectl logs POD -c istio-proxy`), checked with the stats. */
  accessLog?: string[];
  /** Print Sidecars that cut observed traffic, the cuts as comments. */
  allowCuts?: boolean;
  /** The mesh's outboundTrafficPolicy (default ALLOW_ANY, Istio's). */
  outboundTrafficPolicy?: OutboundPolicy;
  /** Manifests (Services, ServiceEntries, EndpointSlices, Sidecars) to predict memory from imports. */
  clusterState?: string;
}

export interface CardinalityCommandOptions extends SourceOptions {
  threshold: number;
  labels: string[];
}

export interface CalibrateCommandOptions extends SourceOptions {
  signal: MemorySignal | 'auto';
  endpointBytes: number;
}

export interface RecommendIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Tests swap the source; the CLI builds it from the options. */
  source?: RecommendSource;
  now?: () => Date;
}

/** A duration flag in seconds; a bad one (or zero, where zero cannot work) is a usage error naming the flag. */
function durationFlag(flag: string, value: string, zeroAllowed = false): number {
  let seconds: number;
  try {
    seconds = parseDuration(value);
  } catch (error) {
    throw usageError(`${flag}: ${(error as Error).message}`);
  }
  if (seconds === 0 && !zeroAllowed) throw usageError(`${flag} ${value}: must be above zero`);
  return seconds;
}

/**
 * The source the options name: exactly one of --prometheus, --pod-proxy, --from-files.
 *
 * @example sourceFromOptions({ fromFiles: ['dumps'], ...defaults })
 */
export function sourceFromOptions(options: SourceOptions, now?: () => Date): RecommendSource {
  const chosen = [options.prometheus !== undefined, options.podProxy === true, options.fromFiles !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new Error('give exactly one source: --prometheus URL, --pod-proxy, or --from-files PATH…');
  if (options.prometheus !== undefined) {
    if (!URL.canParse(options.prometheus) || !['http:', 'https:'].includes(new URL(options.prometheus).protocol)) {
      throw usageError(`--prometheus ${options.prometheus}: not an http:// or https:// URL: give the server's address, e.g. http://prometheus.monitoring:9090`);
    }
    return prometheusSource({
      url: options.prometheus,
      windowSeconds: durationFlag('--window', options.window),
      stepSeconds: durationFlag('--step', options.step),
      namespaceLabel: options.namespaceLabel,
      podLabel: options.podLabel,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(now ? { now } : {}),
    });
  }
  const warnings: string[] = [];
  if (options.fromFiles !== undefined) {
    const paths = options.fromFiles;
    const fileOptions = { ...(options.pods === undefined ? {} : { podsFile: options.pods }), ...(options.namespace === undefined ? {} : { namespace: options.namespace }) };
    return snapshotSource(() => readStatsFiles(paths, fileOptions), warnings);
  }
  // The kubeconfig as every command finds it: a missing or unusable one, or an unreachable server, is exit 3 naming what was tried.
  const { kubeConfig, origin } = resolveKubeConfig({
    ...(options.kubeconfig === undefined ? {} : { kubeconfigPath: options.kubeconfig }),
    ...(options.context === undefined ? {} : { context: options.context }),
  });
  const scrape = {
    kubeConfig,
    samples: options.samples,
    intervalMs: durationFlag('--interval', options.interval, true) * 1000,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
    ...(options.selector === undefined ? {} : { labelSelector: options.selector }),
  };
  return snapshotSource(async () => {
    try {
      return await scrapePodProxies(scrape, warnings);
    } catch (error) {
      throw clusterFailure(error, kubeConfig, origin);
    }
  }, warnings);
}

/** Flags that only one source reads: given with another source, they would be ignored. */
const SOURCE_FLAGS: readonly (readonly [keyof SourceOptions, string, string])[] = [
  ['window', '--window', '--prometheus'],
  ['step', '--step', '--prometheus'],
  ['namespaceLabel', '--namespace-label', '--prometheus'],
  ['podLabel', '--pod-label', '--prometheus'],
  ['kubeconfig', '--kubeconfig', '--pod-proxy'],
  ['context', '--context', '--pod-proxy'],
  ['selector', '--selector', '--pod-proxy'],
  ['samples', '--samples', '--pod-proxy'],
  ['interval', '--interval', '--pod-proxy'],
  ['pods', '--pods', '--from-files'],
];

/**
 * A flag given on the command line that the chosen source would not read; undefined when every
 * flag applies. `given` holds the option names (camelCase) the user typed.
 *
 * @example sourceFlagProblem({ fromFiles: ['d'], ...defaults }, new Set(['window'])) // "--window only works with --prometheus, not --from-files"
 */
export function sourceFlagProblem(options: SourceOptions, given: ReadonlySet<string>): string | undefined {
  const source = options.prometheus !== undefined ? '--prometheus' : options.podProxy === true ? '--pod-proxy' : '--from-files';
  for (const [key, flag, owner] of SOURCE_FLAGS) {
    if (given.has(key) && owner !== source) return `${flag} only works with ${owner}, not ${source}: drop it or use ${owner}`;
  }
  return undefined;
}

/** The options the user typed, not defaults. */
function typedOptions(command: Command): Set<string> {
  return new Set(command.options.map((o) => o.attributeName()).filter((name) => command.getOptionValueSource(name) === 'cli'));
}

/** Runs a recommend action after refusing (exit 2, as commander's usage errors) flags its source would ignore. */
function checked<T extends SourceOptions>(run: (options: T, io: RecommendIo) => Promise<void>, io: RecommendIo) {
  return async (options: T, command: Command): Promise<void> => {
    const problem = sourceFlagProblem(options, typedOptions(command));
    if (problem !== undefined) command.error(`error: ${problem}`, { exitCode: 2, code: 'sidecar-guard.source-flag' });
    await run(options, io);
  };
}

function reportWarnings(source: RecommendSource, io: RecommendIo): void {
  for (const warning of source.warnings) io.stderr(`warning: ${warning}\n`);
}

/** Why profiles are refused when only Envoy's own memory is known, and how to get the container's. */
export function containerMemoryMissing(unmeasured: readonly SkippedWorkload[]): string {
  const list = unmeasured
    .map((s) => `${s.namespace}/${s.workload} (${s.found.length === 0 ? 'no memory stats' : s.found.map((f) => MEMORY_SIGNAL_NAMES[f]).join(', ')})`)
    .join(', ');
  return (
    `no istio-proxy container memory for ${list}: the container runs pilot-agent beside Envoy and is what gets OOM-killed, ` +
    `so a limit from Envoy's memory alone can be below the agent's own; give the container's memory: ` +
    `cAdvisor's container_memory_working_set_bytes{container="istio-proxy"} (--prometheus, or a /federate dump), ` +
    `or the merged istio-proxy scrape on port 15020 (/stats/prometheus, which adds ${AGENT_RSS_METRIC} to Envoy's stats; --pod-proxy reads it)`
  );
}

/** `recommend profiles`: sizes workloads from memory stats and prints the profile table and rules. */
export async function runRecommendProfiles(options: ProfilesCommandOptions, io: RecommendIo): Promise<void> {
  for (const [flag, value] of [['--cpu', options.cpu], ['--cpu-limit', options.cpuLimit]] as const) {
    if (!isResourceQuantity(value)) throw new Error(`${flag} ${value} is not a Kubernetes quantity`);
  }
  if (compareQuantities(options.cpu, options.cpuLimit) > 0) throw new Error(`--cpu ${options.cpu} is above --cpu-limit ${options.cpuLimit}`);
  if (options.limitRatio < 1) {
    throw usageError(`--limit-ratio ${options.limitRatio} would put memory limits below the requests, which Kubernetes and serve --config reject: give 1 or more`);
  }
  const source = io.source ?? sourceFromOptions(options, io.now);
  const evidence = await source.memory();
  const rec = recommendProfiles(evidence, {
    ...DEFAULT_PROFILE_OPTIONS,
    maxProfiles: options.maxProfiles,
    percentile: options.percentile,
    headroom: options.headroom,
    limitRatio: options.limitRatio,
    cpu: options.cpu,
    cpuLimit: options.cpuLimit,
  });
  reportWarnings(source, io);
  const unmeasured = rec.skipped.filter((s) => s.reason === 'NO_CONTAINER_MEMORY');
  if (unmeasured.length > 0) throw usageError(containerMemoryMissing(unmeasured));
  if (rec.workloads.length === 0) throw new Error('no istio-proxy memory stats found in the source');
  if (options.html !== undefined) await writeReport(options.html, profilesReport(rec, (io.now ?? (() => new Date()))()));
  io.stdout(renderProfiles(rec, options.output));
}

async function writeReport(file: string, html: string): Promise<void> {
  const problem = await writeHtml(file, html);
  if (problem !== undefined) throw usageError(problem);
}

/** Why no Sidecar is written when the stats cannot show what a proxy calls, and how to get them. */
export function destinationsUnknown(unseen: readonly string[]): string {
  const shown = shortList(unseen);
  return (
    `no Sidecar written: the stats do not show which services ${shown} call (no traffic counters on any outbound|… cluster: ` +
    `Istio's default stats count only cluster.xds-grpc; and no istio_requests_total or istio_tcp_connections_opened_total ` +
    `series with their workload as source_workload), and a Sidecar from them would cut every call they make; ` +
    `add the outbound cluster stats with proxyStatsMatcher: {inclusionPrefixes: ["cluster.outbound"]} ` +
    `(meshConfig.defaultConfig, or the pod annotation proxy.istio.io/config; https://istio.io/latest/docs/ops/configuration/telemetry/envoy-stats/), ` +
    `restart the pods, let traffic run for the window, and scrape again`
  );
}

/** What request metrics cannot see, said wherever a scope is derived from them. */
export const REQUEST_METRICS_LIMITS =
  'istio_requests_total and istio_tcp_connections_opened_total: only calls made in the window and seen by Istio telemetry; ' +
  'a service called rarely, or only through an excluded port or a non-meshed path, is missing';

/** Why no Sidecar is written when the source cannot list a namespace's pods, and how to give the list. */
export function inventoryMissing(namespaces: readonly string[], options: SourceOptions): string {
  const how =
    options.prometheus !== undefined
      ? 'scrape kube-state-metrics into that Prometheus (kube_pod_container_info{container="istio-proxy"} lists the proxies)'
      : options.podProxy === true
        ? 'drop -l/--selector: it hides the namespace\'s other pods'
        : `give --pods FILE with each namespace's whole pod list (kubectl get pods -n ${namespaces[0] ?? 'NS'} -o yaml)`;
  return (
    `no Sidecar written: a Sidecar in ${namespaces.join(', ')} also applies to (or, per workload, may select) istio-proxy pods the stats do not show, ` +
    `and the source does not list the pods there, so it cannot tell whether every workload was observed; ${how}`
  );
}

/** `recommend scope`: the tightest Sidecars covering the clusters proxies actually used. */
export async function runRecommendScope(options: ScopeCommandOptions, io: RecommendIo): Promise<void> {
  const source = io.source ?? sourceFromOptions(options, io.now);
  const evidence = await source.scope();
  const scopeOptions = { per: options.per, alwaysInclude: options.include, clusterDomain: options.clusterDomain, rootNamespace: options.rootNamespace };
  const recs = recommendScopes(evidence, scopeOptions);
  reportWarnings(source, io);
  for (const gateway of gatewaysSkipped(evidence, scopeOptions)) io.stderr(`note: ${gateway} is a gateway: Sidecars do not apply to gateways, none written for it\n`);
  if (recs.length === 0) throw new Error('no upstream cluster stats found in the source');
  const meshWide = recs.filter((r) => r.meshWide);
  if (meshWide.length > 0 && options.meshWideDefault !== true) {
    const members = meshWide.map((r) => r.namespace).join(', ');
    throw usageError(
      `no Sidecar written: the stats call for a selector-less Sidecar in ${members}, the root namespace, which would be the mesh-wide default ` +
        `for every proxy without its own Sidecar; leave the namespace out (scope the others one at a time with -n), use --per workload, ` +
        `or pass --mesh-wide-default if that is what you want (--root-namespace if yours is not ${options.rootNamespace})`,
    );
  }
  const unselectable = recs.flatMap((r) => r.unselectable);
  if (unselectable.length > 0) {
    throw usageError(
      `no Sidecar written: --per workload cannot single out ${unselectable.join(', ')} by its labels (no app or app.kubernetes.io/name label, ` +
        `or the same labels as another workload), and a namespace-wide Sidecar in their place would also scope every other workload there; ` +
        `give the pod list (--pods FILE from kubectl get pods -o yaml) so their labels are known, label them apart, or use --per namespace`,
    );
  }
  const unseen = recs.flatMap((r) => r.unseen);
  if (unseen.length > 0) throw usageError(destinationsUnknown(unseen));
  const unobserved = [...new Set(recs.flatMap((r) => r.unobserved))].sort();
  if (unobserved.length > 0) {
    throw usageError(
      `no Sidecar written: a namespace-wide Sidecar would also apply to ${shortList(unobserved)}, which ${evidence.inventory?.from ?? 'the pod list'} ` +
        `lists as running but the source has no stats for (a failed scrape, see the warnings, or their dumps not given): nothing shows what they call, ` +
        `and the Sidecar would cut it; scrape them again or add their stats, or use --per workload for Sidecars that select only the observed workloads`,
    );
  }
  const unlisted = [...new Set(recs.filter((r) => r.inventoryMissing).map((r) => r.namespace))].sort();
  if (unlisted.length > 0) throw usageError(inventoryMissing(unlisted, options));
  for (const workload of options.per === 'workload' ? unobservedWorkloads(evidence, scopeOptions) : []) {
    io.stderr(`note: no Sidecar for ${workload}: listed as running, but the source has no stats for it\n`);
  }
  for (const rec of recs.filter((r) => r.fromRequestMetrics.length > 0)) {
    io.stderr(`note: ${rec.namespace}/${rec.name}: destinations of ${rec.fromRequestMetrics.join(', ')} from request metrics (${REQUEST_METRICS_LIMITS})\n`);
  }
  for (const call of recs.flatMap((r) => r.unnamedDestinations)) {
    io.stderr(`note: ${call}: the destination names no host (passthrough traffic to an IP or an unknown service), so no egress host keeps it\n`);
  }
  if (recs.every((r) => r.calledClusters.length === 0)) {
    io.stderr('note: no proxy called any service over the window: the Sidecars import only the --include hosts; widen the window if that is unexpected\n');
  }
  const verified = await verifyScopes(recs, evidence, options, io);
  const refused = recs.filter((_, i) => verified[i]?.refused === true);
  if (options.html !== undefined && refused.length === 0) await writeReport(options.html, scopeReport(recs, (io.now ?? (() => new Date()))(), verified));
  io.stdout(renderScopes(recs, options.output, verified));
  if (refused.length > 0) {
    const lines = refused.flatMap((r) => (verified[recs.indexOf(r)]?.verification.cuts ?? []).map((c) => `${r.namespace}/${r.name} cuts ${describeCut(c)}`));
    throw new CliError(
      `${refused.length === 1 ? 'a Sidecar' : `${refused.length} Sidecars`} not written (${refused.map((r) => `${r.namespace}/${r.name}`).join(', ')}): ` +
        `it would cut traffic its proxies were seen to use: ${lines.join('; ')}. Add the egress hosts named (--include, or edit the Sidecar), ` +
        'check over a longer window, or pass --allow-cuts to print it with the cuts as comments',
      EXIT.VIOLATIONS,
    );
  }
}

/** What the source itself spans: a Prometheus range, or pod-proxy scrapes apart; undefined for one scrape or saved files. */
function sourceWindowOf(options: SourceOptions): VerifyInput['sourceWindow'] {
  if (options.prometheus !== undefined) return { seconds: durationFlag('--window', options.window), from: `--window ${options.window} (Prometheus range)` };
  if (options.podProxy === true && options.samples > 1) {
    return { seconds: (options.samples - 1) * durationFlag('--interval', options.interval, true), from: `${options.samples} scrapes ${options.interval} apart (--pod-proxy)` };
  }
  return undefined;
}

/**
 * Each proposal checked against the observed traffic (and --access-log), with its predicted memory
 * before and after: from the --cluster-state catalog when given, else from the cluster counts.
 */
async function verifyScopes(recs: readonly ScopeRecommendation[], evidence: ScopeEvidence, options: ScopeCommandOptions, io: RecommendIo): Promise<VerifiedScope[]> {
  let accessLog: AccessLogEntry[] | undefined;
  try {
    accessLog = options.accessLog === undefined ? undefined : await readAccessLogs(options.accessLog);
  } catch (error) {
    throw usageError((error as Error).message, { cause: error });
  }
  // Grouped by pod once: each Sidecar is checked against its own pods' lines, not a scan of every line.
  const logOf = new Map<string, AccessLogEntry[]>();
  for (const entry of accessLog ?? []) {
    const caller = `${entry.namespace}/${entry.pod}`;
    const lines = logOf.get(caller);
    if (lines) lines.push(entry);
    else logOf.set(caller, [entry]);
  }
  const members = new Set(recs.flatMap((r) => r.members));
  const strangers = [...logOf.keys()].filter((p) => !members.has(p)).sort();
  if (strangers.length > 0) {
    io.stderr(`warning: --access-log lines of ${shortList(strangers)}: no Sidecar here applies to that proxy (not in the stats, or a gateway), so they were not checked; name each file <namespace>/<pod>.log\n`);
  }
  let view: Awaited<ReturnType<typeof loadFileClusterView>> | undefined;
  if (options.clusterState !== undefined) {
    try {
      view = await loadFileClusterView([options.clusterState]);
    } catch (error) {
      // The loader's errors name the file or directory; the flag is what it adds.
      throw usageError(`--cluster-state: ${(error as Error).message}`, { cause: error });
    }
    if (view.catalog?.() === undefined) io.stderr(`warning: --cluster-state ${options.clusterState} holds no Services or ServiceEntries: predicted memory from the observed cluster counts instead\n`);
  }
  // A calibrated sizing.model (recommend calibrate) and the mesh's defaultServiceExportTo come from --config.
  const base = options.config === undefined ? DEFAULT_CONFIG : await loadCommandConfig(options.config, io);
  const config = { scope: { ...base.scope, clusterDomain: options.clusterDomain, rootNamespace: options.rootNamespace }, sizing: base.sizing };
  const sourceWindow = sourceWindowOf(options);
  const input: VerifyInput = { evidence, ...(sourceWindow === undefined ? {} : { sourceWindow }) };
  const podLabels = (rec: ScopeRecommendation) => evidence.pods.find((p) => rec.members.includes(`${p.namespace}/${p.pod}`))?.labels ?? rec.workloadSelector ?? {};
  return recs.map((rec) => {
    const ownLog = accessLog === undefined ? {} : { accessLog: [...new Set(rec.members)].flatMap((m) => logOf.get(m) ?? []) };
    const verification = verifyScope(rec, { ...input, ...ownLog }, { policy: options.outboundTrafficPolicy ?? 'ALLOW_ANY', clusterDomain: options.clusterDomain });
    const memory = (view && memoryFromCatalog(rec, view, podLabels(rec), config)) ?? memoryFromClusters(rec, config.sizing.model);
    return { verification, memory, refused: verification.cuts.length > 0 && options.allowCuts !== true };
  });
}

/** `recommend cardinality`: distinct istio_requests_total label values per proxy, causes and fixes. */
export async function runRecommendCardinality(options: CardinalityCommandOptions, io: RecommendIo): Promise<void> {
  const source = io.source ?? sourceFromOptions(options, io.now);
  const report = analyseCardinality(await source.cardinality(options.labels), { labels: options.labels, threshold: options.threshold, fallbackShare: 0.5 });
  reportWarnings(source, io);
  io.stdout(renderCardinality(report, options.output, options.labels));
}

/**
 * Fits the memory model's coefficients (docs/memory-model.md) to the proxies' own memory against
 * the clusters they hold. A fit that cannot be used as is (a negative or zero coefficient) is
 * refused: printed as `sizing.model` it would under-predict every proxy.
 */
export async function runRecommendCalibrate(options: CalibrateCommandOptions, io: RecommendIo): Promise<void> {
  const source = io.source ?? sourceFromOptions(options, io.now);
  const [memory, scope] = await Promise.all([source.memory(), source.scope()]);
  reportWarnings(source, io);
  const samplesOf = new Map(MEMORY_SIGNALS.map((s) => [s, calibrationSamples(memory.series, scope.proxies, s)] as const));
  const found = MEMORY_SIGNALS.filter((s) => (samplesOf.get(s) ?? []).length > 0);
  const signal = options.signal !== 'auto' ? options.signal : (CONTAINER_SIGNALS.find((s) => found.includes(s)) ?? found[0]);
  if (signal === undefined) {
    throw usageError(
      'no proxy has both a memory measure and envoy_cluster_manager_active_clusters: calibrating needs each proxy\'s memory (the container\'s working set, or the merged :15020 scrape) and its cluster count from the same input',
    );
  }
  const fit = (() => {
    try {
      return fitMemoryModel(samplesOf.get(signal) ?? [], options.endpointBytes);
    } catch (error) {
      if (!(error instanceof CalibrationError)) throw error;
      throw usageError(`cannot calibrate from ${MEMORY_SIGNAL_NAMES[signal]}: ${error.message}${found.length > 1 ? ` (measures found: ${found.join(', ')}; --signal picks one)` : ''}`);
    }
  })();
  const warnings = fitWarnings(fit);
  if (fit.model.baseBytes < 0 || fit.model.perClusterBytes <= 0 || fit.model.perEndpointBytes < 0) {
    throw usageError(`no model printed: ${warnings.join('; ')}. Keep the default sizing.model, or calibrate on proxies of more varied scope`);
  }
  io.stdout(renderCalibration(fit, warnings, MEMORY_SIGNAL_NAMES[signal], options.output));
}

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number >= 0');
  return n;
};
const list = (value: string): string[] => value.split(',').map((s) => s.trim()).filter((s) => s !== '');

function withSourceOptions(command: Command): Command {
  return command
    .option('--prometheus <url>', 'read from a Prometheus server (HTTP API query_range/query)')
    .option('--pod-proxy', "read each istio-proxy's merged agent + Envoy stats through the API server's pod proxy (port 15020)")
    .option('--from-files <paths...>', 'read saved outputs, detected by content: /stats/prometheus, /stats, /clusters, /config_dump, /memory, Prometheus API JSON, istioctl bug-report trees (<namespace>/<pod>[@n].<ext> when the content names no pod)')
    .option('--pods <file>', 'with --from-files: kubectl get pods -o yaml output, for labels, owners, limits and OOM kills')
    .option('--kubeconfig <path>', 'with --pod-proxy: kubeconfig file (default: in-cluster, KUBECONFIG, ~/.kube/config)')
    .option('--context <name>', 'with --pod-proxy: kubeconfig context')
    .option('-n, --namespace <name>', 'only this namespace (every source)')
    .option('-l, --selector <labels>', 'with --pod-proxy: pod label selector')
    .option('--window <duration>', 'with --prometheus: how far back to look', '7d')
    .option('--step <duration>', 'with --prometheus: query_range resolution', '5m')
    .option('--samples <n>', 'with --pod-proxy: scrapes per pod', positiveInt, 1)
    .option('--interval <duration>', 'with --pod-proxy: time between scrapes', '30s')
    .option('--namespace-label <name>', 'with --prometheus: label holding the pod namespace', 'namespace')
    .option('--pod-label <name>', 'with --prometheus: label holding the pod name', 'pod')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'yaml', 'json']).default('table'));
}

export const registerRecommendCommand: RegisterCommand = (program: Command, commandIo = PROCESS_IO) => {
  // The program's io, not the process's: in-process runs (tests) see what recommend prints.
  const io: RecommendIo = { stdout: commandIo.stdout, stderr: commandIo.stderr };
  const recommend = program.command('recommend').description('recommend proxy profiles, Sidecar scopes and metric fixes from what the proxies report');
  withSourceOptions(
    recommend
      .command('profiles')
      .description('size istio-proxy memory per workload (P90 + 15%, raised after OOM) and print a profile table with rules')
      .option('--max-profiles <n>', 'at most this many profiles', positiveInt, DEFAULT_PROFILE_OPTIONS.maxProfiles)
      .option('--percentile <p>', 'percentile of observed memory to size from', positiveNumber, DEFAULT_PROFILE_OPTIONS.percentile)
      .option('--headroom <fraction>', 'added on top of the percentile', positiveNumber, DEFAULT_PROFILE_OPTIONS.headroom)
      .option('--limit-ratio <r>', 'memory limit = request × r (at least the observed peak + headroom)', positiveNumber, DEFAULT_PROFILE_OPTIONS.limitRatio)
      .option('--cpu <quantity>', 'CPU request for every profile', DEFAULT_PROFILE_OPTIONS.cpu)
      .option('--cpu-limit <quantity>', 'CPU limit for every profile', DEFAULT_PROFILE_OPTIONS.cpuLimit)
      .option('--html <file>', 'also write a self-contained HTML report: observed memory against the profiles, namespaces ranked'),
  ).action(checked(runRecommendProfiles, io));
  withExamples(recommend.commands.at(-1) as Command, [
    'sidecar-guard recommend profiles --prometheus http://prometheus.monitoring:9090 --window 14d',
    'sidecar-guard recommend profiles --from-files ./stats --pods pods.yaml -o yaml > sidecar-guard.yaml',
  ]);
  withSourceOptions(
    recommend
      .command('scope')
      .alias('scopes')
      .description('write the tightest Sidecar per namespace (or workload) from the upstream clusters proxies used')
      .addOption(new Option('--per <unit>', 'one Sidecar per namespace or per workload').choices(['namespace', 'workload']).default('namespace'))
      .option('--include <hosts>', 'egress hosts every Sidecar keeps (comma-separated)', list, ['istio-system/*'])
      .option('--cluster-domain <domain>', 'the cluster DNS domain', 'cluster.local')
      .option('--root-namespace <name>', "Istio's root namespace (meshConfig.rootNamespace)", 'istio-system')
      .option('--mesh-wide-default', 'allow a selector-less Sidecar in the root namespace: the default for the whole mesh')
      .option('--access-log <files...>', 'istio-proxy access logs (kubectl logs POD -c istio-proxy, Istio\'s default TEXT or JSON format; <namespace>/<pod>.log) to verify each Sidecar against, with the stats')
      .addOption(
        new Option('--outbound-traffic-policy <mode>', "the mesh's outboundTrafficPolicy: where cut traffic would go (PassthroughCluster or BlackHoleCluster)")
          .choices([...OUTBOUND_POLICIES])
          .default('ALLOW_ANY'),
      )
      .option('--allow-cuts', 'print a Sidecar even when it cuts observed traffic, the cuts as YAML comments (exit 0)')
      .option('--cluster-state <dir>', 'Services, ServiceEntries, EndpointSlices and Sidecars as YAML: predict memory before/after from what each Sidecar imports')
      .option('--config <file>', "sidecar-guard configuration YAML: its sizing.model (say, from recommend calibrate) and scope.defaultServiceExportTo predict the before/after memory (built-in defaults when absent)")
      .option('--html <file>', 'also write a self-contained HTML report: namespaces ranked by clusters saved, Sidecars with copy buttons'),
  ).action(checked(runRecommendScope, io));
  withExamples(recommend.commands.at(-1) as Command, [
    'sidecar-guard recommend scope --pod-proxy -n shop',
    'sidecar-guard recommend scope --from-files ./stats --pods pods.yaml -o yaml > sidecars.yaml',
    'sidecar-guard recommend scope --prometheus http://prometheus.monitoring:9090 --window 14d --access-log logs/shop/*.log --cluster-state cluster/',
  ]);
  withSourceOptions(
    recommend
      .command('calibrate')
      .description("fit the memory model's base, per-cluster and per-endpoint cost to your proxies (prints sizing.model)")
      .addOption(new Option('--signal <measure>', 'memory measure to fit (auto: the container\'s, best first)').choices(['auto', ...MEMORY_SIGNALS]).default('auto'))
      .option('--endpoint-bytes <n>', 'per-endpoint cost held fixed when the input has no endpoint counts', positiveNumber, DEFAULT_MEMORY_MODEL.perEndpointBytes),
  ).action(checked(runRecommendCalibrate, io));
  withExamples(recommend.commands.at(-1) as Command, [
    'sidecar-guard recommend calibrate --prometheus http://prometheus.monitoring:9090 -o yaml   # paste its sizing.model into your config',
  ]);
  withSourceOptions(
    recommend
      .command('cardinality')
      .description('count distinct istio_requests_total label values per proxy and name the host-header fallback')
      .option('--threshold <n>', 'distinct values per proxy above which a label is a finding', positiveInt, 100)
      .option('--labels <names>', 'labels to count (comma-separated)', list, [...DEFAULT_CARDINALITY_LABELS]),
  ).action(checked(runRecommendCardinality, io));
  withExamples(recommend.commands.at(-1) as Command, ['sidecar-guard recommend cardinality --prometheus http://prometheus.monitoring:9090']);
};
