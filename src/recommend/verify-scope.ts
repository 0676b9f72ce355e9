import { formatCount, predictMemoryBytes, type MemoryModel } from '../policy/memory-model.js';
import { egressSelector } from '../policy/service-imports.js';
import { describePrediction, predictFor } from '../policy/memory-check.js';
import { findEffectiveSidecar } from '../policy/sidecar-scope.js';
import type { ClusterFacts, Labels, SidecarFacts } from '../policy/types.js';
import type { ClusterView } from '../cluster/cluster-view.js';
import type { Config } from '../config/types.js';
import type { AccessLogEntry } from './access-log.js';
import type { ScopeEvidence } from './observations.js';
import { egressHost, hostNamespace, parseOutboundCluster, requestDestinationHost, type ScopeRecommendation } from './recommend-scope.js';

/**
 * `meshConfig.outboundTrafficPolicy.mode` (Istio's default ALLOW_ANY): where traffic to a host
 * the Sidecar no longer imports goes. ALLOW_ANY: PassthroughCluster, on to the address dialled,
 * without Istio's routing, mTLS or telemetry; REGISTRY_ONLY: BlackHoleCluster, refused.
 */
export type OutboundPolicy = 'ALLOW_ANY' | 'REGISTRY_ONLY';
export const OUTBOUND_POLICIES: readonly OutboundPolicy[] = ['ALLOW_ANY', 'REGISTRY_ONLY'];

export type TrafficEvidence = 'cluster stats' | 'cluster stats before the window' | 'request metrics' | 'access log';

/** A destination the Sidecar's proxies were seen to use. */
export interface UsedDestination {
  readonly host: string;
  readonly ports: readonly number[];
  /** Requests + connections counted, or access log lines. */
  readonly count: number;
  /** Who called it: `namespace/pod` (stats, logs) or `namespace/workload` (request metrics). */
  readonly callers: readonly string[];
  readonly evidence: readonly TrafficEvidence[];
}

/** Used, but the proposed Sidecar does not import it. */
export interface Cut extends UsedDestination {
  /** Where its traffic would go under the Sidecar. */
  readonly wouldHit: 'PassthroughCluster' | 'BlackHoleCluster';
  /** The egress host that would keep it. */
  readonly keepWith: string;
}

/** Traffic already outside Istio's registry: no egress host can keep or cut it. */
export interface OutsideRegistry {
  /** `PassthroughCluster`, `BlackHoleCluster`, or the request metrics' `destination_service` naming no host. */
  readonly seenAs: string;
  /** What the traffic names (Host header, SNI, the address dialled); undefined when the source does not say. */
  readonly destination?: string;
  readonly count: number;
  readonly callers: readonly string[];
  readonly evidence: readonly TrafficEvidence[];
}

/** How far back the evidence reaches. */
export interface ObservationWindow {
  /** Seconds covered; undefined when no input says. */
  readonly seconds?: number;
  /** What the longest evidence is, in words ("--window 7d (Prometheus range)", "a single scrape …"). */
  readonly from: string;
  /** Every evidence span found, in words. */
  readonly spans: readonly string[];
}

export type Confidence = 'high' | 'medium' | 'low';

const CONFIDENCE_RULES = {
  high: { seconds: 7 * 86_400, calls: 1_000 },
  medium: { seconds: 86_400, calls: 100 },
} as const;

export interface ScopeVerification {
  readonly cuts: readonly Cut[];
  readonly kept: readonly UsedDestination[];
  readonly outsideRegistry: readonly OutsideRegistry[];
  readonly window: ObservationWindow;
  /** Requests, connections and log lines seen from the Sidecar's proxies, in total. */
  readonly observedCalls: number;
  readonly confidence: Confidence;
  readonly confidenceReason: string;
}

export interface VerifyInput {
  readonly evidence: ScopeEvidence;
  readonly accessLog?: readonly AccessLogEntry[];
  /** What the source itself spans (a Prometheus range, scrapes apart); undefined for one scrape. */
  readonly sourceWindow?: { readonly seconds: number; readonly from: string };
}

export interface VerifyOptions {
  readonly policy: OutboundPolicy;
  readonly clusterDomain: string;
}

/**
 * A duration for people: `7d`, `3d 4h`, `2h 5m`, `45s`.
 *
 * @example describeSeconds(273_600) // "3d 4h"
 */
export function describeSeconds(seconds: number): string {
  const units: [string, number][] = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    } else if (parts.length > 0) break;
  }
  return parts.length === 0 ? '0s' : parts.join(' ');
}

