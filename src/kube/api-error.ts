/** The HTTP status of an error from the Kubernetes API (client-node's ApiException `code`), if it has one. */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * One line for an error from the Kubernetes API: the HTTP code and the API server's own Status
 * message, instead of client-node's multi-line dump (`HTTP-Code: 403 / Message: Unknown API
 * Status Code! / Body: … / Headers: …`).
 *
 * @example
 * describeApiError(new ApiException(403, 'Unknown API Status Code!', '{"message":"sidecars … is forbidden"}', {}))
 * // 'HTTP 403: sidecars … is forbidden'
 */
export function describeApiError(error: unknown): string {
  const e = error as { code?: unknown; body?: unknown } | null | undefined;
  if (typeof e?.code === 'number' && e.code >= 100 && e.code < 600) {
    const message = statusMessage(e.body);
    return message ? `HTTP ${e.code}: ${message}` : `HTTP ${e.code}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function statusMessage(body: unknown): string {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body.trim().slice(0, 300);
    }
  }
  const message = (parsed as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : '';
}

/** What to do about a 401/403 from the API server, for the webhook's own reads. */
export function accessHint(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 401) return '; the kubeconfig or service account token was not accepted';
  if (code === 403) return "; grant the webhook's identity list and watch on namespaces and sidecars.networking.istio.io (the chart's ClusterRole <release>-cluster-view does)";
  return '';
}
