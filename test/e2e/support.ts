/**
 * What every end-to-end test file uses: the running environment (from `.e2e/state.json`),
 * kubectl against it, a fresh namespace per test, and small manifest builders.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:https';
import { toManifestYaml } from '../../src/kube/manifest-yaml.js';
import type { K8sObject } from '../charts/helm.js';
import { E2E_DIR, isUp, kubectlWith, readState, type CommandResult, type E2eState } from './harness/environment.js';
import { freePort, stopProcess } from './harness/processes.js';
import { pointAt, renderChart, startWebhook, writeConfig, type WebhookProcess } from './harness/webhook.js';

export function environment(): E2eState {
  const state = readState();
  if (!isUp(state)) throw new Error('no end-to-end environment is running: start one with npm run e2e:up (npm run test:e2e does it for you)');
  return state;
}

export function kubectl(args: readonly string[], input?: string | object | readonly object[]): CommandResult {
  const text = input === undefined || typeof input === 'string' ? input : Array.isArray(input) ? input.map((o) => `---\n${toManifestYaml(o)}`).join('') : toManifestYaml(input);
  return kubectlWith(environment(), args, text);
}

export function getJson<T = Record<string, unknown>>(args: readonly string[]): T {
  const result = kubectl([...args, '-o', 'json']);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

export const MESH = { 'istio-injection': 'enabled' } as const;

/**
 * Annotations Istio's injector writes on the pods it injects: its status (pkg/kube/inject/inject.go),
 * the metadata of its sidecar template (istio-discovery files/injection-template.yaml) and the
 * Prometheus merge (inject.go applyPrometheusMerge). Not sidecar-guard's doing.
 */
const ISTIO_INJECTED_ANNOTATIONS = new Set([
  'sidecar.istio.io/status',
  'istio.io/rev',
  'kubectl.kubernetes.io/default-container',
  'kubectl.kubernetes.io/default-logs-container',
  'prometheus.io/path',
  'prometheus.io/port',
  'prometheus.io/scrape',
]);

/** Labels Istio's sidecar template puts on the pods it injects (injection-template.yaml, metadata.labels). */
const ISTIO_INJECTED_LABELS = new Set(['security.istio.io/tlsMode', 'service.istio.io/canonical-name', 'service.istio.io/canonical-revision']);

/** A stored pod's labels less those Istio's injector added (when it injected the pod). */
export function ownLabels(metadata: { labels?: Record<string, string>; annotations?: Record<string, string> }): Record<string, string> {
  const injected = 'sidecar.istio.io/status' in (metadata.annotations ?? {});
  return Object.fromEntries(Object.entries(metadata.labels ?? {}).filter(([key]) => !(injected && ISTIO_INJECTED_LABELS.has(key))));
}

/**
 * A stored pod's annotations less what kubectl apply and (on an injected pod) Istio's injector
 * added: what the manifest and sidecar-guard put there.
 */
export function ownAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  const all = annotations ?? {};
  const injected = 'sidecar.istio.io/status' in all;
  return Object.fromEntries(Object.entries(all).filter(([key]) => key !== 'kubectl.kubernetes.io/last-applied-configuration' && !(injected && ISTIO_INJECTED_ANNOTATIONS.has(key))));
}

interface Teardown {
  teardown(fn: () => void | Promise<void>): void;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A namespace of its own for one test, deleted (without waiting) when the test ends. Returns once
 * kube-controller-manager has given it its `default` ServiceAccount, which the ServiceAccount
 * admission plugin needs before any pod can be created there.
 */
export function freshNamespace(t: Teardown, prefix: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): string {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const created = kubectl(['apply', '-f', '-'], { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } });
  if (created.code !== 0) throw new Error(`could not create namespace ${name}: ${created.stderr}`);
  for (let waited = 0; kubectl(['get', 'serviceaccount', 'default', '-n', name]).code !== 0; waited += 50) {
    if (waited > 20_000) throw new Error(`namespace ${name} got no default ServiceAccount within 20 s: is kube-controller-manager running? (.e2e/logs/kube-controller-manager.log)`);
    sleepSync(50);
  }
  t.teardown(() => {
    kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
  });
  return name;
}

export function deployment(namespace: string, name: string, podAnnotations: Record<string, string> = {}, podLabels: Record<string, string> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...podLabels }, annotations: podAnnotations },
        spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
      },
    },
  };
}

export function cronJob(namespace: string, name: string, podLabels: Record<string, string> = {}) {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace },
    spec: {
      schedule: '0 3 * * *',
      jobTemplate: {
        spec: {
          template: {
            metadata: { labels: { app: name, ...podLabels } },
            spec: { restartPolicy: 'OnFailure', containers: [{ name: 'job', image: 'registry.example/job:1.0' }] },
          },
        },
      },
    },
  };
}

export function pod(namespace: string, name: string, annotations: Record<string, string> = {}, labels: Record<string, string> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name, ...labels }, annotations },
    spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] },
  };
}

export function sidecar(namespace: string, name: string, hosts: readonly string[] = ['./*', 'istio-system/*'], selector?: Record<string, string>) {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name, namespace },
    spec: { ...(selector ? { workloadSelector: { labels: selector } } : {}), egress: [{ hosts: [...hosts] }] },
  };
}

