import { toManifestYaml } from '../kube/manifest-yaml.js';
import { describeBytes } from './memory-quantity.js';
import { MEMORY_SIGNAL_NAMES } from './observations.js';
import type { CardinalityCause, CardinalityReport } from './recommend-cardinality.js';
import { CAUSE_FIXES } from './recommend-cardinality.js';

const CAUSE_NAMES: Readonly<Record<CardinalityCause, string>> = {
  HOST_HEADER_FALLBACK: 'host-header fallback',
  REQUEST_PATH: 'request paths in a custom tag',
  POD_NAME: 'pod names',
  BOUNDED_LABEL: 'a bounded label',
  HIGH_CARDINALITY_LABEL: 'many peers or services',
};
import type { ProfileRecommendation } from './recommend-profiles.js';
import type { ScopeRecommendation } from './recommend-scope.js';
import { toSidecarManifest } from './recommend-scope.js';
import type { Cut, MemoryChange, OutsideRegistry, ScopeVerification } from './verify-scope.js';
import { describeCalls, describeMemoryChange, describeSeconds } from './verify-scope.js';
import { renderTable, shortList } from '../cli/table.js';

export type OutputFormat = 'table' | 'yaml' | 'json';

const bytes = (value: number | undefined): string => (value === undefined ? '-' : describeBytes(value));
const pair = (a: number | undefined, b: number | undefined): string => `${bytes(a)}/${bytes(b)}`;

/** One comment line per workload: the measure its numbers came from, so the file says it too. */
function measureComments(rec: ProfileRecommendation): string {
  return rec.workloads
    .map((w) => {
      const measure = w.signals.map((signal) => MEMORY_SIGNAL_NAMES[signal]).join(', ');
      return `# ${w.namespace}/${w.workload} → ${w.profile}: P90 ${bytes(w.p90)}, peak ${bytes(w.peak)} of ${measure} (${w.samples} samples)\n`;
    })
    .join('');
}

/** The config file `serve --config` loads as is, its choices and measures as comments. */
export function profilesYaml(rec: ProfileRecommendation): string {
  if (rec.config === undefined) throw new Error('no istio-proxy memory stats found in the source');
  const notes = rec.config.notes.map((note) => `# ${note}\n`).join('');
  return `${measureComments(rec)}${notes}${toManifestYaml(rec.config.document)}`;
}

/**
 * `recommend profiles` output: YAML (config block only), JSON (everything), or a table of
 * workloads followed by the config block.
 *
 * @example renderProfiles(rec, 'yaml') // "profiles:\n  small:\n    cpu: 100m\n…"
 */
