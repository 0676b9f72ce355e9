import t from 'tap';
import { resolveConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { applyMode } from '../../src/policy/enforcement.js';
import { evaluateMutation } from '../../src/policy/mutate.js';
import { FIXED_CLUSTERS } from '../../src/policy/service-imports.js';
import { evaluateValidation } from '../../src/policy/validate.js';
import { describePrediction, predictWorkload } from '../../src/policy/memory-check.js';
import { keptSummaryCount } from '../../src/policy/sizing.js';
import type { ClusterFacts } from '../../src/policy/types.js';
import { MESH_NS, NOW, controller, facts, input, pod, sidecar, type Json } from '../support/builders.js';
import { catalogOf, endpointSlice, service } from '../support/catalog-builders.js';

// A model in round numbers: 1 MiB per cluster, nothing per endpoint, no base.
const MiB = 2 ** 20;
const config = (sizing: Json = {}, rest: Json = {}): Config =>
  resolveConfig({ sizing: { marginPercent: 0, model: { baseBytes: 0, perClusterBytes: MiB, perEndpointBytes: 0 }, ...sizing }, ...rest });

/** `count` one-port services in namespace `other`, plus one in shop. */
function meshFacts(count: number, sidecars: Json[] = []): ClusterFacts {
  const objects = [service('shop', 'web'), endpointSlice('shop', 'web-1', 'web', 2)];
  for (let i = 0; i < count; i++) objects.push(service('other', `svc-${i}`));
  return { ...facts({ namespace: MESH_NS, sidecars }), catalog: catalogOf(objects) };
}

const validate = (object: Json, f: ClusterFacts, c: Config) => applyMode(evaluateValidation(input(object), f, c, NOW));

t.test('a workload whose profile limit is below its prediction gets a warning and an audit annotation with the numbers', async (t) => {
  // Sidecar "*/*"-free but wide: imports shop + 300 other services = 301 + 7 clusters = 308 MiB > medium's 256Mi.
  const wide = sidecar('shop', 'default', { hosts: ['./*', 'other/*'] });
  const f = meshFacts(300, [wide]);
  const outcome = validate(controller('Deployment', 'web', pod({ labels: { app: 'web' } })), f, config());
  t.equal(outcome.allowed, true, 'a prediction warns, it does not deny');
  const warning = outcome.warnings.find((w) => w.includes('predicted'));
  t.equal(warning, `sidecar-guard: istio-proxy imports 301 services / ${301 + FIXED_CLUSTERS.length} clusters / 2 endpoints; predicted 308 MiB; profile medium limits 256 MiB`);
  t.equal(outcome.auditAnnotations['predicted-memory'], `imports 301 services / 308 clusters / 2 endpoints; predicted 308 MiB; profile medium limits 256 MiB`);
});

t.test('within the limit: no warning, the annotation still carries the numbers', async (t) => {
  const f = meshFacts(300, [sidecar('shop', 'default', { hosts: ['./*'] })]);
  const outcome = validate(controller('Deployment', 'web', pod()), f, config());
  t.notOk(outcome.warnings.some((w) => w.includes('predicted')));
  t.equal(outcome.auditAnnotations['predicted-memory'], 'imports 1 service / 8 clusters / 2 endpoints; predicted 8 MiB; profile medium limits 256 MiB');
});

t.test('the margin counts', async (t) => {
  // 250 + 1 + 7 = 258 clusters: above 256 MiB already; 240 + 8 = 248 MiB is under 256 MiB, but not with 10%.
  const f = meshFacts(240, [sidecar('shop', 'default', { hosts: ['./*', 'other/*'] })]);
  const none = validate(controller('Deployment', 'web', pod()), f, config());
  t.notOk(none.warnings.some((w) => w.includes('predicted')), '248 MiB fits 256 MiB without a margin');
  const margin = validate(controller('Deployment', 'web', pod()), f, config({ marginPercent: 10 }));
  t.ok(margin.warnings.some((w) => w.includes('predicted 248 MiB')), '248 MiB + 10% does not');
});

t.test('no catalog (a view that keeps none, or not yet synced): no prediction, nothing said', async (t) => {
  const f = facts({ namespace: MESH_NS, sidecars: [sidecar('shop', 'default')] });
  const outcome = validate(controller('Deployment', 'web', pod()), f, config());
  t.equal(outcome.auditAnnotations['predicted-memory'], undefined);
});

t.test('a workload that sets its own larger limit is judged by that limit', async (t) => {
  const f = meshFacts(300, [sidecar('shop', 'default', { hosts: ['./*', 'other/*'] })]);
  const outcome = validate(controller('Deployment', 'web', pod({ annotations: { 'sidecar.istio.io/proxyMemoryLimit': '512Mi' } })), f, config());
  t.notOk(outcome.warnings.some((w) => w.includes('predicted')));
  t.match(outcome.auditAnnotations['predicted-memory'] ?? '', /limits 512 MiB$/);
});

t.test('sizing.choose: predicted picks the smallest profile covering the prediction when nothing else picks one', async (t) => {
  const c = config({ choose: 'predicted' });
  const patchOf = (object: Json, f: ClusterFacts) => evaluateMutation(input(object), f, c, NOW);
  const small = patchOf(pod({ name: 'p' }), meshFacts(10, [sidecar('shop', 'default', { hosts: ['./*'] })]));
  t.equal(small.profile, 'small', '8 MiB fits small (128Mi)');
  t.match(small.profileReason ?? '', /sizing\.choose: predicted/);
  t.equal(small.changes?.annotations['sidecar.istio.io/proxyMemoryLimit'], '128Mi');
  const large = patchOf(pod({ name: 'p' }), meshFacts(300));
  t.equal(large.profile, 'large', 'unscoped: 308 MiB needs large (1Gi)');
  const annotated = patchOf(pod({ name: 'p', annotations: { 'sidecar-guard.io/profile': 'small' } }), meshFacts(300));
  t.equal(annotated.profile, 'small', 'an explicit choice is kept (and warned about by validation)');
  const ruled = evaluateMutation(input(pod({ name: 'p' }), { namespace: 'batch-1' }), meshFacts(300), c, NOW);
  t.equal(ruled.profile, 'small', 'a rule that picks a profile wins over the prediction');
  const huge = patchOf(pod({ name: 'p' }), meshFacts(5000));
  t.equal(huge.profile, 'large', 'nothing covers it: the largest workload profile (gateway is not one)');
  const off = evaluateMutation(input(pod({ name: 'p' })), meshFacts(300), config(), NOW);
  t.equal(off.profile, 'medium', 'choose: rules (the default) keeps defaultProfile');
});

t.test('config: sizing keys are validated and merged', async (t) => {
  const c = resolveConfig({ sizing: { model: { perClusterBytes: 50000 } } });
  t.same(c.sizing.model, { baseBytes: 36 * MiB, perClusterBytes: 50000, perEndpointBytes: 3000 }, 'model merges key by key');
  t.equal(c.sizing.marginPercent, 10);
  t.throws(() => resolveConfig({ sizing: { choose: 'biggest' } }), /sizing\.choose/);
  t.throws(() => resolveConfig({ sizing: { model: { baseBytes: -1 } } }), /baseBytes/);
  t.throws(() => resolveConfig({ sizing: { model: { perClusterBytes: '40k' } } }), /perClusterBytes/);
});

t.test("scope.defaultServiceExportTo: with the mesh's services private by default, an unscoped workload is predicted on its own namespace only", async (t) => {
  const f = meshFacts(300);
  const open = validate(controller('Deployment', 'web', pod({ labels: { app: 'web' } })), f, config({}, { mode: 'audit' }));
  t.match(open.auditAnnotations['predicted-memory'], /^imports 301 services \/ 308 clusters/, "Istio's default [\"*\"]: every service of the mesh");
  const closed = validate(controller('Deployment', 'web', pod({ labels: { app: 'web' } })), f, config({}, { mode: 'audit', scope: { defaultServiceExportTo: ['.'] } }));
  t.match(closed.auditAnnotations['predicted-memory'], /^imports 1 service \/ 8 clusters \/ 2 endpoints; predicted 8 MiB/, "['.']: only shop's own service");
});

t.test("a workload's own long memory limit is described but not kept (a tenant's annotations cannot pile up per prediction)", async (t) => {
  const f = meshFacts(3, [sidecar('shop', 'default', { hosts: ['./*'] })]);
  const c = config();
  const prediction = predictWorkload('shop', {}, f, c);
  if (prediction === undefined) throw new Error('no prediction');
  const before = keptSummaryCount(prediction);
  for (let i = 0; i < 3; i++) {
    const limit = `${i}`.padEnd(64 * 1024, 'x');
    const outcome = validate(pod({ annotations: { 'sidecar.istio.io/proxyMemoryLimit': limit } }), f, c);
    const said = outcome.auditAnnotations['predicted-memory'] ?? '';
    t.ok(said.startsWith(`${describePrediction(prediction)}; profile medium limits ${i}xxx`), 'the sentence names this request\'s own limit');
  }
  t.equal(keptSummaryCount(prediction), before, 'no long limit kept');
  validate(pod({ annotations: { 'sidecar.istio.io/proxyMemoryLimit': '300Mi' } }), f, c);
  t.equal(keptSummaryCount(prediction), before + 1, 'a short one is kept');
});
