import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { ListedProxy, StatsSnapshot } from '../envoy-snapshot.js';
import type { PodFacts, ProxyInventory } from '../observations.js';
import type { Sample } from '../prometheus-text.js';
import { parsePrometheusText } from '../prometheus-text.js';
import type { PodObject } from '../workload-identity.js';
import { hasProxy, podFactsFromName, podFactsFromPod } from '../workload-identity.js';
import { describeFileError } from '../../fs-errors.js';
import { readInput, unrecognisedInput } from './detect-input.js';
import type { SnapshotSet } from './source.js';

// Labels a Prometheus federation or scrape adds to name the pod (Istio's samples have used both).
const NAMESPACE_LABELS = ['namespace', 'kubernetes_namespace'] as const;
const POD_LABELS = ['pod', 'kubernetes_pod_name', 'pod_name'] as const;

/** Files under a path, in natural order (so `@2` comes before `@10`); `explicit` when named on the command line. */
async function listInputFiles(path: string): Promise<{ file: string; explicit: boolean }[]> {
  if (!(await stat(path)).isDirectory()) return [{ file: path, explicit: true }];
  const walk = async (dir: string): Promise<string[]> => {
    const entries = await readdir(dir, { withFileTypes: true });
    const nested = await Promise.all(
      entries
        .sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }))
        .map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : Promise.resolve(e.isFile() && !e.name.startsWith('.') ? [join(dir, e.name)] : []))),
    );
    return nested.flat();
  };
  return (await walk(path)).map((file) => ({ file, explicit: false }));
}

/**
 * Where a dump came from when its samples do not say: `<namespace>/<pod>.txt`, or
 * `<namespace>/<pod>@<n>.txt` for the n-th scrape of the same pod.
 *
 * @example podFromPath('dumps/bookinfo/reviews-v1-7d4b9c8f6d-x2kqp@2.txt') // { namespace: 'bookinfo', pod: 'reviews-v1-7d4b9c8f6d-x2kqp' }
 */
export function podFromPath(path: string): { namespace: string; pod: string } {
  // istioctl bug-report keeps each proxy's outputs under proxies/<namespace>/<pod>/ (tools/bug-report/pkg/archive).
  const parts = path.split(sep);
  const proxies = parts.lastIndexOf('proxies');
  if (proxies >= 0 && proxies + 3 < parts.length) return { namespace: parts[proxies + 1] as string, pod: parts[proxies + 2] as string };
  const pod = basename(path).replace(/\.[A-Za-z]+$/, '').replace(/@[^@]*$/, '');
  return { namespace: basename(dirname(path)), pod };
}

const firstLabel = (sample: Sample, names: readonly string[]): string | undefined =>
  names.map((n) => sample.labels[n]).find((v) => v !== undefined);

/** Splits one dump into per-pod snapshots, by the pod labels its samples carry or by its path. */
export function snapshotsFromText(path: string, text: string): StatsSnapshot[] {
  return snapshotsFromSamples(path, parsePrometheusText(text));
}

/**
 * Samples into per-pod snapshots: by their namespace/pod labels or the file's path, and, when
 * they carry timestamps (a query_range result), one snapshot per instant, oldest first.
 */
export function snapshotsFromSamples(path: string, samples: readonly (Sample & { timestamp?: number })[]): StatsSnapshot[] {
  const fromPath = podFromPath(path);
  const groups = new Map<string, { namespace: string; pod: string; time: number; samples: Sample[] }>();
  for (const sample of samples) {
    const namespace = firstLabel(sample, NAMESPACE_LABELS) ?? fromPath.namespace;
    const pod = firstLabel(sample, POD_LABELS) ?? fromPath.pod;
    const time = sample.timestamp ?? 0;
    const key = `${namespace}/${pod}@${time}`;
    const group = groups.get(key) ?? { namespace, pod, time, samples: [] };
    group.samples.push(sample);
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => a.time - b.time).map(({ namespace, pod, samples: own }) => ({ namespace, pod, samples: own }));
}

// API PodList items carry no kind; kubectl's List items and single manifests say "Pod".
function isPodObject(value: unknown): value is PodObject {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, metadata } = value as { kind?: unknown; metadata?: unknown };
  return (kind === undefined || kind === 'Pod') && typeof metadata === 'object' && metadata !== null;
}

