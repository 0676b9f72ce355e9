import type { ClusterListing } from '../envoy-admin.js';
import {
  configDumpNode,
  isClustersJson,
  isConfigDump,
  isMemoryJson,
  isPrometheusApiResponse,
  looksLikeClustersText,
  looksLikeStatsText,
  memorySamples,
  parseClustersJson,
  parseClustersText,
  parseConfigDump,
  parseStatsText,
  prometheusApiSamples,
} from '../envoy-admin.js';
import type { ProxyRef } from '../observations.js';
import type { Sample } from '../prometheus-text.js';
import { parsePrometheusText } from '../prometheus-text.js';

/** The formats `--from-files` reads, each detected by its content, never by its file name. */
export type InputFormat = 'prometheus-text' | 'stats-text' | 'clusters-text' | 'clusters-json' | 'config-dump' | 'memory-json' | 'prometheus-api';

/** What each format is, how to produce it and what it is used for: the error lists them, the README's table repeats them. */
export const INPUT_FORMATS: Readonly<Record<InputFormat, { readonly what: string; readonly usedFor: string }>> = {
  'prometheus-text': { what: 'Prometheus text (/stats/prometheus, the merged :15020 scrape, a /federate dump)', usedFor: 'memory, clusters and their traffic, request metrics' },
  'stats-text': { what: "Envoy's plain /stats", usedFor: "Envoy's memory, clusters and their traffic, request metrics" },
  'clusters-text': { what: 'Envoy /clusters', usedFor: 'the clusters a proxy holds, their endpoints and per-host traffic' },
  'clusters-json': { what: 'Envoy /clusters?format=json', usedFor: 'the clusters a proxy holds, their endpoints and per-host traffic' },
  'config-dump': { what: 'Envoy /config_dump or istioctl proxy-config all -o json', usedFor: 'the clusters a proxy holds (and endpoints with ?include_eds), its pod name' },
  'memory-json': { what: 'Envoy /memory', usedFor: "Envoy's memory" },
  'prometheus-api': { what: 'Prometheus HTTP API /api/v1/query or /api/v1/query_range JSON', usedFor: 'whatever metrics it holds, per pod and instant' },
};

/** The one error for a file that is none of the accepted inputs. */
export function unrecognisedInput(what: string): Error {
  const accepted = Object.values(INPUT_FORMATS).map((f) => f.what);
  return new Error(
    `${what}: not an input recommend reads; accepted, detected by content: ${accepted.join('; ')}; ` +
      'or an istioctl bug-report directory (proxies/<namespace>/<pod>/…), or directories of these',
  );
}

/** One file's content, read for what it is. */
export type ReadInput =
  | { readonly format: 'prometheus-text' | 'stats-text' | 'memory-json' | 'prometheus-api'; readonly samples: readonly (Sample & { timestamp?: number })[]; readonly unnamed?: number }
  | { readonly format: 'clusters-text' | 'clusters-json' | 'config-dump'; readonly listing: ClusterListing; readonly node?: ProxyRef & { labels: Readonly<Record<string, string>>; gateway: boolean } };

/**
 * Detects a file's format from its content and reads it; undefined when it is none of the
 * accepted inputs. JSON is told apart by its fields, text by its line shapes.
 *
 * @example readInput('outbound|443||*.wikipedia.org::142.251.223.228:443::rq_total::3\n')?.format // "clusters-text"
 */
export function readInput(text: string): ReadInput | undefined {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (isConfigDump(body)) {
      const node = configDumpNode(body);
      return {
        format: 'config-dump',
        listing: parseConfigDump(body),
        ...(node === undefined ? {} : { node: { namespace: node.namespace, pod: node.pod, labels: node.labels, gateway: node.type === 'router' } }),
      };
    }
    if (isClustersJson(body)) return { format: 'clusters-json', listing: parseClustersJson(body) };
    if (isMemoryJson(body)) return { format: 'memory-json', samples: memorySamples(body) };
    if (isPrometheusApiResponse(body)) {
      const { samples, unnamed } = prometheusApiSamples(body);
      return { format: 'prometheus-api', samples, unnamed };
    }
    return undefined;
  }
  if (looksLikeClustersText(text)) return { format: 'clusters-text', listing: parseClustersText(text) };
  if (looksLikeStatsText(text)) return { format: 'stats-text', samples: parseStatsText(text) };
  try {
    return { format: 'prometheus-text', samples: parsePrometheusText(text) };
  } catch {
    return undefined;
  }
}
