import type { KubeConfig } from '@kubernetes/client-node';

/** The cluster cannot be found, reached or used; the message says what was tried and what to do. */
export class ClusterAccessError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ClusterAccessError';
  }
}

/** Network and TLS failures (Node's codes, as client-node and node:https report them), in words. */
const PROBLEMS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused (nothing listens there)',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (DNS)',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset by the server',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPROTO: 'TLS handshake failed (is it an HTTPS port?)',
  CERT_HAS_EXPIRED: "the API server's certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the API server's certificate is self-signed and not the kubeconfig's certificate-authority",
  SELF_SIGNED_CERT_IN_CHAIN: "the API server's certificate is not signed by the kubeconfig's certificate-authority",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the API server's certificate is not signed by the kubeconfig's certificate-authority",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "the API server's certificate is not signed by the kubeconfig's certificate-authority",
  ERR_TLS_CERT_ALTNAME_INVALID: "the API server's certificate does not name the address in the kubeconfig",
};

/** What went wrong on the way to the API server, or undefined when the error is not a network or TLS one. */
export function networkProblem(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 4; current = (current as { cause?: unknown }).cause, depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && PROBLEMS[code]) return PROBLEMS[code];
  }
  return undefined;
}

/**
 * An error met while talking to the cluster, as one ClusterAccessError that names the server, where
 * its address came from (`origin`) and what to do.
 *
 * @example throw clusterFailure(error, kubeConfig, '--kubeconfig ./kc.yaml')
 */
export function clusterFailure(error: unknown, kubeConfig: KubeConfig, origin: string): ClusterAccessError {
  if (error instanceof ClusterAccessError) return error;
  const server = kubeConfig.getCurrentCluster()?.server ?? '(no server)';
  const where = `${server} (from ${origin}, context ${kubeConfig.getCurrentContext() || '(none)'})`;
  const problem = networkProblem(error);
  if (problem !== undefined) {
    return new ClusterAccessError(
      `cannot reach the Kubernetes API server ${where}: ${problem}. Check that the cluster is up and that this is the kubeconfig you meant (kubectl cluster-info tries the same)`,
      { cause: error },
    );
  }
  return new ClusterAccessError(`${error instanceof Error ? error.message : String(error)} (API server ${where})`, { cause: error });
}
