/**
 * Properties of the mutating webhook's patch and of both verdicts, over generated pods,
 * controllers and namespaces (fixed seed, bounded runs; FUZZ_RUNS / FUZZ_SEED for more):
 * - every patch applies cleanly with an independent JSON Patch library (fast-json-patch, strict);
 * - it changes only the proxy annotations and the `istio-proxy` container's resources;
 * - mutating the patched pod again gives no second patch;
 * - the validate and mutate answers never depend on the order of keys in the object.
 */
import fc from 'fast-check';
import t from 'tap';
import { applyJsonPatch, decodePatch } from '../support/apply-patch.js';
import { controller, namespace, pod, review, sidecar, type Json } from '../support/builders.js';
import { annotationKey, annotationValue, canonical, contractViolation, fuzzApp, fuzzParameters, oddString, post, shuffleKeys } from './fuzz-support.js';

const NAMESPACES: Json[] = [
  namespace('shop', { 'istio-injection': 'enabled' }),
  namespace('payments', { 'istio.io/rev': 'stable' }),
  namespace('batch-nightly', { 'istio-injection': 'enabled' }),
  namespace('legacy', { 'istio-injection': 'enabled', 'sidecar-guard.io/mode': 'audit' }),
  namespace('exempt', { 'istio-injection': 'enabled' }, { 'sidecar-guard.io/exempt': 'all', 'sidecar-guard.io/exempt-reason': 'INFRA-1', 'sidecar-guard.io/exempt-until': '2026-12-01' }),
  namespace('big', { 'istio-injection': 'enabled' }, { 'sidecar-guard.io/profile': 'large' }),
  namespace('plain'),
];
const CLUSTER: Json[] = [
  ...NAMESPACES,
  sidecar('shop', 'default'),
  sidecar('shop', 'wide', { selector: { app: 'wide' }, hosts: ['*/*'] }),
  sidecar('batch-nightly', 'default'),
  sidecar('big', 'default'),
];
const app = fuzzApp(CLUSTER);
t.teardown(() => app.close());

const PROXY_ANNOTATIONS = new Set([
  'sidecar.istio.io/proxyCPU',
  'sidecar.istio.io/proxyCPULimit',
  'sidecar.istio.io/proxyMemory',
  'sidecar.istio.io/proxyMemoryLimit',
  'sidecar-guard.io/applied-profile',
]);

const quantity = fc.oneof(
  fc.constantFrom('10m', '100m', '250m', '1', '2', '4000m', '64Mi', '128Mi', '256Mi', '1Gi', '2Gi', '512M', '1e9', '0.5'),
  fc.constantFrom('lots', '-1', '', '1.2.3'),
  fc.integer({ min: 0, max: 8 }),
);
const resources = fc.record(
  { requests: fc.record({ cpu: quantity, memory: quantity }, { requiredKeys: [] }), limits: fc.record({ cpu: quantity, memory: quantity }, { requiredKeys: [] }) },
  { requiredKeys: [] },
);
const container = fc.record(
  { name: fc.constantFrom('app', 'istio-proxy', 'sidecar', 'istio-proxy', 'istio-init'), image: fc.constant('img'), resources, restartPolicy: fc.constant('Always') },
  { requiredKeys: ['name', 'image'] },
);
const annotations = fc.dictionary(
  fc.oneof({ weight: 3, arbitrary: annotationKey }, { weight: 1, arbitrary: fc.constantFrom('sidecar.istio.io/status', 'inject.istio.io/templates') }),
  fc.oneof(annotationValue, fc.constantFrom('{"containers":["istio-proxy"]}', 'gateway')),
  { maxKeys: 8 },
);
const labels = fc.dictionary(fc.oneof(fc.constantFrom('app', 'sidecar.istio.io/inject', 'istio.io/rev', 'istio', 'istio.io/dataplane-mode'), oddString), fc.constantFrom('web', 'wide', 'true', 'false', 'stable', 'ingressgateway', 'ambient'), { maxKeys: 4 });

