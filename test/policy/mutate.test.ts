import t from 'tap';
import { toJsonPatch } from '../../src/admission/patch.js';
import { BUILT_IN_CONFIG, resolveConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { applyMode } from '../../src/policy/enforcement.js';
import { evaluateMutation } from '../../src/policy/mutate.js';
import { applyJsonPatch } from '../support/apply-patch.js';
import { MESH_NS, NOW, facts, injectedPod, input, namespace, pod, type Json } from '../support/builders.js';

const mutate = (object: Json, f = facts({ namespace: MESH_NS }), c: Config = BUILT_IN_CONFIG, options = {}) => {
  const outcome = applyMode(evaluateMutation(input(object, options), f, c, NOW));
  const patch = outcome.changes ? toJsonPatch(object, outcome.changes) : [];
  return { outcome, patch, result: applyJsonPatch(object, patch) };
};

const MEDIUM = {
  'sidecar.istio.io/proxyCPU': '100m',
  'sidecar.istio.io/proxyCPULimit': '1000m',
  'sidecar.istio.io/proxyMemory': '128Mi',
  'sidecar.istio.io/proxyMemoryLimit': '256Mi',
};

t.test('a mesh pod without annotations gets all four, plus the applied profile, and nothing else changes', async (t) => {
  const input = pod({ generateName: 'web-7d4b9c-', labels: { app: 'web' } });
  const { outcome, patch, result } = mutate(input);
  t.equal(outcome.verdict, 'patched');
  t.same(patch, [{ op: 'add', path: '/metadata/annotations', value: { ...MEDIUM, 'sidecar-guard.io/applied-profile': 'medium' } }]);
  const expected = structuredClone(input) as { metadata: Json };
  expected.metadata.annotations = { ...MEDIUM, 'sidecar-guard.io/applied-profile': 'medium' };
  t.same(result, expected);
});

t.test('existing annotations are kept; keys are escaped with ~1', async (t) => {
  const input = pod({ annotations: { 'team.example/owner': 'payments', 'sidecar.istio.io/proxyMemory': '200Mi' } });
  const { patch, result } = mutate(input);
  t.ok(patch.every((op) => op.op === 'add'));
  t.ok(patch.some((op) => op.path === '/metadata/annotations/sidecar.istio.io~1proxyCPU'));
  t.same((result as { metadata: { annotations: Json } }).metadata.annotations, {
    'team.example/owner': 'payments',
    ...MEDIUM,
    'sidecar.istio.io/proxyMemory': '200Mi',
    'sidecar-guard.io/applied-profile': 'medium',
  });
});

t.test('mutating an already-mutated pod produces no patch', async (t) => {
  const first = mutate(pod({ labels: { app: 'web' } }));
  const second = mutate(first.result);
  t.same(second.patch, []);
  t.equal(second.outcome.verdict, 'allowed');
  const injected = mutate(injectedPod());
  t.same(mutate(injected.result).patch, [], 'also for an injected pod');
});

t.test('profile choice: annotation, then first matching rule, then namespace annotation, then default', async (t) => {
  const profileOf = (object: Json, f = facts({ namespace: MESH_NS })) =>
    (mutate(object, f).result as { metadata: { annotations: Json } }).metadata.annotations['sidecar-guard.io/applied-profile'];
  t.equal(profileOf(pod({ annotations: { 'sidecar-guard.io/profile': 'large' }, labels: { istio: 'ingressgateway' } })), 'large');
  t.equal(profileOf(pod({ labels: { istio: 'ingressgateway' } })), 'medium', 'the ingressgateway label rule holds only in gateway namespaces');
  const ingressNs = facts({ namespace: namespace('istio-ingress', { 'istio-injection': 'enabled' }) });
  const ingressPod = mutate(pod({ labels: { istio: 'ingressgateway' } }), ingressNs, BUILT_IN_CONFIG, { namespace: 'istio-ingress' }).result as { metadata: { annotations: Json } };
  t.equal(ingressPod.metadata.annotations['sidecar-guard.io/applied-profile'], 'gateway', 'rule on pod labels, in a gateway namespace');
  const batch = facts({ namespace: namespace('batch-nightly', { 'istio-injection': 'enabled' }, { 'sidecar-guard.io/profile': 'large' }) });
  const batchPod = mutate(pod({}), batch, BUILT_IN_CONFIG, { namespace: 'batch-nightly' }).result as { metadata: { annotations: Json } };
  t.equal(batchPod.metadata.annotations['sidecar-guard.io/applied-profile'], 'small', 'a rule beats the namespace annotation');
  t.equal(batchPod.metadata.annotations['sidecar.istio.io/proxyMemoryLimit'], '128Mi');
  const annotated = facts({ namespace: namespace('shop', { 'istio-injection': 'enabled' }, { 'sidecar-guard.io/profile': 'large' }) });
  t.equal(profileOf(pod({}), annotated), 'large', 'namespace annotation');
  t.equal(profileOf(pod({})), 'medium', 'defaultProfile');
});

t.test('rules match on namespaceLabels and gateway too', async (t) => {
  const c = resolveConfig({
    rules: [
      { profile: 'large', match: { namespaceLabels: { tier: 'critical' } } },
      { profile: 'gateway', match: { gateway: true } },
    ],
  });
  const critical = facts({ namespace: namespace('shop', { 'istio-injection': 'enabled', tier: 'critical' }) });
  const { outcome } = mutate(pod({}), critical, c);
  t.match(outcome.auditAnnotations.profile, 'large');
  const gateway = mutate(pod({ annotations: { 'inject.istio.io/templates': 'gateway' } }), undefined, resolveConfig({ rules: c.rules, tenancy: { gatewayNamespaces: ['shop'] } }));
  t.equal(gateway.outcome.auditAnnotations.profile, 'gateway');
});

t.test('an unknown profile is denied in enforce, listing the valid names', async (t) => {
  const { outcome } = mutate(pod({ annotations: { 'sidecar-guard.io/profile': 'jumbo' } }));
  t.equal(outcome.allowed, false);
  t.equal(outcome.code, 'UNKNOWN_PROFILE');
  t.match(outcome.status?.message, /"jumbo".*valid profiles: gateway, large, medium, small/);
});

t.test('an unknown profile falls back to the default with a warning in audit', async (t) => {
  const audit = resolveConfig({ mode: 'audit' });
  const { outcome, patch } = mutate(pod({ annotations: { 'sidecar-guard.io/profile': 'jumbo' } }), undefined, audit);
  t.equal(outcome.allowed, true);
  t.same(patch, [], 'audit never patches');
  t.match(outcome.warnings.join('\n'), /unknown profile "jumbo".*falling back to "medium"/);
  t.match(outcome.auditAnnotations['would-patch'], /proxyMemoryLimit=256Mi/);
});

t.test('explicit values above the profile ceiling are a violation', async (t) => {
  const { outcome } = mutate(pod({ annotations: { 'sidecar.istio.io/proxyMemoryLimit': '600Mi' } }));
  t.equal(outcome.allowed, false);
  t.equal(outcome.code, 'ABOVE_CEILING');
  t.match(outcome.status?.message, /proxyMemoryLimit=600Mi is above the profile's ceiling maxMemoryLimit=512Mi: lower it, or ask for a larger profile/);
  const atCeiling = mutate(pod({ annotations: { 'sidecar.istio.io/proxyMemoryLimit': '512Mi' } }));
  t.equal(atCeiling.outcome.allowed, true, 'the ceiling itself is allowed');
  const audit = mutate(pod({ annotations: { 'sidecar.istio.io/proxyMemoryLimit': '600Mi' } }), undefined, resolveConfig({ mode: 'audit' }));
  t.same([audit.outcome.allowed, audit.outcome.verdict], [true, 'audit_violation']);
  t.match(audit.outcome.warnings.join('\n'), /\[audit\] enforce would deny: .*600Mi/);
});

t.test('odd annotation values are a clear violation, never a crash', async (t) => {
  for (const value of ['lots', '128MB', '-1Gi', '', '1Gi\n']) {
    const { outcome } = mutate(pod({ annotations: { 'sidecar.istio.io/proxyMemory': value } }));
    t.equal(outcome.code, 'INVALID_QUANTITY', JSON.stringify(value));
    t.match(outcome.status?.message, /is not a Kubernetes quantity/);
  }
});

t.test('an explicit request above the limit it gets is a violation', async (t) => {
  const { outcome } = mutate(pod({ annotations: { 'sidecar.istio.io/proxyMemory': '300Mi' } }));
  t.equal(outcome.code, 'REQUEST_ABOVE_LIMIT');
  t.match(outcome.status?.message, /memory 300Mi \(annotation\) is above its limit 256Mi \(profile\)/);
});

t.test('an injected pod has its istio-proxy container resized too', async (t) => {
  for (const native of [false, true]) {
    const input = injectedPod({ native });
    const { result } = mutate(input);
    const list = native ? 'initContainers' : 'containers';
    const proxy = ((result as { spec: Record<string, Json[]> }).spec[list] ?? []).find((c) => c.name === 'istio-proxy');
    t.same(proxy?.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1000m', memory: '256Mi' } }, list);
    const init = ((result as { spec: Record<string, Json[]> }).spec.initContainers ?? []).find((c) => c.name === 'istio-init');
    t.same(init?.resources, { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1000m', memory: '256Mi' } }, `${list}: istio-init, which Istio gave the same defaults, is resized with it`);
    const app = (result as { spec: { containers: Json[] } }).spec.containers.find((c) => c.name === 'app');
    t.same(app, { name: 'app', image: 'registry.example/app:1.0' }, 'other containers untouched');
  }
  const { outcome } = mutate(injectedPod());
  t.match(outcome.auditAnnotations?.patched, /istio-init\.limits\.memory=256Mi/, 'the audit annotation of what was changed names istio-init');
  const notYet = mutate(pod({ initContainers: [{ name: 'istio-init', image: 'mine', resources: { limits: { memory: '1Gi' } } }] })).result as { spec: { initContainers: Json[] } };
  t.same(notYet.spec.initContainers[0]?.resources, { limits: { memory: '1Gi' } }, "before injection an istio-init of the pod's own is not ours to resize");
});

t.test('a user-declared istio-proxy container is an explicit override: kept, gaps filled', async (t) => {
  const declared = pod({
    containers: [
      { name: 'app', image: 'app' },
      { name: 'istio-proxy', image: 'auto', resources: { limits: { memory: '300Mi' } } },
    ],
  });
  const { result, outcome } = mutate(declared);
  t.equal(outcome.allowed, true);
  const proxy = (result as { spec: { containers: Json[] } }).spec.containers[1];
  t.same(proxy?.resources, { limits: { memory: '300Mi', cpu: '1000m' }, requests: { cpu: '100m', memory: '128Mi' } });
  t.equal((result as { metadata: { annotations: Json } }).metadata.annotations['sidecar.istio.io/proxyMemoryLimit'], '300Mi', 'recorded');
  const tooBig = pod({ containers: [{ name: 'app', image: 'app' }, { name: 'istio-proxy', image: 'auto', resources: { limits: { memory: '2Gi' } } }] });
  t.equal(mutate(tooBig).outcome.code, 'ABOVE_CEILING');
});

t.test('a gateway pod sizes its declared istio-proxy from the gateway profile', async (t) => {
  const gateway = pod({
    labels: { istio: 'ingressgateway' },
    annotations: { 'inject.istio.io/templates': 'gateway' },
    containers: [{ name: 'istio-proxy', image: 'auto', resources: { requests: { cpu: '1' } } }],
  });
  const { result } = mutate(gateway, undefined, resolveConfig({ tenancy: { gatewayNamespaces: ['sh*'] } }));
  const proxy = (result as { spec: { containers: Json[] } }).spec.containers[0];
  t.same(proxy?.resources, { requests: { cpu: '1', memory: '512Mi' }, limits: { cpu: '4000m', memory: '2Gi' } });
});

t.test('pods that get no sidecar, and non-CREATE operations, are not patched', async (t) => {
  t.same(mutate(pod({}), facts({ namespace: namespace('shop') })).patch, []);
  t.same(mutate(pod({ labels: { 'sidecar.istio.io/inject': 'false' } })).patch, []);
  t.same(mutate(pod({ hostNetwork: true })).patch, []);
  t.same(mutate(pod({}), undefined, BUILT_IN_CONFIG, { operation: 'UPDATE', oldObject: pod({}) }).patch, []);
});

t.test('mode off, and the namespace mode label', async (t) => {
  t.same(mutate(pod({}), undefined, resolveConfig({ mode: 'off' })).patch, []);
  const offNs = facts({ namespace: namespace('shop', { 'istio-injection': 'enabled', 'sidecar-guard.io/mode': 'off' }) });
  t.same(mutate(pod({}), offNs).patch, []);
  const auditNs = facts({ namespace: namespace('shop', { 'istio-injection': 'enabled', 'sidecar-guard.io/mode': 'audit' }) });
  const audited = mutate(pod({ annotations: { 'sidecar-guard.io/profile': 'nope' } }), auditNs);
  t.same([audited.outcome.allowed, audited.patch.length], [true, 0]);
  const enforceNs = facts({ namespace: namespace('shop', { 'istio-injection': 'enabled', 'sidecar-guard.io/mode': 'enforce' }) });
  t.equal(mutate(pod({}), enforceNs, resolveConfig({ mode: 'audit' })).outcome.verdict, 'patched', 'a namespace can enforce ahead of the cluster');
  const bogus = facts({ namespace: namespace('shop', { 'istio-injection': 'enabled', 'sidecar-guard.io/mode': 'strict' }) });
  const withBogus = mutate(pod({}), bogus);
  t.equal(withBogus.outcome.verdict, 'patched');
  t.match(withBogus.outcome.warnings.join(' '), /sidecar-guard.io\/mode="strict" is not one of/);
});

t.test('dry run gets exactly the answer a real request would', async (t) => {
  const real = mutate(pod({ name: 'web' }));
  const dry = mutate(pod({ name: 'web' }), undefined, BUILT_IN_CONFIG, { dryRun: true });
  t.same(dry.patch, real.patch);
  t.same(dry.outcome, real.outcome);
});

t.test('tenants cannot pick their own ceiling: workload profiles, global ceilings, gateways only where the admin says', async (t) => {
  const asked = mutate(pod({ annotations: { 'sidecar-guard.io/profile': 'gateway' } }));
  t.same([asked.outcome.allowed, asked.outcome.code], [false, 'PROFILE_NOT_ALLOWED'], 'the gateway profile is not a workload profile');
  t.match(asked.outcome.status?.message, /allowed: small, medium, large/);
  const ns = facts({ namespace: namespace('shop', { 'istio-injection': 'enabled' }, { 'sidecar-guard.io/allowed-profiles': 'small' }) });
  t.equal(mutate(pod({ annotations: { 'sidecar-guard.io/profile': 'large' } }), ns).outcome.code, 'PROFILE_NOT_ALLOWED', 'the Namespace annotation narrows the list');
  const huge = mutate(pod({ annotations: { 'sidecar-guard.io/profile': 'large', 'sidecar.istio.io/proxyMemoryLimit': '64Gi' } }));
  t.same([huge.outcome.allowed, huge.outcome.code], [false, 'ABOVE_CEILING'], 'large has no max*, the tenancy ceiling still holds');
  t.match(huge.outcome.status?.message, /maxMemoryLimit=2Gi/);
  const shaped = mutate(pod({ annotations: { 'inject.istio.io/templates': 'gateway', 'sidecar.istio.io/proxyMemoryLimit': '64Gi' } }));
  t.equal(shaped.outcome.allowed, false, 'a pod shaped like a gateway in a tenant namespace gets no gateway treatment');
  t.ok(shaped.outcome.warnings.some((w) => w.includes('tenancy.gatewayNamespaces')), 'and is told why');
});
