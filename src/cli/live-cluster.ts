import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClusterView } from '../cluster/cluster-view.js';

export interface LiveClusterOptions {
  readonly registry: Registry;
  readonly logger: Logger;
  readonly kubeconfig?: string;
}

/**
 * The watch-backed view of a live cluster (issue 3). Until it lands, `serve` needs
 * `--cluster-state DIR`; saying so is better than serving on an empty view.
 */
export async function startLiveClusterView(_options: LiveClusterOptions): Promise<ClusterView> {
  throw new Error('no --cluster-state given and the live (watch-backed) cluster view is not available in this build; pass --cluster-state DIR');
}