/** A pod (or controller around one) with everything that steers the decision drawn at random. */
const workload = fc
  .record({
    kind: fc.constantFrom('Pod', 'Pod', 'Pod', 'Deployment', 'StatefulSet', 'CronJob', 'Job'),
    ns: fc.constantFrom('shop', 'payments', 'batch-nightly', 'legacy', 'exempt', 'big', 'plain', 'kube-system', 'unknown'),
    labels,
    annotations: fc.option(annotations, { nil: undefined }),
    containers: fc.array(container, { minLength: 1, maxLength: 3 }),
    initContainers: fc.option(fc.array(container, { maxLength: 2 }), { nil: undefined }),
    hostNetwork: fc.boolean(),
    generateName: fc.boolean(),
    noMetadata: fc.boolean(),
  })
  .map((w) => {
    const object = pod({
      ...(w.generateName ? { generateName: 'web-' } : { name: 'web' }),
      labels: w.labels,
      ...(w.annotations ? { annotations: w.annotations } : {}),
      containers: w.containers,
      ...(w.initContainers ? { initContainers: w.initContainers } : {}),
      hostNetwork: w.hostNetwork,
    });
    // A pod template without metadata at all: the patch must create it.
    if (w.noMetadata && w.kind !== 'Pod') delete object.metadata;
    const full = w.kind === 'Pod' ? object : controller(w.kind, 'web', object, w.ns);
    return { kind: w.kind, ns: w.ns, object: full };
  });

interface ReviewAnswer {
  statusCode: number;
  body: string;
  response?: { uid: string; allowed: boolean; patch?: string; patchType?: string; status?: unknown; warnings?: string[]; auditAnnotations?: Record<string, string> };
}

async function ask(url: '/validate' | '/mutate', object: Json, ns: string, uid = 'fuzz-uid'): Promise<ReviewAnswer> {
  const res = await post(app, url, JSON.stringify(review(object, { namespace: ns, uid })));
  const answer: ReviewAnswer = { statusCode: res.statusCode, body: res.body };
  if (res.statusCode === 200) answer.response = (JSON.parse(res.body) as { response: ReviewAnswer['response'] }).response;
  return answer;
}

/** The object with everything the webhook may change taken out: what must stay identical. */
function withoutMutablePaths(object: unknown, templatePath: readonly string[]): unknown {
  const copy = structuredClone(object) as Json;
  let template: Json | undefined = copy;
  for (const segment of templatePath) template = (template?.[segment] as Json | undefined) ?? undefined;
  if (!template) return copy;
  const metadata = template.metadata as Json | undefined;
  if (metadata && typeof metadata.annotations === 'object' && metadata.annotations !== null) {
    for (const key of PROXY_ANNOTATIONS) delete (metadata.annotations as Json)[key];
    if (Object.keys(metadata.annotations as Json).length === 0) delete metadata.annotations;
  }
  if (metadata && Object.keys(metadata).length === 0) delete template.metadata;
  const spec = template.spec as Json | undefined;
  for (const list of ['containers', 'initContainers']) {
    const entries = spec?.[list];
    if (!Array.isArray(entries)) continue;
    for (const entry of entries as Json[]) {
      // istio-proxy anywhere; istio-init (an injected pod's, which Istio sized like the proxy) only as an init container.
      const resizable = entry?.name === 'istio-proxy' || (entry?.name === 'istio-init' && list === 'initContainers');
      if (!resizable || typeof entry.resources !== 'object' || entry.resources === null) continue;
      const res = entry.resources as Json;
      for (const section of ['requests', 'limits']) {
        const values = res[section] as Json | undefined;
        if (!values || typeof values !== 'object') continue;
        delete values.cpu;
        delete values.memory;
        if (Object.keys(values).length === 0) delete res[section];
      }
      if (Object.keys(res).length === 0) delete entry.resources;
    }
  }
  return copy;
}

const TEMPLATE_PATH: Record<string, string[]> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

