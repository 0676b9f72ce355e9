/**
 * The AdmissionReviews and the cluster every benchmark uses: a realistic mix of what a mesh
 * cluster's kube-apiserver sends (ReplicaSet-created pods with several containers and 20+
 * annotations, Deployments, Sidecars; allowed, patched and denied).
 */
import { controller, injectedPod, namespace, pod, review, sidecar, type Json } from '../test/support/builders.js';

/** Namespaces and Sidecars the webhook's cluster view holds during the benchmarks. */
export function benchCluster(extraNamespaces = 200): Json[] {
  const objects: Json[] = [
    namespace('istio-system'),
    namespace('shop', { 'istio-injection': 'enabled' }),
    sidecar('shop', 'default'),
    sidecar('shop', 'checkout', { selector: { app: 'checkout' }, hosts: ['./*', 'istio-system/*', 'payments/*'] }),
    namespace('payments', { 'istio.io/rev': 'stable' }),
    namespace('batch-nightly', { 'istio-injection': 'enabled' }),
    sidecar('batch-nightly', 'default'),
    namespace('legacy', { 'istio-injection': 'enabled', 'sidecar-guard.io/mode': 'audit' }),
    namespace('tools'),
  ];
  for (let i = 0; i < extraNamespaces; i++) {
    objects.push(namespace(`team-${i}`, { 'istio-injection': 'enabled' }), sidecar(`team-${i}`, 'default'));
  }
  return objects;
}

/** 24 annotations of the kinds real pods carry (Prometheus, Vault, Datadog, kubectl, Istio, …). */
function podAnnotations(app: string): Record<string, string> {
  return {
    'prometheus.io/scrape': 'true',
    'prometheus.io/port': '15020',
    'prometheus.io/path': '/stats/prometheus',
    'kubectl.kubernetes.io/default-container': app,
    'kubectl.kubernetes.io/restartedAt': '2026-11-20T08:14:11Z',
    'checksum/config': 'f3b1c2d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
    'checksum/secret': '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9',
    'vault.hashicorp.com/agent-inject': 'true',
    'vault.hashicorp.com/role': `${app}-reader`,
    'vault.hashicorp.com/agent-inject-secret-db': `database/creds/${app}`,
    'ad.datadoghq.com/tags': `{"team":"commerce","service":"${app}"}`,
    'cluster-autoscaler.kubernetes.io/safe-to-evict': 'true',
    'fluentbit.io/parser': 'json',
    'linkerd.io/inject': 'disabled',
    'seccomp.security.alpha.kubernetes.io/pod': 'runtime/default',
    'traffic.sidecar.istio.io/excludeOutboundPorts': '5432,6379',
    'proxy.istio.io/config': '{"holdApplicationUntilProxyStarts":true}',
    'sidecar.istio.io/logLevel': 'warning',
    'sidecar.istio.io/rewriteAppHTTPProbers': 'true',
    'app.kubernetes.io/managed-by': 'argocd',
    'argocd.argoproj.io/tracking-id': `shop:apps/Deployment:shop/${app}`,
    'deployment.kubernetes.io/revision': '42',
    'example.com/owner': 'team-commerce@example.com',
    'example.com/runbook': `https://runbooks.example.com/${app}`,
  };
}