/** `1,240 calls`, `1 call` */
export function describeCalls(count: number): string {
  return `${formatCount(count)} call${count === 1 ? '' : 's'}`;
}

/**
 * high: at least 7 days and 1,000 calls; medium: at least 1 day and 100 calls; low otherwise, or
 * when the window is unknown. A weekly job that did not run in the window is missing from it.
 *
 * @example confidenceOf(7 * 86_400, 5_000) // { confidence: 'high', reason: '7d and 5,000 calls' }
 */
export function confidenceOf(seconds: number | undefined, calls: number): { confidence: Confidence; reason: string } {
  const count = describeCalls(calls);
  if (seconds === undefined) return { confidence: 'low', reason: `window unknown (${count})` };
  const span = describeSeconds(seconds);
  const { high, medium } = CONFIDENCE_RULES;
  if (seconds >= high.seconds && calls >= high.calls) return { confidence: 'high', reason: `${span} and ${count}` };
  if (seconds >= medium.seconds && calls >= medium.calls) {
    const missing = [seconds < high.seconds ? describeSeconds(high.seconds) : undefined, calls < high.calls ? describeCalls(high.calls) : undefined].filter((s) => s !== undefined);
    return { confidence: 'medium', reason: `${span} and ${count} (high needs ${missing.join(' and ')})` };
  }
  const short = [seconds < medium.seconds ? `${span} is under ${describeSeconds(medium.seconds)}` : undefined, calls < medium.calls ? `${count} is under ${medium.calls}` : undefined]
    .filter((s) => s !== undefined)
    .join(' and ');
  return { confidence: 'low', reason: short };
}

class Tally<T extends { count: number; callers: Set<string>; evidence: Set<TrafficEvidence> }> {
  readonly byKey = new Map<string, T>();
  add(key: string, create: () => T, count: number, caller: string, evidence: TrafficEvidence): T {
    let entry = this.byKey.get(key);
    if (entry === undefined) this.byKey.set(key, (entry = create()));
    entry.count += count;
    entry.callers.add(caller);
    entry.evidence.add(evidence);
    return entry;
  }
}

type Mutable = { count: number; callers: Set<string>; evidence: Set<TrafficEvidence> };
const SPECIAL = new Set(['PassthroughCluster', 'BlackHoleCluster']);
const hostOf = (authority: string): string => authority.replace(/:\d+$/, '');

/** The window the Sidecar's evidence covers: the source's span, the proxies' uptime, the access log's span. */
function windowOf(rec: ScopeRecommendation, input: VerifyInput, logTimes: readonly number[]): ObservationWindow {
  const spans: { seconds?: number; from: string }[] = [];
  if (input.sourceWindow) spans.push(input.sourceWindow);
  const proxies = input.evidence.proxies.filter((p) => rec.members.includes(`${p.namespace}/${p.pod}`));
  // Counters since start cover the proxy's uptime: a Prometheus range only holds increases, so it has no uptime.
  const uptimes = proxies.map((p) => p.uptimeSeconds);
  if (proxies.length > 0 && uptimes.every((u): u is number => u !== undefined)) {
    const shortest = Math.min(...uptimes);
    spans.push({ seconds: shortest, from: `counters since the proxies started (shortest uptime ${describeSeconds(shortest)})` });
  }
  if (logTimes.length > 0) {
    // A loop, not Math.min(...): a log of millions of lines would overflow the call stack.
    let first = Number.POSITIVE_INFINITY;
    let last = Number.NEGATIVE_INFINITY;
    for (const time of logTimes) {
      if (time < first) first = time;
      if (time > last) last = time;
    }
    spans.push({ seconds: (last - first) / 1000, from: `access log ${new Date(first).toISOString()} to ${new Date(last).toISOString()}` });
  }
  const known = spans.filter((s): s is { seconds: number; from: string } => s.seconds !== undefined).sort((a, b) => b.seconds - a.seconds);
  const longest = known[0];
  if (longest !== undefined) return { seconds: longest.seconds, from: longest.from, spans: spans.map((s) => s.from) };
  const scrapes = Math.max(0, ...proxies.map((p) => p.scrapes ?? 1));
  const from =
    scrapes > 1
      ? `${scrapes} scrapes, the time between them not recorded; no server.uptime (envoy_server_uptime) in the input`
      : 'a single scrape (counters since each proxy started); no server.uptime (envoy_server_uptime) in the input to say how long ago';
  return { from, spans: [from] };
}