export function renderProfiles(rec: ProfileRecommendation, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(rec, null, 2)}\n`;
  if (format === 'yaml') return profilesYaml(rec);
  const rows = rec.workloads.map((w) => [
    `${w.namespace}/${w.workload}`,
    String(w.pods),
    w.signals.map((signal) => MEMORY_SIGNAL_NAMES[signal]).join(', '),
    pair(w.currentRequest, w.currentLimit),
    bytes(w.p90),
    bytes(w.peak),
    String(w.oomKills),
    bytes(w.recommended),
    `${w.profile} (${pair(w.profileMemory, w.profileMemoryLimit)})`,
    pair(w.savedRequest, w.savedLimit),
  ]);
  const table = renderTable(
    ['WORKLOAD', 'PODS', 'MEASURED AS', 'CURRENT REQ/LIMIT', 'P90', 'PEAK', 'OOM', 'RECOMMENDED', 'PROFILE (REQ/LIMIT)', 'SAVED REQ/LIMIT (ALL PODS)'],
    rows,
  );
  const skipped = rec.skipped.map((s) => `skipped ${s.namespace}/${s.workload}: ${s.reason}\n`).join('');
  return `${table}${skipped}\n${profilesYaml(rec)}`;
}

/** Where a Sidecar's hosts came from, as the table and the YAML comments say it. */
export function destinationsFrom(rec: ScopeRecommendation): string {
  if (rec.fromRequestMetrics.length === 0) return 'cluster stats';
  return rec.fromRequestMetrics.length === rec.proxies || rec.workload !== undefined ? 'request metrics' : 'cluster stats + request metrics';
}

/** A proposal with its verification against the observed traffic and its predicted memory. */
export interface VerifiedScope {
  readonly verification: ScopeVerification;
  readonly memory: MemoryChange;
  /** Cuts observed traffic and --allow-cuts was not given: only its report is printed, no manifest. */
  readonly refused: boolean;
}


/** One line per cut: what, how seen, how much, by whom, where it would go, what keeps it. */
export function describeCut(cut: Cut): string {
  const ports = cut.ports.length > 0 ? `:${cut.ports.join(',')}` : '';
  return `${cut.host}${ports}: ${describeCalls(cut.count)} from ${shortList(cut.callers, 3)} (${cut.evidence.join(', ')}) would hit ${cut.wouldHit}; keep it with egress host ${cut.keepWith}`;
}

/** One line per destination already outside the registry. */
function describeOutside(entry: OutsideRegistry): string {
  const what = entry.destination === undefined ? entry.seenAs : `${entry.destination} via ${entry.seenAs}`;
  const meaning = entry.seenAs === 'BlackHoleCluster' ? 'already refused today' : 'already outside Istio\'s registry (no Sidecar keeps or cuts it; REGISTRY_ONLY would block it; a ServiceEntry would let a Sidecar name it)';
  return `${what}: ${describeCalls(entry.count)} from ${shortList(entry.callers, 3)} (${entry.evidence.join(', ')}): ${meaning}`;
}

/** The verification of one Sidecar in words, one line each (no comment marks). */
export function verificationLines(rec: ScopeRecommendation, verified: VerifiedScope): string[] {
  const v = verified.verification;
  const lines = [
    `${rec.namespace}/${rec.name}: ${v.cuts.length === 0 ? 'cuts no observed traffic' : `CUTS ${v.cuts.length} observed destination${v.cuts.length === 1 ? '' : 's'}`} ` +
      `(${v.kept.length} kept); window ${v.window.seconds === undefined ? 'unknown' : describeSeconds(v.window.seconds)}: ${v.window.from}; confidence ${v.confidence}: ${v.confidenceReason}`,
    ...v.cuts.map((c) => `cut: ${describeCut(c)}`),
    ...v.outsideRegistry.map((o) => `outside the registry: ${describeOutside(o)}`),
    `predicted memory (busiest proxy): ${describeMemoryChange(verified.memory)}, ${verified.memory.basis === 'catalog' ? 'model on the --cluster-state catalog' : 'model on the observed cluster counts'}: ${verified.memory.detail}`,
  ];
  return lines;
}

const commented = (lines: readonly string[]): string => lines.map((l) => `# ${l}\n`).join('');

/**
 * Sidecar manifests as multi-document YAML; one derived from request metrics says so in a
 * comment, and with a verification each says what it was checked against. A refused one is
 * only comments: nothing in it applies.
 */
export function sidecarsYaml(recs: readonly ScopeRecommendation[], verified?: readonly VerifiedScope[]): string {
  return recs
    .map((r, index) => {
      const comment =
        r.fromRequestMetrics.length === 0
          ? ''
          : `# hosts for ${r.fromRequestMetrics.join(', ')} from request metrics (no outbound cluster stats): ` +
            'istio_requests_total (HTTP/gRPC) and istio_tcp_connections_opened_total (TCP) source_workload → destination_service; ' +
            'only calls made in the window and seen by Istio telemetry\n';
      const check = verified?.[index];
      if (check === undefined) return `${comment}${toManifestYaml(toSidecarManifest(r))}`;
      if (check.refused) return commented([`NOT WRITTEN: ${r.namespace}/${r.name} would cut observed traffic (--allow-cuts prints it anyway)`, ...verificationLines(r, check)]);
      const cutNote = check.verification.cuts.length > 0 ? ['--allow-cuts: this Sidecar cuts the destinations below'] : [];
      return `${comment}${commented([...cutNote, ...verificationLines(r, check)])}${toManifestYaml(toSidecarManifest(r))}`;
    })
    .join('---\n');
}

/** The verification's cells of a Sidecar's row (cuts, confidence, predicted memory), in the terminal and the HTML report alike. */
export function verificationCells(check: VerifiedScope): string[] {
  const cuts = String(check.verification.cuts.length);
  return [check.refused ? `${cuts} (refused)` : cuts, check.verification.confidence, describeMemoryChange(check.memory)];
}