function container(name: string, image: string, port: number): Json {
  return {
    name,
    image,
    imagePullPolicy: 'IfNotPresent',
    ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
      { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
    ],
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
    readinessProbe: { httpGet: { path: '/ready', port, scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/healthz', port, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    volumeMounts: [
      { name: 'config', mountPath: '/etc/app', readOnly: true },
      { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
}

/** A pod as the ReplicaSet controller creates it: generateName, ownerReferences, managedFields, 3 containers. */
export function meshPod(app: string, ns: string, extra: { annotations?: Record<string, string>; labels?: Record<string, string> } = {}): Json {
  const base = pod({
    generateName: `${app}-7d9c6b5f4-`,
    namespace: ns,
    labels: { app, 'app.kubernetes.io/name': app, 'app.kubernetes.io/version': '3.14.2', 'pod-template-hash': '7d9c6b5f4', version: 'v3', ...extra.labels },
    annotations: { ...podAnnotations(app), ...extra.annotations },
    containers: [container(app, `registry.example/${app}:3.14.2`, 8080), container('metrics-exporter', 'registry.example/exporter:1.2', 9100), container('log-shipper', 'registry.example/shipper:0.9', 2020)],
    initContainers: [{ name: 'migrate', image: `registry.example/${app}-migrate:3.14.2`, command: ['/migrate', '--up'] }],
  });
  const metadata = base.metadata as Json;
  metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-7d9c6b5f4`, uid: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b', controller: true, blockOwnerDeletion: true }];
  metadata.creationTimestamp = null;
  metadata.managedFields = [
    { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: '2026-11-23T12:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:annotations': {}, 'f:generateName': {}, 'f:labels': {}, 'f:ownerReferences': {} }, 'f:spec': { 'f:containers': {}, 'f:volumes': {} } } },
  ];
  const spec = base.spec as Json;
  Object.assign(spec, {
    serviceAccountName: app,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    securityContext: { fsGroup: 2000, seccompProfile: { type: 'RuntimeDefault' } },
    tolerations: [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
    volumes: [
      { name: 'config', configMap: { name: `${app}-config`, defaultMode: 420 } },
      { name: 'kube-api-access-x7k2p', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] } },
    ],
  });
  return base;
}

export type Webhook = 'validate' | 'mutate';

export interface BenchReview {
  /** What it exercises, for the report. */
  readonly label: string;
  readonly webhook: Webhook;
  readonly body: Json;
  /** The verdict the real webhook must give (checked once before timing). */
  readonly expect: 'allowed' | 'patched' | 'denied' | 'audit_violation';
  /** How many times it appears in the mix. */
  readonly weight: number;
}

const MUTATED = {
  'sidecar-guard.io/applied-profile': 'medium',
  'sidecar.istio.io/proxyCPU': '100m',
  'sidecar.istio.io/proxyCPULimit': '1000m',
  'sidecar.istio.io/proxyMemory': '128Mi',
  'sidecar.istio.io/proxyMemoryLimit': '256Mi',
};

/**
 * The mix, weighted like a busy mesh cluster: pod creations dominate (each pod goes through
 * both webhooks), controllers and Sidecars are rarer, a share is denied or audited.
 */
export function benchReviews(): BenchReview[] {
  const web = meshPod('web', 'shop');
  const checkout = meshPod('checkout', 'shop');
  const injected = injectedPod({ generateName: 'cart-5f6d7c8b9-', namespace: 'shop', labels: { app: 'cart' }, annotations: podAnnotations('cart') });
  const already = meshPod('web', 'shop', { annotations: MUTATED });
  const ledger = meshPod('ledger', 'payments');
  const nightly = meshPod('report', 'batch-nightly');
  const legacy = meshPod('old', 'legacy');
  const tool = meshPod('debug', 'tools');
  const deployment = controller('Deployment', 'web', meshPod('web', 'shop'), 'shop');
  const deniedDeployment = controller('Deployment', 'ledger', meshPod('ledger', 'payments'), 'payments');
  const cron = controller('CronJob', 'report', meshPod('report', 'batch-nightly'), 'batch-nightly');
  return [
    { label: 'mutate: mesh pod from ReplicaSet (patched)', webhook: 'mutate', body: review(web, { namespace: 'shop' }), expect: 'patched', weight: 6 },
    { label: 'mutate: pod with selector Sidecar (patched)', webhook: 'mutate', body: review(checkout, { namespace: 'shop' }), expect: 'patched', weight: 2 },
    { label: 'mutate: injected pod, istio-proxy resized (patched)', webhook: 'mutate', body: review(injected, { namespace: 'shop' }), expect: 'patched', weight: 2 },
    { label: 'mutate: already mutated (no patch)', webhook: 'mutate', body: review(already, { namespace: 'shop' }), expect: 'allowed', weight: 2 },
    { label: 'mutate: small profile by rule (patched)', webhook: 'mutate', body: review(nightly, { namespace: 'batch-nightly' }), expect: 'patched', weight: 1 },
    { label: 'mutate: not in mesh', webhook: 'mutate', body: review(tool, { namespace: 'tools' }), expect: 'allowed', weight: 1 },
    { label: 'validate: mesh pod, scoped', webhook: 'validate', body: review(already, { namespace: 'shop' }), expect: 'allowed', weight: 8 },
    { label: 'validate: mesh pod, no Sidecar (denied)', webhook: 'validate', body: review(ledger, { namespace: 'payments' }), expect: 'denied', weight: 2 },
    { label: 'validate: audit-mode namespace', webhook: 'validate', body: review(legacy, { namespace: 'legacy' }), expect: 'audit_violation', weight: 1 },
    { label: 'validate: not in mesh', webhook: 'validate', body: review(tool, { namespace: 'tools' }), expect: 'allowed', weight: 1 },
    { label: 'validate: Deployment, scoped', webhook: 'validate', body: review(deployment, { namespace: 'shop' }), expect: 'allowed', weight: 2 },
    { label: 'validate: Deployment, no Sidecar (denied)', webhook: 'validate', body: review(deniedDeployment, { namespace: 'payments' }), expect: 'denied', weight: 1 },
    { label: 'validate: CronJob, scoped', webhook: 'validate', body: review(cron, { namespace: 'batch-nightly' }), expect: 'allowed', weight: 1 },
    { label: 'validate: Sidecar create, scoped', webhook: 'validate', body: review(sidecar('team-1', 'extra', { selector: { app: 'x' } }), { namespace: 'team-1' }), expect: 'allowed', weight: 1 },
    { label: 'validate: Sidecar create, */* (denied)', webhook: 'validate', body: review(sidecar('team-2', 'wide', { hosts: ['*/*'], selector: { app: 'y' } }), { namespace: 'team-2' }), expect: 'denied', weight: 1 },
  ];
}

/** The mix expanded by weight and interleaved, so every window of the run sees every kind. */
export function weightedMix(reviews: readonly BenchReview[] = benchReviews()): BenchReview[] {
  const out: BenchReview[] = [];
  const max = Math.max(...reviews.map((r) => r.weight));
  for (let round = 0; round < max; round++) for (const r of reviews) if (r.weight > round) out.push(r);
  return out;
}

export const BENCH_NOW = new Date('2026-11-23T12:00:00Z');
