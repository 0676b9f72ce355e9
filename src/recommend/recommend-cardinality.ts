import type { CardinalityEvidence, FallbackValue, Labels, PodFacts, ProxyRef } from './observations.js';
import { podFactsFromName } from './workload-identity.js';
import { groupWorkloads, selectorFor, workloadKey } from './workloads.js';

/** Labels counted by default: the ones that grow with traffic rather than with the mesh. */
export const DEFAULT_CARDINALITY_LABELS = [
  'destination_service',
  'destination_service_name',
  'destination_workload',
  'source_workload',
  'request_protocol',
  'response_code',
] as const;

/**
 * Why a label has many values, each with its own fix:
 * - HOST_HEADER_FALLBACK: `destination_service` took Host headers (`destination_service_namespace="unknown"`);
 * - REQUEST_PATH: the values are request paths, a custom tag set from `request.url_path`;
 * - POD_NAME: the values are pod names (a workload label that fell back to the pod, or a custom pod tag);
 * - BOUNDED_LABEL: an enumeration (`response_code`, `grpc_response_status`, …): not a leak, no Telemetry fix;
 * - HIGH_CARDINALITY_LABEL: many real peers or services (a gateway, a fan-out workload).
 */
export type CardinalityCause = 'HOST_HEADER_FALLBACK' | 'REQUEST_PATH' | 'POD_NAME' | 'BOUNDED_LABEL' | 'HIGH_CARDINALITY_LABEL';

/** Labels whose values come from a fixed set: HTTP status codes (at most ~60 in use), gRPC codes (17), Envoy's response flags, protocols. */
export const BOUNDED_LABELS: ReadonlySet<string> = new Set([
  'response_code',
  'grpc_response_status',
  'response_flags',
  'request_protocol',
  'connection_security_policy',
  'reporter',
  'source_cluster',
  'destination_cluster',
]);

/** What to do about each cause, as the finding and the fix say it. */
export const CAUSE_FIXES: Readonly<Record<CardinalityCause, string>> = {
  HOST_HEADER_FALLBACK: 'remove destination_service (and _name) for the reporting side: the fallback itself has no switch since Istio 1.12',
  REQUEST_PATH:
    'a request path is unbounded: remove the custom tag (or set it from a bounded value, e.g. the route name, instead of request.url_path)',
  POD_NAME:
    'pod names change with every rollout: remove the label, or give the pods an owner and app/version labels so Istio names the workload rather than the pod',
  BOUNDED_LABEL:
    'a bounded enumeration, not a leak: the series count is its values times the other labels; keep it (raise --threshold for it), or sum it away in a recording rule (sum without (LABEL)) if you do not alert on it',
  HIGH_CARDINALITY_LABEL:
    'grows with the number of peers or services this proxy talks to (expected for a gateway or a fan-out workload): remove it only if no dashboard or alert groups by it',
};

// Controllers' generated pod names (rand.SafeEncodeString: no vowels, no 0/1/3): `<deployment>-<hash>-<5>` or `<owner>-<5>`.
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
const POD_NAME = new RegExp(`^[a-z0-9][a-z0-9.-]*-(?:${SAFE}{6,10}-)?${SAFE}{5}$`);
const share = (values: readonly string[], test: (v: string) => boolean): number => (values.length === 0 ? 0 : values.filter(test).length / values.length);

/** The cause of a label's cardinality from its name and some of its values (not the host-header fallback, which needs the namespace mark). */
export function classifyLabel(label: string, examples: readonly string[]): Exclude<CardinalityCause, 'HOST_HEADER_FALLBACK'> {
  if (BOUNDED_LABELS.has(label)) return 'BOUNDED_LABEL';
  if (share(examples, (v) => v.startsWith('/')) >= 0.5) return 'REQUEST_PATH';
  if (share(examples, (v) => POD_NAME.test(v)) >= 0.5) return 'POD_NAME';
  return 'HIGH_CARDINALITY_LABEL';
}

export interface CardinalityOptions {
  readonly labels: readonly string[];
  /** More distinct values than this on one proxy is a finding. */
  readonly threshold: number;
  /** Share of `destination_service` values from the Host header that names the fallback as the cause. */
  readonly fallbackShare: number;
}

