/** Builders for the Kubernetes objects and AdmissionReviews the tests send. */
import { randomUUID } from 'node:crypto';
import { toNamespaceFacts, toPodFacts, toSidecarFacts } from '../../src/cluster/objects.js';
import type { AdmissionInput, Operation } from '../../src/policy/request.js';
import type { ClusterFacts, NamespaceFacts, PodFacts, SidecarFacts } from '../../src/policy/types.js';

export type Json = Record<string, unknown>;

export interface PodOptions {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers?: Json[];
  initContainers?: Json[];
  hostNetwork?: boolean;
}

export function pod(options: PodOptions = {}): Json {
  const metadata: Json = {};
  if (options.name !== undefined) metadata.name = options.name;
  if (options.generateName !== undefined) metadata.generateName = options.generateName;
  if (options.namespace !== undefined) metadata.namespace = options.namespace;
  if (options.labels) metadata.labels = options.labels;
  if (options.annotations) metadata.annotations = options.annotations;
  const spec: Json = { containers: options.containers ?? [{ name: 'app', image: 'registry.example/app:1.0' }] };
  if (options.initContainers) spec.initContainers = options.initContainers;
  if (options.hostNetwork) spec.hostNetwork = true;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/** The pod Istio's sidecar injector leaves behind (istio-proxy with the chart's default resources). */
export function injectedPod(options: PodOptions & { native?: boolean } = {}): Json {
  // Istio's defaults (global.proxy.resources), which its template gives istio-init too.
  const defaults = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '2', memory: '1Gi' } };
  const init = { name: 'istio-init', image: 'docker.io/istio/proxyv2:1.30.0', resources: defaults };
  const proxy = {
    name: 'istio-proxy',
    image: 'docker.io/istio/proxyv2:1.30.0',
    resources: defaults,
    ...(options.native ? { restartPolicy: 'Always' } : {}),
  };
  const app = { name: 'app', image: 'registry.example/app:1.0' };
  return pod({
    ...options,
    annotations: { 'sidecar.istio.io/status': '{"containers":["istio-proxy"]}', ...options.annotations },
    containers: options.native ? [app] : [app, proxy],
    initContainers: options.native ? [init, proxy] : [init],
  });
}

const CONTROLLERS: Record<string, { apiVersion: string; wrap: (template: Json) => Json }> = {
  Deployment: { apiVersion: 'apps/v1', wrap: (template) => ({ replicas: 2, selector: { matchLabels: {} }, template }) },
  StatefulSet: { apiVersion: 'apps/v1', wrap: (template) => ({ serviceName: 'db', selector: { matchLabels: {} }, template }) },
  DaemonSet: { apiVersion: 'apps/v1', wrap: (template) => ({ selector: { matchLabels: {} }, template }) },
  ReplicaSet: { apiVersion: 'apps/v1', wrap: (template) => ({ selector: { matchLabels: {} }, template }) },
  Job: { apiVersion: 'batch/v1', wrap: (template) => ({ template }) },
  CronJob: { apiVersion: 'batch/v1', wrap: (template) => ({ schedule: '*/5 * * * *', jobTemplate: { spec: { template } } }) },
};
export const CONTROLLER_KINDS = Object.keys(CONTROLLERS);

/** A workload controller whose pod template is `template` (a pod from `pod()`). */
export function controller(kind: string, name: string, template: Json, namespace?: string): Json {
  const entry = CONTROLLERS[kind];
  if (!entry) throw new Error(`unknown controller ${kind}`);
  const { metadata, spec } = template as { metadata: Json; spec: Json };
  return {
    apiVersion: entry.apiVersion,
    kind,
    metadata: { name, ...(namespace ? { namespace } : {}) },
    spec: entry.wrap({ metadata, spec }),
  };
}

export function namespace(name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Json {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, annotations } };
}

export interface SidecarOptions {
  hosts?: string[];
  selector?: Record<string, string>;
  created?: string;
  egress?: boolean;
  apiVersion?: string;
}

export function sidecar(ns: string, name: string, options: SidecarOptions = {}): Json {
  const spec: Json = {};
  if (options.egress !== false) spec.egress = [{ hosts: options.hosts ?? ['./*', 'istio-system/*'] }];
  else spec.ingress = [{ port: { number: 9080, protocol: 'HTTP', name: 'http' }, defaultEndpoint: '127.0.0.1:8080' }];
  if (options.selector) spec.workloadSelector = { labels: options.selector };
  return {
    apiVersion: options.apiVersion ?? 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name, namespace: ns, creationTimestamp: options.created ?? '2026-01-01T00:00:00Z' },
    spec,
  };
}

