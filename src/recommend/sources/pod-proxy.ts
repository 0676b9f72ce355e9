import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { getFromApiServer } from '../../kube/api-get.js';
import type { StatsSnapshot } from '../envoy-snapshot.js';
import { parsePrometheusText } from '../prometheus-text.js';
import { hasProxy, podFactsFromPod } from '../workload-identity.js';
import type { SnapshotSet } from './source.js';

/**
 * istio-proxy's merged metrics port and path (istio-facts §7.2: "Merged Prometheus telemetry from
 * Istio agent, Envoy, and application"), not Envoy's own 15090: the agent's resident memory is
 * only there, and the container is sized from both.
 */
export const PROXY_STATS_PORT = 15020;
export const PROXY_STATS_PATH = 'stats/prometheus';

export interface PodProxyOptions {
  readonly kubeConfig: KubeConfig;
  /** Only this namespace; every namespace when absent. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  /** Scrapes per pod; counters are compared between the first and the last. */
  readonly samples?: number;
  readonly intervalMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Pods scraped at once. */
  readonly concurrency?: number;
}

/** The pod-proxy path to a pod's merged stats: /api/v1/namespaces/NS/pods/POD:15020/proxy/stats/prometheus. */
export function statsPath(namespace: string, pod: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}:${PROXY_STATS_PORT}/proxy/${PROXY_STATS_PATH}`;
}

async function mapLimited<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Lists running pods with istio-proxy and scrapes each one's merged agent + Envoy stats through the API
 * server's pod proxy, `samples` times `intervalMs` apart. A pod that cannot be scraped is a
 * warning, not a failure.
 *
 * @example const set = await scrapePodProxies({ kubeConfig, namespace: 'bookinfo' }, warnings)
 */
export async function scrapePodProxies(options: PodProxyOptions, warnings: string[] = []): Promise<SnapshotSet> {
  const api = options.kubeConfig.makeApiClient(CoreV1Api);
  const selector = options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector };
  const list =
    options.namespace === undefined
      ? await api.listPodForAllNamespaces(selector)
      : await api.listNamespacedPod({ namespace: options.namespace, ...selector });
  const pods = list.items.filter((pod: V1Pod) => pod.status?.phase === 'Running' && hasProxy(pod));
  const facts = pods.map(podFactsFromPod);
  const samples = Math.max(1, options.samples ?? 1);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const snapshots: StatsSnapshot[] = [];
  for (let round = 0; round < samples; round += 1) {
    if (round > 0) await sleep(options.intervalMs ?? 30_000);
    const scraped = await mapLimited(facts, options.concurrency ?? 8, async (pod): Promise<StatsSnapshot | undefined> => {
      try {
        const text = await getFromApiServer(options.kubeConfig, statsPath(pod.namespace, pod.pod), 'text/plain');
        return { namespace: pod.namespace, pod: pod.pod, samples: parsePrometheusText(text) };
      } catch (error) {
        warnings.push(`${pod.namespace}/${pod.pod}: ${(error as Error).message}`);
        return undefined;
      }
    });
    snapshots.push(...scraped.filter((s): s is StatsSnapshot => s !== undefined));
  }
  // The list is every running istio-proxy pod of the namespace (or the cluster), unless a selector narrowed it.
  const completeIn = options.labelSelector !== undefined ? [] : [options.namespace ?? '*'];
  return { snapshots, pods: facts, inventory: { pods: facts, completeIn, from: "the API server's pod list" } };
}