export const DEFAULT_CARDINALITY_OPTIONS: CardinalityOptions = { labels: DEFAULT_CARDINALITY_LABELS, threshold: 100, fallbackShare: 0.5 };

export interface CardinalityFinding extends ProxyRef {
  readonly workload: string;
  readonly label: string;
  readonly distinct: number;
  readonly cause: CardinalityCause;
  /** Host-header values behind the finding and the reporters that emitted them (fallback only). */
  readonly fallbackValues: number;
  readonly reporters: readonly string[];
  readonly examples: readonly string[];
}

/** One proxy's counts, whether or not they crossed the threshold. */
export interface ProxyCardinality extends ProxyRef {
  readonly workload: string;
  readonly distinct: Readonly<Record<string, number>>;
  readonly fallbackValues: number;
}

export interface CardinalityReport {
  readonly proxies: readonly ProxyCardinality[];
  readonly findings: readonly CardinalityFinding[];
  readonly fixes: readonly CardinalityFix[];
}

/** A Telemetry resource that removes a label, for one workload (or namespace), with why. */
export interface CardinalityFix {
  readonly namespace: string;
  readonly workload: string;
  readonly cause: CardinalityCause;
  readonly labels: readonly string[];
  readonly telemetry: TelemetryManifest;
  readonly notes: readonly string[];
}

export interface TelemetryManifest {
  readonly apiVersion: 'telemetry.istio.io/v1';
  readonly kind: 'Telemetry';
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: {
    readonly selector?: { readonly matchLabels: Labels };
    readonly metrics: readonly [
      {
        readonly providers: readonly [{ readonly name: 'prometheus' }];
        readonly overrides: readonly {
          readonly match: { readonly metric: 'ALL_METRICS'; readonly mode: 'CLIENT' | 'SERVER' | 'CLIENT_AND_SERVER' };
          readonly tagOverrides: Readonly<Record<string, { readonly operation: 'REMOVE' }>>;
        }[];
      },
    ];
  };
}

// reporter="source" is the client side (outbound), "destination" the server side (inbound).
function telemetryMode(reporters: readonly string[]): 'CLIENT' | 'SERVER' | 'CLIENT_AND_SERVER' {
  const client = reporters.includes('source');
  const server = reporters.includes('destination');
  if (client === server) return 'CLIENT_AND_SERVER';
  return server ? 'SERVER' : 'CLIENT';
}

const FALLBACK_NOTES = [
  'destination_service falls back to the Host header when the proxy cannot tell the destination service (istio.io FAQ "How can I manage short-lived metrics?"); since Istio 1.12 that fallback is hard-coded on for sidecar outbound traffic and off for sidecar inbound and gateways, and the Telemetry API has no switch for it, so the fix removes the label.',
  'Istio >= 1.28: the pod annotation sidecar.istio.io/statsEvictionInterval also expires series for inactive peers.',
  'Older installs on the EnvoyFilter telemetry v2: values.telemetry.v2.prometheus.configOverride.outboundSidecar.disable_host_header_fallback: true.',
];

/**
 * Finds proxies whose `istio_requests_total` has more than `threshold` distinct values of a
 * label. When at least `fallbackShare` of the `destination_service` values carry
 * `destination_service_namespace="unknown"`, the cause is the host-header fallback (istio-facts
 * §8); otherwise the label is just high-cardinality. Each affected workload gets one Telemetry
 * fix removing the offending labels for the reporting side.
 *
 * @example analyseCardinality(evidence).findings[0].cause // "HOST_HEADER_FALLBACK"
 */