/** The `Warning: ...` lines kubectl printed on stderr. */
export function warnings(result: CommandResult): string[] {
  return result.stderr.split('\n').filter((line) => line.startsWith('Warning: ')).map((line) => line.slice('Warning: '.length));
}

type Check<T> = () => T | undefined | false | Promise<T | undefined | false>;

export async function eventually<T>(what: string, check: Check<T>, timeoutMs = 10_000, everyMs = 100): Promise<{ value: T; elapsedMs: number }> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return { value, elapsedMs: Date.now() - started };
    if (Date.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Audit events (one JSON object per line) whose objectRef matches, in order. */
export interface AuditEvent {
  stage: string;
  verb: string;
  objectRef?: { resource?: string; namespace?: string; name?: string };
  annotations?: Record<string, string>;
  responseStatus?: { code?: number };
}

export function auditEvents(namespace: string, name: string, resource?: string): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (const line of readFileSync(environment().auditLog, 'utf8').split('\n')) {
    if (!line.includes(name)) continue;
    const event = JSON.parse(line) as AuditEvent;
    const ref = event.objectRef;
    if (ref?.namespace === namespace && ref.name === name && (resource === undefined || ref.resource === resource)) events.push(event);
  }
  return events;
}

/** GET a path of a sidecar-guard process, trusting its CA. */
export function webhookGet(url: string, caPem: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Sum of a Prometheus counter's samples whose labels include every given pair. */
export function counterSum(metricsText: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of metricsText.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Decisions counted by the shared webhook, or by `webhook` when given. The shared one also judges
 * other namespaces' late requests (a namespace deleted by an earlier test still has its Sidecars
 * deleted one by one), so exact counts need an isolated webhook.
 */
export async function decisionCount(labels: Record<string, string> = {}, webhook?: { url: string; caPem: string }): Promise<number> {
  const state = environment();
  const metrics = await webhookGet(`${webhook?.url ?? state.webhookUrl}/metrics`, webhook?.caPem ?? state.webhookCaPem);
  return counterSum(metrics.body, 'sidecar_guard_decisions_total', labels);
}

/**
 * Waits until no namespace is terminating, so the shared webhook's counters stop moving with
 * earlier tests' clean-up (the namespace controller deletes their Sidecars one by one).
 */
export async function settled(): Promise<void> {
  await eventually('no namespace left terminating by earlier tests', () => {
    const namespaces = getJson<{ items: { status?: { phase?: string } }[] }>(['get', 'namespaces']);
    return namespaces.items.some((item) => item.status?.phase === 'Terminating') ? undefined : true;
  }, 60_000, 200);
}

export interface IsolatedWebhook {
  name: string;
  url: string;
  port: number;
  caPem: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

interface Selector {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/**
 * A second sidecar-guard process with the chart's webhook configurations rendered from `values`,
 * renamed and narrowed to one namespace, so a test can stop it or change its failure policy
 * without touching the shared one. The namespace must carry `sidecar-guard.io/ignore` so the
 * shared webhook leaves it alone; the copies here drop that one expression and nothing else.
 */
export async function startIsolatedWebhook(t: Teardown, namespace: string, failurePolicy?: 'Fail' | 'Ignore'): Promise<IsolatedWebhook> {
  const state = environment();
  const id = `e2e-${randomBytes(3).toString('hex')}`;
  const policy = failurePolicy ? { failurePolicy } : {};
  const chart = renderChart(state.kubernetesVersion, { webhook: { mutating: { name: `00-${id}`, ...policy }, validating: { name: id, ...policy } } });
  const dir = join(E2E_DIR, id);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const configFile = writeConfig(dir, 'config.yaml', chart.config);
  const port = await freePort();
  const start = () =>
    startWebhook({ dir, name: id, apiserverUrl: state.apiserverUrl, apiserverCaFile: state.caCertFile, apiserverCaKeyFile: state.caKeyFile, configFile, port });
  let current: WebhookProcess | undefined = await start();
  const narrow = (configuration: K8sObject) => {
    const copy = pointAt(configuration, current?.url ?? '', current?.caPem) as K8sObject & { webhooks: { namespaceSelector: Selector }[] };
    for (const webhook of copy.webhooks) {
      const expressions = (webhook.namespaceSelector.matchExpressions ?? []).filter((e) => e.key !== 'sidecar-guard.io/ignore');
      webhook.namespaceSelector = { matchExpressions: [...expressions, { key: 'kubernetes.io/metadata.name', operator: 'In', values: [namespace] }] };
    }
    return copy;
  };
  const applied = kubectl(['apply', '-f', '-'], [narrow(chart.mutating), narrow(chart.validating)]);
  if (applied.code !== 0) throw new Error(`could not register ${id}: ${applied.stderr}`);
  const stop = async () => {
    if (current) await stopProcess(current.process.pid);
    current = undefined;
  };
  t.teardown(async () => {
    kubectl(['delete', 'mutatingwebhookconfiguration', `00-${id}`, '--ignore-not-found']);
    kubectl(['delete', 'validatingwebhookconfiguration', id, '--ignore-not-found']);
    await stop();
  });
  const caPem = current.caPem;
  return {
    name: id,
    url: current.url,
    port,
    caPem,
    stop,
    restart: async () => {
      await stop();
      current = await start();
    },
  };
}