/**
 * Checks a proposed Sidecar against what its proxies were seen to use: every destination with
 * traffic (cluster stats in or before the window, request metrics of its workloads, access log
 * lines of its pods) that its egress hosts do not import is a cut; traffic already on
 * PassthroughCluster or BlackHoleCluster is listed as outside the registry. Uses the same matcher
 * as the import computation (egressSelector).
 *
 * @example verifyScope(rec, { evidence }, { policy: 'ALLOW_ANY', clusterDomain: 'cluster.local' }).cuts
 */
export function verifyScope(rec: ScopeRecommendation, input: VerifyInput, options: VerifyOptions): ScopeVerification {
  const members = new Set(rec.members);
  const used = new Tally<Mutable & { host: string; ports: Set<number> }>();
  const outside = new Tally<Mutable & { seenAs: string; destination?: string }>();
  const use = (host: string, port: number | undefined, count: number, caller: string, evidence: TrafficEvidence): void => {
    const entry = used.add(host, () => ({ host, ports: new Set(), count: 0, callers: new Set(), evidence: new Set() }), count, caller, evidence);
    if (port !== undefined) entry.ports.add(port);
  };
  const beyond = (seenAs: string, destination: string | undefined, count: number, caller: string, evidence: TrafficEvidence): void => {
    outside.add(`${seenAs}\u0000${destination ?? ''}`, () => ({ seenAs, ...(destination === undefined ? {} : { destination }), count: 0, callers: new Set(), evidence: new Set() }), count, caller, evidence);
  };
  for (const proxy of input.evidence.proxies) {
    const caller = `${proxy.namespace}/${proxy.pod}`;
    if (!members.has(caller)) continue;
    for (const cluster of proxy.clusters) {
      const inWindow = cluster.requests + cluster.connections;
      const before = inWindow === 0 ? (cluster.sinceStart ?? 0) : 0;
      if (inWindow === 0 && before === 0) continue;
      const evidence: TrafficEvidence = inWindow > 0 ? 'cluster stats' : 'cluster stats before the window';
      const outbound = parseOutboundCluster(cluster.cluster);
      if (outbound !== undefined) use(outbound.host, outbound.port, inWindow + before, caller, evidence);
      else if (SPECIAL.has(cluster.cluster)) beyond(cluster.cluster, undefined, inWindow + before, caller, evidence);
    }
  }
  const workloads = new Set(rec.memberWorkloads);
  for (const edge of input.evidence.requests ?? []) {
    if (edge.count <= 0 || edge.sourceNamespace !== rec.namespace || !workloads.has(edge.sourceWorkload)) continue;
    const caller = `${edge.sourceNamespace}/${edge.sourceWorkload}`;
    const host = requestDestinationHost(edge.destinationService);
    // Istio's host-header fallback: a destination outside the registry, named by the Host header.
    if (host !== undefined && edge.destinationNamespace === 'unknown') beyond(`${edge.metric} destination_service_namespace="unknown"`, host, edge.count, caller, 'request metrics');
    else if (host !== undefined) use(host, undefined, edge.count, caller, 'request metrics');
    else beyond(`${edge.metric} destination_service="${edge.destinationService}"`, undefined, edge.count, caller, 'request metrics');
  }
  const logTimes: number[] = [];
  for (const entry of input.accessLog ?? []) {
    const caller = `${entry.namespace}/${entry.pod}`;
    if (!members.has(caller)) continue;
    const outbound = parseOutboundCluster(entry.upstreamCluster);
    if (outbound === undefined && !SPECIAL.has(entry.upstreamCluster)) continue;
    if (entry.timeMs !== undefined) logTimes.push(entry.timeMs);
    if (outbound !== undefined) use(outbound.host, outbound.port, 1, caller, 'access log');
    else beyond(entry.upstreamCluster, entry.authority !== undefined ? hostOf(entry.authority) : (entry.serverName ?? entry.downstreamLocal), 1, caller, 'access log');
  }
  const selector = egressSelector(rec.hosts, rec.namespace);
  const freeze = <T extends Mutable>({ callers, evidence, ...rest }: T) => ({ ...rest, callers: [...callers].sort(), evidence: [...evidence].sort() });
  const destinations = [...used.byKey.values()]
    .map(({ ports, ...rest }) => freeze({ ...rest, ports: [...ports].sort((a, b) => a - b) }))
    .sort((a, b) => a.host.localeCompare(b.host));
  const isKept = (host: string): boolean => selector.imports(hostNamespace(host, options.clusterDomain), [host]);
  const wouldHit = options.policy === 'REGISTRY_ONLY' ? 'BlackHoleCluster' : 'PassthroughCluster';
  const cuts: Cut[] = destinations.filter((d) => !isKept(d.host)).map((d) => ({ ...d, wouldHit, keepWith: egressHost(d.host, options.clusterDomain) }));
  const outsideRegistry: OutsideRegistry[] = [...outside.byKey.values()].map((o) => freeze(o)).sort((a, b) => a.seenAs.localeCompare(b.seenAs) || (a.destination ?? '').localeCompare(b.destination ?? ''));
  const observedCalls = destinations.reduce((sum, d) => sum + d.count, 0) + outsideRegistry.reduce((sum, o) => sum + o.count, 0);
  const window = windowOf(rec, input, logTimes);
  const { confidence, reason } = confidenceOf(window.seconds, observedCalls);
  return { cuts, kept: destinations.filter((d) => isKept(d.host)), outsideRegistry, window, observedCalls, confidence, confidenceReason: reason };
}

