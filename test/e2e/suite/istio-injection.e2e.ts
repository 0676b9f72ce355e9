/**
 * Istio's own injector (istio.io/istio pkg/kube/inject, the release pinned in
 * test/e2e/injector/go.mod) and sidecar-guard in one real admission chain: which pods each covers,
 * and what the stored istio-proxy (and istio-init) end up with, in classic and native sidecars,
 * in either webhook order.
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../../src/config/load-config.js';
import type { Profile } from '../../../src/config/types.js';
import { compareQuantities } from '../../../src/policy/quantity.js';
import { INJECTOR_PROCESS, NATIVE_SIDECARS_FLAG, waitForInjector } from '../harness/istio-injector.js';
import { restartProcess } from '../harness/environment.js';
import { environment, eventually, freshNamespace, getJson, kubectl, pod, sidecar } from '../support.js';

interface Container {
  name: string;
  restartPolicy?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

interface StoredPod {
  metadata: { annotations?: Record<string, string> };
  spec: { containers: Container[]; initContainers?: Container[] };
}

const APPLIED_PROFILE = 'sidecar-guard.io/applied-profile';
const config = parseConfig(readFileSync(environment().configFile, 'utf8'));
const profile = (name: string): Profile => {
  const found = config.profiles[name];
  if (!found) throw new Error(`the chart config has no profile ${name}`);
  return found;
};

type Resources = NonNullable<Container['resources']>;

/**
 * The same requests and limits, compared as quantities: the API server stores its canonical form
 * ("1000m" becomes "1"). Returns `actual` when equal and `expected` otherwise, for t.same's diff.
 */
function asStored(actual: Resources | undefined, expected: Resources): Resources | undefined {
  const keys = (r: Resources | undefined) => JSON.stringify(Object.entries(r ?? {}).map(([section, values]) => [section, Object.keys(values ?? {}).sort()]).sort());
  if (keys(actual) !== keys(expected)) return actual;
  for (const section of ['requests', 'limits'] as const) {
    for (const [resource, value] of Object.entries(expected[section] ?? {})) {
      const stored = actual?.[section]?.[resource];
      if (stored === undefined || compareQuantities(stored, value) !== 0) return actual;
    }
  }
  return expected;
}

/** The resources a container must hold for a profile, as Istio's template writes them. */
function expectedResources(p: Profile) {
  return { requests: { cpu: p.cpu, memory: p.memory }, limits: { cpu: p.cpuLimit, memory: p.memoryLimit } };
}

function proxyOf(stored: StoredPod): { container: Container; list: 'containers' | 'initContainers' } | undefined {
  const init = stored.spec.initContainers?.find((c) => c.name === 'istio-proxy');
  if (init) return { container: init, list: 'initContainers' };
  const main = stored.spec.containers.find((c) => c.name === 'istio-proxy');
  return main ? { container: main, list: 'containers' } : undefined;
}

/** kubectl apply, retried while the webhook's view has not yet seen a Sidecar created just before. */
async function applied(manifest: object): Promise<ReturnType<typeof kubectl>> {
  let result = kubectl(['apply', '-f', '-'], manifest);
  for (let i = 0; i < 30 && result.code !== 0 && /no Sidecar/.test(result.stderr); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    result = kubectl(['apply', '-f', '-'], manifest);
  }
  return result;
}