export function analyseCardinality(evidence: CardinalityEvidence, options: CardinalityOptions = DEFAULT_CARDINALITY_OPTIONS): CardinalityReport {
  const known = new Map(evidence.pods.map((p) => [`${p.namespace}/${p.pod}`, p]));
  const factsOf = (ref: ProxyRef): PodFacts => known.get(`${ref.namespace}/${ref.pod}`) ?? podFactsFromName(ref.namespace, ref.pod);
  const proxies: ProxyCardinality[] = [];
  const findings: CardinalityFinding[] = [];
  for (const proxy of evidence.proxies) {
    const facts = factsOf(proxy);
    const ref = { namespace: proxy.namespace, pod: proxy.pod, workload: facts.workload };
    proxies.push({ ...ref, distinct: proxy.distinct, fallbackValues: proxy.fallback.length });
    for (const label of options.labels) {
      const distinct = proxy.distinct[label] ?? 0;
      if (distinct <= options.threshold) continue;
      const isFallback =
        (label === 'destination_service' || label === 'destination_service_name') && proxy.fallback.length >= options.fallbackShare * distinct;
      const fallback: readonly FallbackValue[] = isFallback ? proxy.fallback : [];
      const values = proxy.examples?.[label] ?? [];
      findings.push({
        ...ref,
        label,
        distinct,
        cause: isFallback ? 'HOST_HEADER_FALLBACK' : classifyLabel(label, values),
        fallbackValues: fallback.length,
        reporters: [...new Set(fallback.map((f) => f.reporter))].sort(),
        examples: isFallback ? [...new Set(fallback.map((f) => f.value))].slice(0, 5) : values.slice(0, 5),
      });
    }
  }
  return { proxies, findings, fixes: planFixes(findings, [...known.values(), ...evidence.proxies.map(factsOf)]) };
}

const FIX_ORDER: readonly CardinalityCause[] = ['HOST_HEADER_FALLBACK', 'REQUEST_PATH', 'POD_NAME', 'HIGH_CARDINALITY_LABEL'];
const FIX_SUFFIX: Readonly<Record<CardinalityCause, string>> = {
  HOST_HEADER_FALLBACK: 'host-fallback',
  REQUEST_PATH: 'request-path',
  POD_NAME: 'pod-names',
  BOUNDED_LABEL: 'labels',
  HIGH_CARDINALITY_LABEL: 'labels',
};

function planFixes(findings: readonly CardinalityFinding[], pods: readonly PodFacts[]): CardinalityFix[] {
  const workloads = groupWorkloads([...new Map(pods.map((p) => [`${p.namespace}/${p.pod}`, p])).values()]);
  const byWorkload = new Map<string, CardinalityFinding[]>();
  // A bounded label is not a leak: it gets advice, not a Telemetry that would drop it.
  for (const f of findings.filter((x) => x.cause !== 'BOUNDED_LABEL')) byWorkload.set(workloadKey(f), [...(byWorkload.get(workloadKey(f)) ?? []), f]);
  return [...byWorkload.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, group]) => {
    const first = group[0] as CardinalityFinding;
    const workload = workloads.find((w) => workloadKey(w) === key);
    const peers = workloads.filter((w) => w.namespace === first.namespace && workloadKey(w) !== key);
    const selector = workload === undefined ? undefined : selectorFor(workload, peers);
    const labels = [...new Set(group.map((f) => f.label))].sort();
    const fallback = group.some((f) => f.cause === 'HOST_HEADER_FALLBACK');
    const causes = [...new Set(group.map((f) => f.cause))];
    const cause = FIX_ORDER.find((c) => causes.includes(c)) ?? 'HIGH_CARDINALITY_LABEL';
    const reporters = [...new Set(group.flatMap((f) => f.reporters))];
    const tagOverrides = Object.fromEntries(labels.map((label) => [label, { operation: 'REMOVE' as const }]));
    return {
      namespace: first.namespace,
      workload: first.workload,
      cause,
      labels,
      telemetry: {
        apiVersion: 'telemetry.istio.io/v1',
        kind: 'Telemetry',
        metadata: { name: `${first.workload}-drop-${FIX_SUFFIX[cause]}`, namespace: first.namespace },
        spec: {
          ...(selector ? { selector: { matchLabels: { ...selector } } } : {}),
          metrics: [
            {
              providers: [{ name: 'prometheus' }],
              overrides: [{ match: { metric: 'ALL_METRICS', mode: telemetryMode(reporters) }, tagOverrides }],
            },
          ],
        },
      },
      notes: [
        ...(fallback ? FALLBACK_NOTES : []),
        ...causes.filter((c) => c !== 'HOST_HEADER_FALLBACK').map((c) => `${group.filter((f) => f.cause === c).map((f) => f.label).join(', ')}: ${CAUSE_FIXES[c]}`),
        ...(selector ? [] : [`no app label singles out ${first.workload}: this Telemetry applies to the whole namespace ${first.namespace}`]),
      ],
    };
  });
}