/**
 * The pods of `kubectl get pods -A -o yaml` (a List or PodList), JSON, or multi-document YAML
 * that run istio-proxy; `what` names the file in errors. `requirePods`: a file holding no Pod
 * at all (not a pod list, or an empty one) is refused rather than read as "no pods".
 */
function proxyPodsFromManifest(text: string, what: string, requirePods = false): PodObject[] {
  const pods: PodObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${what}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
    const value: unknown = doc.toJS();
    const items = (value as { items?: unknown } | null)?.items;
    for (const item of Array.isArray(items) ? items : [value]) {
      if (isPodObject(item)) pods.push(item);
    }
  }
  if (requirePods && pods.length === 0) {
    throw new Error(`${what}: no Pod in it: give the output of kubectl get pods -A -o yaml (or -n NAMESPACE), a List of the namespaces' pods`);
  }
  return pods.filter(hasProxy);
}

/** The `--pods` file's istio-proxy pods; a file that cannot be read or holds no Pod is an input error naming it. */
async function readPodsFile(file: string): Promise<PodObject[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw describeFileError(error, `--pods ${file}`, file);
  }
  return proxyPodsFromManifest(text, `--pods ${file}`, true);
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
  const files = (await Promise.all(paths.map(listInputFiles))).flat();
  const snapshots: StatsSnapshot[] = [];
  const listings: ListedProxy[] = [];
  const namedPods: PodFacts[] = [];
  let bugReportPods: PodObject[] | undefined;
  let read = 0;
  for (const { file, explicit } of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new Error(`${file}: ${(error as Error).message}`, { cause: error });
    }
    // The pod list an istioctl bug-report keeps (kubectl get all -A -o yaml): the inventory when --pods is not given.
    if (file.endsWith(join('cluster', 'k8s-resources'))) {
      bugReportPods = proxyPodsFromManifest(text, file);
      continue;
    }
    // An empty file named on the command line is a failed save, not "no stats": said as such, naming it.
    if (explicit && text.trim() === '') throw unrecognisedInput(`${file} is empty`);
    const input = readInput(text);
    if (input === undefined) {
      if (explicit) throw unrecognisedInput(file);
      continue;
    }
    read += 1;
    if ('listing' in input) {
      const ref = input.node ?? podFromPath(file);
      listings.push({ namespace: ref.namespace, pod: ref.pod, ...input.listing });
      if (input.node !== undefined) namedPods.push(podFactsFromName(ref.namespace, ref.pod, { labels: input.node.labels, gateway: input.node.gateway }));
      continue;
    }
    if (input.format === 'prometheus-api' && (input.unnamed ?? 0) > 0 && input.samples.length === 0) {
      throw new Error(`${file}: a Prometheus API result without __name__ (an expression's result): query the metrics by name, e.g. query=envoy_cluster_upstream_rq_total`);
    }
    snapshots.push(...snapshotsFromSamples(file, input.samples));
  }
  if (read === 0) throw unrecognisedInput(`no input in ${paths.join(', ')}`);
  const podObjects = options.podsFile === undefined ? (bugReportPods ?? []) : await readPodsFile(options.podsFile);
  const listFrom = options.podsFile !== undefined ? `the pod list ${options.podsFile}` : bugReportPods !== undefined ? "the bug report's cluster/k8s-resources" : undefined;
  const given = new Map([...namedPods, ...podObjects.map(podFactsFromPod)].map((p) => [`${p.namespace}/${p.pod}`, p]));
  const pods = [...given.values()];
  const inScope = (ref: { namespace: string }): boolean => options.namespace === undefined || ref.namespace === options.namespace;
  // A pod list covers the namespaces it has pods in: `kubectl get pods -n NS -o yaml` lists all of NS.
  const live = podObjects.filter(isLive).map(podFactsFromPod).filter(inScope);
  const inventory: ProxyInventory | undefined =
    listFrom === undefined ? undefined : { pods: live, completeIn: [...new Set(podObjects.map(podFactsFromPod).map((p) => p.namespace))], from: listFrom };
  const kept = snapshots.filter(inScope);
  const keptListings = listings.filter(inScope);
  if (kept.length + keptListings.length === 0 && options.namespace !== undefined) {
    const found = [...new Set([...snapshots, ...listings].map((s) => s.namespace))].sort().join(', ');
    throw new Error(`no stats for namespace ${options.namespace} in ${paths.join(', ')} (namespaces there: ${found || 'none'})`);
  }
  return { snapshots: kept, listings: keptListings, pods: pods.filter(inScope), ...(inventory === undefined ? {} : { inventory }) };
}