/** Namespace labels × pod labels/annotations, and whether Istio's injector (revision "default") injects. */
const CASES: readonly { name: string; ns: Record<string, string>; labels?: Record<string, string>; annotations?: Record<string, string>; injected: boolean; sized?: boolean }[] = [
  { name: 'namespace istio-injection=enabled', ns: { 'istio-injection': 'enabled' }, injected: true },
  { name: 'namespace istio-injection=enabled, pod label inject=false', ns: { 'istio-injection': 'enabled' }, labels: { 'sidecar.istio.io/inject': 'false' }, injected: false },
  { name: 'namespace istio-injection=enabled, pod annotation inject=false', ns: { 'istio-injection': 'enabled' }, annotations: { 'sidecar.istio.io/inject': 'false' }, injected: false },
  { name: 'namespace istio-injection=enabled, pod label inject=yes and annotation inject=false', ns: { 'istio-injection': 'enabled' }, labels: { 'sidecar.istio.io/inject': 'yes' }, annotations: { 'sidecar.istio.io/inject': 'false' }, injected: true },
  { name: 'namespace istio-injection=disabled', ns: { 'istio-injection': 'disabled' }, injected: false },
  { name: 'namespace istio-injection=disabled, pod label inject=true', ns: { 'istio-injection': 'disabled' }, labels: { 'sidecar.istio.io/inject': 'true' }, injected: false },
  { name: 'namespace istio.io/rev=default (the default tag)', ns: { 'istio.io/rev': 'default' }, injected: true },
  { name: 'namespace istio-injection=enabled and istio.io/rev=default', ns: { 'istio-injection': 'enabled', 'istio.io/rev': 'default' }, injected: true },
  // Another revision's injector (not running here) would inject these: sidecar-guard covers every revision.
  { name: 'namespace istio.io/rev=canary', ns: { 'istio.io/rev': 'canary' }, injected: false, sized: true },
  { name: 'unlabelled namespace, pod label istio.io/rev=canary', ns: {}, labels: { 'istio.io/rev': 'canary' }, injected: false, sized: true },
  { name: 'unlabelled namespace', ns: {}, injected: false },
  { name: 'unlabelled namespace, pod label inject=true', ns: {}, labels: { 'sidecar.istio.io/inject': 'true' }, injected: true },
  { name: 'unlabelled namespace, pod annotation inject=true only', ns: {}, annotations: { 'sidecar.istio.io/inject': 'true' }, injected: false },
  { name: 'unlabelled namespace, pod label istio.io/rev=default', ns: {}, labels: { 'istio.io/rev': 'default' }, injected: true },
  { name: 'unlabelled namespace, pod labels istio.io/rev=default and inject=false', ns: {}, labels: { 'istio.io/rev': 'default', 'sidecar.istio.io/inject': 'false' }, injected: false },
];

async function checkCoverage(t: Test, style: 'containers' | 'initContainers'): Promise<void> {
  const medium = profile(config.defaultProfile);
  for (const c of CASES) {
    const ns = freshNamespace(t, 'inject', c.ns);
    t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
    const created = await applied(pod(ns, 'p', c.annotations, c.labels));
    t.equal(created.code, 0, `${c.name}: the pod is created: ${created.stderr}`);
    const stored = getJson<StoredPod>(['get', 'pod', 'p', '-n', ns]);
    const proxy = proxyOf(stored);
    const sized = stored.metadata.annotations?.[APPLIED_PROFILE] !== undefined;
    t.equal(proxy !== undefined, c.injected, `${c.name}: Istio ${c.injected ? 'injects' : 'does not inject'}`);
    t.equal(sized, c.sized ?? c.injected, `${c.name}: sidecar-guard sizes ${c.sized === undefined ? 'exactly the pods Istio injects' : 'it for the revision that would inject it'}`);
    if (!proxy) continue;
    t.equal(proxy.list, style, `${c.name}: istio-proxy is in ${style}`);
    if (style === 'initContainers') t.equal(proxy.container.restartPolicy, 'Always', `${c.name}: a native sidecar restarts always`);
    t.same(asStored(proxy.container.resources, expectedResources(medium)), expectedResources(medium), `${c.name}: istio-proxy has exactly the ${config.defaultProfile} profile's requests and limits`);
    const init = stored.spec.initContainers?.find((x) => x.name === 'istio-init');
    if (init) t.same(asStored(init.resources, expectedResources(medium)), expectedResources(medium), `${c.name}: istio-init carries the same resources`);
  }
}

async function withInjector(nativeSidecars: boolean): Promise<void> {
  const started = await restartProcess(INJECTOR_PROCESS, {
    args: (current) => [...current.filter((a) => a !== NATIVE_SIDECARS_FLAG), ...(nativeSidecars ? [NATIVE_SIDECARS_FLAG] : [])],
  });
  const istio = environment().istio;
  if (!istio) throw new Error('the environment has no Istio injector');
  await waitForInjector(istio.url, istio.caPem, started.log);
}

t.test('classic sidecars: sidecar-guard sizes exactly the pods Istio injects, and the stored proxy has the profile', async (t) => {
  await withInjector(false);
  await checkCoverage(t, 'containers');
});

