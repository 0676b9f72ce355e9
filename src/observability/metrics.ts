import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface WebhookMetrics {
  readonly registry: Registry;
  readonly decisions: Counter<'webhook' | 'verdict' | 'reason' | 'mode' | 'dry_run'>;
  readonly duration: Histogram<'webhook'>;
  readonly exemptions: Counter<'webhook' | 'target' | 'kind' | 'namespace' | 'dry_run'>;
  readonly rejectedReviews: Counter<'webhook' | 'code'>;
  readonly configReloads: Counter<'result'>;
  readonly tlsConnections: Counter;
}

/**
 * The webhook's Prometheus metrics on their own registry (so tests get fresh ones).
 * Reason codes are stable SCREAMING_SNAKE values, safe as label values.
 */
export function createMetrics(options: { registry?: Registry; defaultMetrics?: boolean } = {}): WebhookMetrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'sidecar_guard_' });
  return {
    registry,
    decisions: new Counter({
      name: 'sidecar_guard_decisions_total',
      help: 'Admission decisions by webhook, verdict (allowed, patched, denied, audit_violation), reason code, mode and dry run.',
      labelNames: ['webhook', 'verdict', 'reason', 'mode', 'dry_run'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'sidecar_guard_decision_duration_seconds',
      help: 'Time from a parsed body to an encoded answer.',
      labelNames: ['webhook'],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25],
      registers: [registry],
    }),
    exemptions: new Counter({
      name: 'sidecar_guard_exemptions_total',
      // Every label comes from a fixed set: a namespace label would let any request mint series
      // (the namespace of each exemption is in the decision log line instead).
      help: 'Honoured exemptions by target (namespace, workload) and kind (scope, resources).',
      labelNames: ['webhook', 'target', 'kind', 'dry_run'],
      registers: [registry],
    }),
    rejectedReviews: new Counter({
      name: 'sidecar_guard_rejected_reviews_total',
      help: 'Requests to /validate or /mutate answered 4xx before any decision, by code: SG_ERR_BAD_REVIEW, SG_ERR_BAD_JSON, SG_ERR_TOO_LARGE (413), SG_ERR_MEDIA_TYPE (415), SG_ERR_METHOD (405), SG_ERR_BAD_LENGTH.',
      labelNames: ['webhook', 'code'],
      registers: [registry],
    }),
    configReloads: new Counter({
      name: 'sidecar_guard_config_reloads_total',
      help: 'Configuration reloads by result (applied, rejected).',
      labelNames: ['result'],
      registers: [registry],
    }),
    tlsConnections: new Counter({
      name: 'sidecar_guard_tls_connections_total',
      // The API server keeps connections to a webhook alive; a count that grows with the requests
      // means connections are not reused and every call pays a TLS handshake.
      help: 'TLS connections accepted (each one a full handshake): compare with the admission requests.',
      registers: [registry],
    }),
  };
}