/** Predicted memory of the busiest proxy before and after, and what the prediction rests on. */
export interface MemoryChange {
  readonly before: number;
  readonly after: number;
  /** `catalog`: the imports computed from --cluster-state; `observed clusters`: the clusters the proxies hold now and would keep. */
  readonly basis: 'catalog' | 'observed clusters';
  readonly detail: string;
}

/**
 * The memory model on the observed cluster counts (CLUSTERS NOW / AFTER): endpoints are not in
 * the stats, so only base + per-cluster cost.
 *
 * @example memoryFromClusters(rec, DEFAULT_MEMORY_MODEL).basis // "observed clusters"
 */
export function memoryFromClusters(rec: Pick<ScopeRecommendation, 'clustersBefore' | 'clustersAfter'>, model: MemoryModel): MemoryChange {
  const before = predictMemoryBytes({ clusters: rec.clustersBefore, endpoints: 0 }, model);
  const after = predictMemoryBytes({ clusters: rec.clustersAfter, endpoints: 0 }, model);
  return { before, after, basis: 'observed clusters', detail: `${rec.clustersBefore} → ${rec.clustersAfter} clusters held (endpoints not in the stats, not counted)` };
}

/**
 * The memory model on the imports the catalog gives (--cluster-state): before, under the Sidecar
 * that applies today (or none); after, under the proposed one. Undefined without a catalog.
 *
 * @example memoryFromCatalog(rec, view, {}, DEFAULT_CONFIG)?.detail // "imports 212 services / 640 clusters … → 9 services / 40 clusters …"
 */
export function memoryFromCatalog(
  rec: ScopeRecommendation,
  view: Pick<ClusterView, 'sidecars' | 'catalog'>,
  podLabels: Labels,
  config: Pick<Config, 'scope' | 'sizing'>,
): MemoryChange | undefined {
  const catalog = view.catalog?.();
  if (catalog === undefined) return undefined;
  const facts: ClusterFacts = { synced: true, sidecars: view.sidecars(rec.namespace), rootSidecars: view.sidecars(config.scope.rootNamespace), catalog };
  const today = findEffectiveSidecar(podLabels, facts);
  const proposed: SidecarFacts = {
    namespace: rec.namespace,
    name: rec.name,
    ...(rec.workloadSelector === undefined ? {} : { workloadSelector: rec.workloadSelector }),
    egressHosts: rec.hosts,
    hasEgress: true,
  };
  const before = predictFor(rec.namespace, today?.sidecar, facts, config);
  const after = predictFor(rec.namespace, proposed, facts, config);
  if (before === undefined || after === undefined) return undefined;
  const now = today === undefined ? 'no Sidecar today' : `Sidecar ${today.sidecar.namespace}/${today.sidecar.name} today`;
  return { before: before.bytes, after: after.bytes, basis: 'catalog', detail: `${now}: ${describePrediction(before)} → ${describePrediction(after)}` };
}

const MIB = 1024 * 1024;
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

/**
 * Before → after in MiB with one decimal, so a change of a few clusters (42 kB each) still shows.
 *
 * @example describeMemoryChange({ before: 38_840_736, after: 38_588_736 }) // "37.0 MiB → 36.8 MiB (-0.2 MiB)"
 */
export function describeMemoryChange(change: Pick<MemoryChange, 'before' | 'after'>): string {
  const delta = change.after - change.before;
  return `${mib(change.before)} → ${mib(change.after)} (${delta >= 0 ? '+' : '-'}${mib(Math.abs(delta))})`;
}