t.test('native sidecars (ENABLE_NATIVE_SIDECARS=true): the same coverage, istio-proxy in initContainers with the profile', async (t) => {
  await withInjector(true);
  t.teardown(() => withInjector(environment().istio?.nativeSidecars ?? false));
  await checkCoverage(t, 'initContainers');
});

interface WebhookConfiguration {
  metadata: { name: string; [key: string]: unknown };
  webhooks: unknown[];
}

/** sidecar-guard's MutatingWebhookConfiguration registered under another name (the old one removed). */
function renameMutating(from: string, to: string): void {
  const current = getJson<WebhookConfiguration>(['get', 'mutatingwebhookconfiguration', from]);
  const renamed = { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: to, labels: current.metadata.labels }, webhooks: current.webhooks };
  const created = kubectl(['create', '-f', '-'], renamed);
  if (created.code !== 0) throw new Error(`registering ${to}: ${created.stderr}`);
  const deleted = kubectl(['delete', 'mutatingwebhookconfiguration', from]);
  if (deleted.code !== 0) throw new Error(`removing ${from}: ${deleted.stderr}`);
}

t.test("either webhook order: sidecar-guard before Istio's injector (the chart's name) or after it, the stored proxy is right", async (t) => {
  await withInjector(false);
  const names = getJson<{ items: WebhookConfiguration[] }>(['get', 'mutatingwebhookconfigurations']).items.map((c) => c.metadata.name);
  const ours = names.find((n) => n.includes('sidecar-guard'));
  if (!ours) throw new Error(`no sidecar-guard MutatingWebhookConfiguration among ${names.join(', ')}`);
  t.ok(ours < 'istio-sidecar-injector', `the chart's name ${ours} sorts before Istio's, so the API server calls sidecar-guard first`);
  const medium = profile(config.defaultProfile);
  const own = { 'sidecar.istio.io/proxyMemory': '96Mi' };
  const expected = { requests: { cpu: medium.cpu, memory: '96Mi' }, limits: { cpu: medium.cpuLimit, memory: medium.memoryLimit } };

  const check = async (order: string) => {
    const ns = freshNamespace(t, 'order', { 'istio-injection': 'enabled' });
    t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
    for (const [name, annotations] of [['plain', {}], ['own-value', own]] as const) {
      const created = await applied(pod(ns, name, annotations));
      t.equal(created.code, 0, `${order}, ${name}: created: ${created.stderr}`);
      const stored = getJson<StoredPod>(['get', 'pod', name, '-n', ns]);
      const proxies = stored.spec.containers.filter((c) => c.name === 'istio-proxy');
      t.equal(proxies.length, 1, `${order}, ${name}: one istio-proxy`);
      const want = name === 'plain' ? expectedResources(medium) : expected;
      t.same(asStored(proxies[0]?.resources, want), want, `${order}, ${name}: istio-proxy has the profile, the pod's own value kept`);
      const init = stored.spec.initContainers?.find((c) => c.name === 'istio-init');
      t.ok(init, `${order}, ${name}: Istio added istio-init`);
      t.same(asStored(init?.resources, want), want, `${order}, ${name}: istio-init carries the same resources`);
      const annotations_ = stored.metadata.annotations ?? {};
      t.equal(annotations_[APPLIED_PROFILE], config.defaultProfile, `${order}, ${name}: the applied profile is recorded once`);
      t.equal(annotations_['sidecar.istio.io/proxyMemory'], name === 'plain' ? medium.memory : '96Mi', `${order}, ${name}: proxyMemory annotation`);
      t.ok(annotations_['sidecar.istio.io/status'], `${order}, ${name}: Istio recorded its injection`);
    }
  };

  await check('sidecar-guard first');
  const after = 'zz-sidecar-guard-after-istio';
  renameMutating(ours, after);
  t.teardown(() => renameMutating(after, ours));
  await eventually('the API server to call the renamed configuration', async () => {
    const ns = freshNamespace(t, 'order-probe', { 'istio-injection': 'enabled' });
    kubectl(['apply', '-f', '-'], sidecar(ns, 'default'));
    const created = await applied(pod(ns, 'probe'));
    return created.code === 0 && getJson<StoredPod>(['get', 'pod', 'probe', '-n', ns]).metadata.annotations?.[APPLIED_PROFILE] !== undefined;
  }, 15_000, 250);
  await check('Istio first');
});
