import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

/** Where the in-cluster service account token lives (present only inside a pod). */
export const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeConfigSource {
  /** `--kubeconfig FILE`: wins over everything else. */
  readonly kubeconfigPath?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly inCluster?: () => boolean;
}

/**
 * How the webhook finds its cluster: `--kubeconfig FILE` if given, else the in-cluster service
 * account, else `KUBECONFIG` / `~/.kube/config` (client-node's default loading rules).
 *
 * @example const kc = loadKubeConfig({ kubeconfigPath: options.kubeconfig })
 */
export function loadKubeConfig(source: KubeConfigSource = {}): KubeConfig {
  const kc = new KubeConfig();
  const env = source.env ?? process.env;
  const inCluster = source.inCluster ?? (() => existsSync(SERVICE_ACCOUNT_TOKEN) && env.KUBERNETES_SERVICE_HOST !== undefined);
  if (source.kubeconfigPath !== undefined) kc.loadFromFile(source.kubeconfigPath);
  else if (inCluster()) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error('no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or run in a pod');
  return kc;
}