/** Facts as a cluster view would hand them to the policy. */
export function facts(options: { namespace?: Json; sidecars?: Json[]; rootSidecars?: Json[]; pods?: Json[]; synced?: boolean } = {}): ClusterFacts {
  const ns = options.namespace ? toNamespaceFacts(options.namespace) : undefined;
  const toFacts = (list: Json[] = []) => list.map((s) => toSidecarFacts(s)).filter((s): s is SidecarFacts => s !== undefined);
  const pods = (options.pods ?? []).map((p) => toPodFacts(p, 'shop')).filter((p): p is PodFacts => p !== undefined);
  return {
    synced: options.synced ?? true,
    ...(ns ? { namespace: ns as NamespaceFacts } : {}),
    sidecars: toFacts(options.sidecars),
    rootSidecars: toFacts(options.rootSidecars),
    ...(options.pods ? { optedInPods: pods } : {}),
  };
}

const GROUP_OF: Record<string, { group: string; version: string; resource: string }> = {
  Pod: { group: '', version: 'v1', resource: 'pods' },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments' },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets' },
  Job: { group: 'batch', version: 'v1', resource: 'jobs' },
  CronJob: { group: 'batch', version: 'v1', resource: 'cronjobs' },
  Sidecar: { group: 'networking.istio.io', version: 'v1', resource: 'sidecars' },
  Service: { group: '', version: 'v1', resource: 'services' },
};

export interface ReviewOptions {
  operation?: Operation;
  namespace?: string;
  name?: string;
  oldObject?: Json | null;
  subResource?: string;
  dryRun?: boolean;
  uid?: string;
  kind?: string;
}

/** A real admission.k8s.io/v1 AdmissionReview request body, as the kube-apiserver sends it. */
export function review(object: Json | null, options: ReviewOptions = {}): Json {
  const kind = options.kind ?? (object?.kind as string | undefined) ?? (options.oldObject?.kind as string);
  const gvr = GROUP_OF[kind];
  if (!gvr) throw new Error(`no GVR for ${kind}`);
  const operation = options.operation ?? 'CREATE';
  const metadata = (object?.metadata ?? options.oldObject?.metadata ?? {}) as Json;
  const name = options.name ?? (typeof metadata.name === 'string' ? metadata.name : '');
  const request: Json = {
    uid: options.uid ?? randomUUID(),
    kind: { group: gvr.group, version: gvr.version, kind },
    resource: { group: gvr.group, version: gvr.version, resource: gvr.resource },
    requestKind: { group: gvr.group, version: gvr.version, kind },
    requestResource: { group: gvr.group, version: gvr.version, resource: gvr.resource },
    ...(name ? { name } : {}),
    namespace: options.namespace ?? 'shop',
    operation,
    userInfo: { username: 'alice@example.com', groups: ['system:authenticated'] },
    object: operation === 'DELETE' ? null : object,
    oldObject: options.oldObject ?? null,
    dryRun: options.dryRun ?? false,
    options: operation === 'DELETE' ? { kind: 'DeleteOptions', apiVersion: 'meta.k8s.io/v1' } : { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
  };
  if (options.subResource) request.subResource = options.subResource;
  return { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1', request };
}

/** The decoded request the policy reads, built the same way. */
export function input(object: Json | null, options: ReviewOptions = {}): AdmissionInput {
  const request = review(object, options).request as Json;
  return {
    uid: request.uid as string,
    operation: request.operation as Operation,
    kind: request.kind as AdmissionInput['kind'],
    resource: request.resource as AdmissionInput['resource'],
    ...(options.subResource ? { subResource: options.subResource } : {}),
    namespace: request.namespace as string,
    name: (request.name as string | undefined) ?? '',
    object: request.object,
    oldObject: request.oldObject,
    dryRun: request.dryRun as boolean,
  };
}

export const MESH_NS = namespace('shop', { 'istio-injection': 'enabled' });
export const SCOPING = sidecar('shop', 'default');
export const NOW = new Date('2026-11-23T12:00:00Z');