const ALLOWED_PATH = /^\/metadata(\/annotations(\/(sidecar\.istio\.io~1proxy(CPU|CPULimit|Memory|MemoryLimit)|sidecar-guard\.io~1applied-profile))?)?$|^\/spec\/(containers|initContainers)\/\d+\/resources(\/(requests|limits)(\/(cpu|memory))?)?$/;

t.test('every patch applies cleanly, touches only proxy annotations and istio-proxy (and injected istio-init) resources, and is idempotent', async (t) => {
  let patched = 0;
  await fc.assert(
    fc.asyncProperty(workload, async ({ kind, ns, object }) => {
      const first = await ask('/mutate', object, ns);
      const problem = contractViolation(first, 'fuzz-uid');
      if (problem) throw new Error(problem);
      const response = first.response;
      if (!response?.patch) return true;
      patched++;
      const ops = decodePatch(response.patch);
      const base = (TEMPLATE_PATH[kind] ?? []).map((s) => `/${s}`).join('');
      for (const op of ops) {
        if (op.op !== 'add' && op.op !== 'replace') throw new Error(`op ${op.op as string}`);
        if (!op.path.startsWith(base) || !ALLOWED_PATH.test(op.path.slice(base.length))) throw new Error(`patch touches ${op.path}`);
      }
      const after = applyJsonPatch(object, ops);
      const before = withoutMutablePaths(object, TEMPLATE_PATH[kind] ?? []);
      const rest = withoutMutablePaths(after, TEMPLATE_PATH[kind] ?? []);
      if (JSON.stringify(canonical(before)) !== JSON.stringify(canonical(rest))) throw new Error('the patch changed something besides the proxy annotations and istio-proxy/istio-init resources');
      // Nothing is dropped or rewritten: every annotation the pod had keeps its value unless it is a proxy key.
      const oldAnnotations = (object as { metadata?: { annotations?: Record<string, unknown> } }).metadata?.annotations ?? {};
      const newAnnotations = (after as { metadata?: { annotations?: Record<string, unknown> } }).metadata?.annotations ?? {};
      for (const [key, value] of Object.entries(oldAnnotations)) {
        if (!PROXY_ANNOTATIONS.has(key) && newAnnotations[key] !== value) throw new Error(`annotation ${key} changed`);
      }
      const second = await ask('/mutate', after, ns);
      if (second.statusCode !== 200 || !second.response) throw new Error(`second mutate: HTTP ${second.statusCode}`);
      if (second.response.patch !== undefined) throw new Error(`second patch: ${Buffer.from(second.response.patch, 'base64').toString('utf8')}`);
      if (!second.response.allowed) throw new Error('the mutated pod is denied on the second pass');
      return true;
    }),
    fuzzParameters(2),
  );
  t.ok(patched > 0, `some generated pods were patched (${patched})`);
});

t.test('validate and mutate verdicts do not depend on key order', async (t) => {
  await fc.assert(
    fc.asyncProperty(workload, fc.integer({ min: 1, max: 2 ** 31 - 1 }), async ({ ns, object }, seed) => {
      let state = seed;
      const random = () => {
        state = (state * 1103515245 + 12345) % 2 ** 31;
        return state / 2 ** 31;
      };
      const shuffled = shuffleKeys(object, random) as Json;
      for (const url of ['/validate', '/mutate'] as const) {
        const a = await ask(url, object, ns);
        const b = await ask(url, shuffled, ns);
        if (a.statusCode !== b.statusCode) throw new Error(`${url}: HTTP ${a.statusCode} vs ${b.statusCode}`);
        if (!a.response || !b.response) continue;
        const view = (r: NonNullable<ReviewAnswer['response']>) =>
          JSON.stringify(canonical({ ...r, patch: r.patch ? decodePatch(r.patch) : undefined }));
        if (view(a.response) !== view(b.response)) throw new Error(`${url}: answers differ\n${view(a.response)}\n${view(b.response)}`);
      }
      return true;
    }),
    fuzzParameters(),
  );
  t.pass('key order never changed an answer');
});
