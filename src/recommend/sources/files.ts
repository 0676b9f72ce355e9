import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { StatsSnapshot } from '../envoy-snapshot.js';
import type { PodFacts, ProxyInventory } from '../observations.js';
import type { Sample } from '../prometheus-text.js';
import { parsePrometheusText } from '../prometheus-text.js';
import type { PodObject } from '../workload-identity.js';
import { hasProxy, podFactsFromPod } from '../workload-identity.js';
import type { SnapshotSet } from './source.js';

const STATS_FILE = /\.(txt|prom)$/;
// Labels a Prometheus federation or scrape adds to name the pod (Istio's samples have used both).
const NAMESPACE_LABELS = ['namespace', 'kubernetes_namespace'] as const;
const POD_LABELS = ['pod', 'kubernetes_pod_name', 'pod_name'] as const;

async function listStatsFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const entries = await readdir(path, { withFileTypes: true });
  const nested = await Promise.all(
    entries
      .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
      .map((e) => (e.isDirectory() ? listStatsFiles(join(path, e.name)) : Promise.resolve(STATS_FILE.test(e.name) ? [join(path, e.name)] : []))),
  );
  return nested.flat();
}

/**
 * Where a dump came from when its samples do not say: `<namespace>/<pod>.txt`, or
 * `<namespace>/<pod>@<n>.txt` for the n-th scrape of the same pod.
 *
 * @example podFromPath('dumps/bookinfo/reviews-v1-7d4b9c8f6d-x2kqp@2.txt') // { namespace: 'bookinfo', pod: 'reviews-v1-7d4b9c8f6d-x2kqp' }
 */
export function podFromPath(path: string): { namespace: string; pod: string } {
  const pod = basename(path).replace(STATS_FILE, '').replace(/@[^@]*$/, '');
  return { namespace: basename(dirname(path)), pod };
}

const firstLabel = (sample: Sample, names: readonly string[]): string | undefined =>
  names.map((n) => sample.labels[n]).find((v) => v !== undefined);

/** Splits one dump into per-pod snapshots, by the pod labels its samples carry or by its path. */
export function snapshotsFromText(path: string, text: string): StatsSnapshot[] {
  const samples = parsePrometheusText(text);
  const fromPath = podFromPath(path);
  const groups = new Map<string, { namespace: string; pod: string; samples: Sample[] }>();
  for (const sample of samples) {
    const namespace = firstLabel(sample, NAMESPACE_LABELS) ?? fromPath.namespace;
    const pod = firstLabel(sample, POD_LABELS) ?? fromPath.pod;
    const key = `${namespace}/${pod}`;
    const group = groups.get(key) ?? { namespace, pod, samples: [] };
    group.samples.push(sample);
    groups.set(key, group);
  }
  return [...groups.values()];
}

// API PodList items carry no kind; kubectl's List items and single manifests say "Pod".
function isPodObject(value: unknown): value is PodObject {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, metadata } = value as { kind?: unknown; metadata?: unknown };
  return (kind === undefined || kind === 'Pod') && typeof metadata === 'object' && metadata !== null;
}

/**
 * Pods from `kubectl get pods -A -o yaml` (a List or PodList), JSON, or multi-document YAML;
 * only those running istio-proxy.
 *
 * @example podFactsFromManifest(await readFile('pods.yaml', 'utf8')).length // 7
 */
export function podFactsFromManifest(text: string): PodFacts[] {
  return proxyPodsFromManifest(text).map(podFactsFromPod);
}

/** The pod objects of a manifest that run istio-proxy. */
function proxyPodsFromManifest(text: string): PodObject[] {
  const pods: PodObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`pods file: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    const value: unknown = doc.toJS();
    const items = (value as { items?: unknown } | null)?.items;
    for (const item of Array.isArray(items) ? items : [value]) {
      if (isPodObject(item)) pods.push(item);
    }
  }
  return pods.filter(hasProxy);
}

/** Pods that are done (a finished Job) run no proxy a Sidecar could still affect. */
const isLive = (pod: PodObject): boolean => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';

export interface StatsFilesOptions {
  /** A pod list (kubectl get pods -o yaml) giving labels, owners, limits and OOM kills. */
  readonly podsFile?: string;
  /** Only proxies in this namespace. */
  readonly namespace?: string;
}

/**
 * Reads saved `/stats/prometheus` dumps (files, or directories walked for *.txt and *.prom in
 * natural order, so `@2` comes before `@10`).
 *
 * @example await readStatsFiles(['test/fixtures/synthetic-stats/bookinfo'])
 */
export async function readStatsFiles(paths: readonly string[], options: StatsFilesOptions = {}): Promise<SnapshotSet> {
  const files = (await Promise.all(paths.map(listStatsFiles))).flat();
  if (files.length === 0) throw new Error(`no *.txt or *.prom stats files in ${paths.join(', ')}`);
  const snapshots: StatsSnapshot[] = [];
  for (const file of files) {
    try {
      snapshots.push(...snapshotsFromText(file, await readFile(file, 'utf8')));
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
    }
  }
  const podObjects = options.podsFile === undefined ? [] : proxyPodsFromManifest(await readFile(options.podsFile, 'utf8'));
  const pods = podObjects.map(podFactsFromPod);
  const inScope = (ref: { namespace: string }): boolean => options.namespace === undefined || ref.namespace === options.namespace;
  // A pod list covers the namespaces it has pods in: `kubectl get pods -n NS -o yaml` lists all of NS.
  const live = podObjects.filter(isLive).map(podFactsFromPod).filter(inScope);
  const inventory: ProxyInventory | undefined =
    options.podsFile === undefined ? undefined : { pods: live, completeIn: [...new Set(pods.map((p) => p.namespace))], from: `the pod list ${options.podsFile}` };
  const kept = snapshots.filter(inScope);
  if (kept.length === 0 && options.namespace !== undefined) {
    const found = [...new Set(snapshots.map((s) => s.namespace))].sort().join(', ');
    throw new Error(`no stats for namespace ${options.namespace} in ${paths.join(', ')} (namespaces there: ${found || 'none'})`);
  }
  return { snapshots: kept, pods: pods.filter(inScope), ...(inventory === undefined ? {} : { inventory }) };
}
