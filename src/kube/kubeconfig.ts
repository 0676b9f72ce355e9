import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { ClusterAccessError } from './cluster-access.js';

/** Where the in-cluster service account token lives (present only inside a pod). */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeConfigSource {
  /** `--kubeconfig FILE`: wins over everything else. */
  readonly kubeconfigPath?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly inCluster?: () => boolean;
  /** The home directory whose `.kube/config` is the last resort (tests point it elsewhere). */
  readonly home?: string;
  /** `--context NAME`: a context of the kubeconfig instead of its current one, as kubectl takes it. */
  readonly context?: string;
}

export interface ResolvedKubeConfig {
  readonly kubeConfig: KubeConfig;
  /** What was used, for messages: `--kubeconfig x`, `KUBECONFIG=…`, `~/.kube/config`, the service account. */
  readonly origin: string;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

function load(kc: KubeConfig, origin: string, loader: () => void): void {
  try {
    loader();
  } catch (error) {
    throw new ClusterAccessError(`${origin} is not a usable kubeconfig: ${firstLine(error)}. Check it with kubectl config view`, { cause: error });
  }
}

/**
 * How the webhook finds its cluster: `--kubeconfig FILE` if given, else the in-cluster service
 * account, else `KUBECONFIG` / `~/.kube/config` (client-node's default loading rules). Every
 * failure is a ClusterAccessError that says what was tried.
 *
 * @example const { kubeConfig, origin } = resolveKubeConfig({ kubeconfigPath: options.kubeconfig })
 */
export function resolveKubeConfig(source: KubeConfigSource = {}): ResolvedKubeConfig {
  const kc = new KubeConfig();
  const env = source.env ?? process.env;
  const inCluster = source.inCluster ?? (() => existsSync(SERVICE_ACCOUNT_TOKEN) && env.KUBERNETES_SERVICE_HOST !== undefined);
  let origin: string;
  if (source.kubeconfigPath !== undefined) {
    const path = source.kubeconfigPath;
    origin = `--kubeconfig ${path}`;
    if (!existsSync(path)) throw new ClusterAccessError(`${origin}: no such file: pass the path of a kubeconfig (kubectl config view --raw --minify > FILE writes one)`);
    load(kc, origin, () => kc.loadFromFile(path));
  } else if (inCluster()) {
    origin = 'the in-cluster service account';
    load(kc, origin, () => kc.loadFromCluster());
  } else {
    const listed = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
    const home = join(source.home ?? homedir(), '.kube', 'config');
    origin = listed.length > 0 ? `KUBECONFIG=${env.KUBECONFIG}` : home;
    if (!(listed.length > 0 ? listed : [home]).some((p) => existsSync(p))) {
      const tried = listed.length > 0 ? `KUBECONFIG=${env.KUBECONFIG} (no such file)` : `${home} (no such file; KUBECONFIG is not set)`;
      throw new ClusterAccessError(`no kubeconfig found: tried ${tried} and the in-cluster service account (not running in a pod). Pass --kubeconfig FILE or set KUBECONFIG`);
    }
    load(kc, origin, () => kc.loadFromDefault());
  }
  if (source.context !== undefined) {
    if (!kc.getContextObject(source.context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new ClusterAccessError(`context "${source.context}" is not in ${origin} (it has ${known.length > 0 ? known.join(', ') : 'none'}): kubectl config get-contexts lists them`);
    }
    kc.setCurrentContext(source.context);
    origin = `${origin}, --context ${source.context}`;
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new ClusterAccessError(`${origin} has no current context with a cluster: pick one with kubectl config use-context NAME`);
  if (cluster.server.startsWith('http:') && cluster.skipTLSVerify !== true) {
    throw new ClusterAccessError(`${origin}: server ${cluster.server} is plain HTTP, which the Kubernetes client refuses; use the API server's https:// address`);
  }
  return { kubeConfig: kc, origin };
}

/** resolveKubeConfig without the origin. */
export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  return resolveKubeConfig(source).kubeConfig;
}