/**
 * `recommend scope` output: the Sidecars (YAML), everything (JSON), or a before/after table
 * followed by the Sidecars. With verifications (same order as `recs`), the table adds the cuts,
 * confidence and predicted memory, and a refused Sidecar has no manifest anywhere.
 *
 * @example renderScopes(recs, 'table') // "SIDECAR  PROXIES  CALLED HOSTS  CLUSTERS BEFORE…"
 */
export function renderScopes(recs: readonly ScopeRecommendation[], format: OutputFormat, verified?: readonly VerifiedScope[]): string {
  if (format === 'json') {
    const items = recs.map((r, index) => {
      const check = verified?.[index];
      return { ...r, ...(check?.refused ? {} : { manifest: toSidecarManifest(r) }), ...(check === undefined ? {} : check) };
    });
    return `${JSON.stringify(items, null, 2)}\n`;
  }
  if (format === 'yaml') return sidecarsYaml(recs, verified);
  const rows = recs.map((r, index) => {
    const share = r.clustersBefore === 0 ? '-' : `${Math.round((100 * r.removedClusters) / r.clustersBefore)}%`;
    const check = verified?.[index];
    const extra = check === undefined ? [] : verificationCells(check);
    return [
      `${r.namespace}/${r.name}`,
      r.workloadSelector ? Object.entries(r.workloadSelector).map(([k, v]) => `${k}=${v}`).join(',') : '(namespace)',
      String(r.proxies),
      String(r.hosts.length),
      String(r.clustersBefore),
      String(r.clustersAfter),
      share,
      destinationsFrom(r),
      ...extra,
    ];
  });
  const headers = ['SIDECAR', 'SELECTOR', 'PROXIES', 'EGRESS HOSTS', 'CLUSTERS NOW', 'CLUSTERS AFTER', 'REDUCTION', 'DESTINATIONS FROM'];
  const table = renderTable(verified === undefined ? headers : [...headers, 'CUTS', 'CONFIDENCE', 'PREDICTED MEMORY'], rows);
  const report = verified === undefined ? '' : `\n${recs.flatMap((r, i) => (verified[i] ? verificationLines(r, verified[i]) : [])).join('\n')}\n`;
  return `${table}${report}\n${sidecarsYaml(recs, verified)}`;
}

/** Telemetry fixes as multi-document YAML, each preceded by its reasons as comments. */
export function telemetryYaml(report: CardinalityReport): string {
  return report.fixes
    .map((fix) => {
      const comments = [`${fix.cause} on ${fix.namespace}/${fix.workload}: ${fix.labels.join(', ')}`, ...fix.notes].map((n) => `# ${n}\n`).join('');
      return `${comments}${toManifestYaml(fix.telemetry)}`;
    })
    .join('---\n');
}

/**
 * `recommend cardinality` output: the Telemetry fixes (YAML), everything (JSON), or a table of
 * distinct values per proxy, the findings, then the fixes.
 *
 * @example renderCardinality(report, 'table', ['destination_service'])
 */
export function renderCardinality(report: CardinalityReport, format: OutputFormat, labels: readonly string[]): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'yaml') return telemetryYaml(report);
  const rows = report.proxies.map((p) => [`${p.namespace}/${p.pod}`, p.workload, ...labels.map((l) => String(p.distinct[l] ?? 0)), String(p.fallbackValues)]);
  const table = renderTable(['PROXY', 'WORKLOAD', ...labels.map((l) => l.toUpperCase()), 'HOST-HEADER VALUES'], rows);
  const findings = report.findings
    .map((f) => {
      const base = `${f.namespace}/${f.pod}: ${f.distinct} distinct ${f.label} values`;
      const seen = f.examples.length === 0 ? '' : ` (e.g. ${f.examples.join(', ')})`;
      if (f.cause !== 'HOST_HEADER_FALLBACK') return `${base}: ${CAUSE_NAMES[f.cause]}${seen}: ${CAUSE_FIXES[f.cause].replace('LABEL', f.label)}\n`;
      return `${base}: host-header fallback (${f.fallbackValues} values with destination_service_namespace="unknown", reporter ${f.reporters.join('+')}; e.g. ${f.examples.join(', ')})\n`;
    })
    .join('');
  if (report.findings.length === 0) return `${table}\nno proxy is above the threshold\n`;
  if (report.fixes.length === 0) return `${table}\n${findings}`;
  return `${table}\n${findings}\n${telemetryYaml(report)}`;
}
