/**
 * Pod UPDATE: a relabel that takes a running proxy out of every scoping Sidecar's selector is
 * denied (istiod re-pushes its configuration with no other admission call); nothing else about a
 * pod UPDATE is judged, and mutation never acts on one.
 */
import t from 'tap';
import { BUILT_IN_CONFIG, resolveConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { applyMode } from '../../src/policy/enforcement.js';
import { evaluateMutation } from '../../src/policy/mutate.js';
import { evaluateValidation } from '../../src/policy/validate.js';
import { MESH_NS, NOW, SCOPING, facts, injectedPod, input, namespace, pod, sidecar, type Json } from '../support/builders.js';

const WEB = sidecar('shop', 'web', { selector: { app: 'web' } });
const onlyWeb = facts({ namespace: MESH_NS, sidecars: [WEB] });
const proxyPod = (labels: Record<string, string>, annotations: Record<string, string> = {}) => injectedPod({ name: 'web-1', labels, annotations });
const relabel = (before: Json, labels: Record<string, string>, f = onlyWeb, c: Config = BUILT_IN_CONFIG, options = {}) => {
  const after = structuredClone(before) as { metadata: Json };
  after.metadata.labels = labels;
  return applyMode(evaluateValidation(input(after, { operation: 'UPDATE', oldObject: before, ...options }), f, c, NOW));
};

t.test('relabelling a scoped pod out of its selector Sidecar is denied, naming the Sidecar, the change and the reason', async (t) => {
  const denied = relabel(proxyPod({ app: 'web' }), { app: 'api' });
  t.same([denied.allowed, denied.code], [false, 'RELABEL_UNSCOPED']);
  t.match(denied.status?.message, 'Pod "web-1" runs an istio-proxy scoped by Sidecar shop/web, and the new labels (app=web→api) would take it out');
  t.match(denied.status?.message, 'namespace "shop" has no Sidecar that applies to it');
  const removed = relabel(proxyPod({ app: 'web', tier: 'fe' }), { tier: 'fe' });
  t.same([removed.allowed, removed.code], [false, 'RELABEL_UNSCOPED'], 'removing the selected label');
  t.match(removed.status?.message, '(app=web removed)');

  const wide = sidecar('shop', 'api', { selector: { app: 'api' }, hosts: ['*/*'] });
  const intoWide = relabel(proxyPod({ app: 'web' }), { app: 'api' }, facts({ namespace: MESH_NS, sidecars: [WEB, wide] }));
  t.same([intoWide.allowed, intoWide.code], [false, 'RELABEL_UNSCOPED'], 'into the selector of a Sidecar that scopes nothing');
  t.match(intoWide.status?.message, /the Sidecar that applies to it, shop\/api, has egress hosts \("\*\/\*"\) that import every service in the mesh, so it limits nothing/);

  const audit = relabel(proxyPod({ app: 'web' }), { app: 'api' }, onlyWeb, resolveConfig({ mode: 'audit' }));
  t.equal(audit.allowed, true, 'audit mode lets it through');
  t.match(audit.warnings.join('\n'), /\[audit\] enforce would deny: relabelling \(app=web→api\) takes the pod out of Sidecar shop\/web/);
  const native = injectedPod({ name: 'web-1', labels: { app: 'web' }, native: true });
  t.equal(relabel(native, { app: 'api' }).code, 'RELABEL_UNSCOPED', 'a native-sidecar proxy (initContainers) too');
});

t.test('relabels that stay scoped pass', async (t) => {
  const added = relabel(proxyPod({ app: 'web' }), { app: 'web', tier: 'fe' });
  t.same([added.allowed, added.code], [true, 'SCOPED'], 'a label added next to the selected one');
  const api = sidecar('shop', 'api', { selector: { app: 'api' } });
  t.same(relabel(proxyPod({ app: 'web' }), { app: 'api' }, facts({ namespace: MESH_NS, sidecars: [WEB, api] })).code, 'SCOPED', 'into another scoping Sidecar');
  const fallback = relabel(proxyPod({ app: 'web' }), { app: 'api' }, facts({ namespace: MESH_NS, sidecars: [WEB, SCOPING] }));
  t.same([fallback.allowed, fallback.code], [true, 'SCOPED'], 'out of a selector, onto the namespace-wide Sidecar');
});

t.test('pods that were not scoped, have no proxy, are exempt or gateways: label changes are not blocked', async (t) => {
  const before = relabel(proxyPod({ app: 'other' }), { app: 'other-2' });
  t.same([before.allowed, before.code], [true, 'POD_UPDATE'], 'already unscoped: the relabel does not make it worse');
  const noProxy = relabel(pod({ name: 'web-1', labels: { app: 'web' } }), { app: 'api' });
  t.same([noProxy.allowed, noProxy.code], [true, 'POD_UPDATE'], 'no istio-proxy: injection happens at CREATE only');
  const denyUnsynced = resolveConfig({ cluster: { whenUnsynced: 'deny' } });
  t.equal(relabel(pod({ name: 'web-1', labels: { app: 'web' } }), { app: 'api' }, facts({ namespace: MESH_NS, synced: false }), denyUnsynced).allowed, true, 'not even while the view is unsynced');
  t.equal(relabel(proxyPod({ app: 'web' }), { app: 'api' }, facts({ namespace: MESH_NS, synced: false }), denyUnsynced).code, 'CLUSTER_VIEW_NOT_SYNCED', 'a proxy pod then follows cluster.whenUnsynced');

  const exemptNs = namespace('shop', { 'istio-injection': 'enabled' }, { 'sidecar-guard.io/exempt': 'scope', 'sidecar-guard.io/exempt-reason': 'migrating, INFRA-1' });
  const exempt = relabel(proxyPod({ app: 'web' }), { app: 'api' }, facts({ namespace: exemptNs, sidecars: [WEB] }));
  t.same([exempt.allowed, exempt.code], [true, 'EXEMPT']);
  t.match(exempt.warnings.join('\n'), /scope check skipped/);

  const gatewayNs = facts({ namespace: namespace('istio-ingress', { 'istio-injection': 'enabled' }), sidecars: [] });
  const gatewayPod = proxyPod({ istio: 'ingressgateway' }, { 'inject.istio.io/templates': 'gateway' });
  t.equal(relabel(gatewayPod, { istio: 'other' }, gatewayNs, BUILT_IN_CONFIG, { namespace: 'istio-ingress' }).code, 'GATEWAY');
  t.equal(relabel(proxyPod({ app: 'web' }), { app: 'api' }, onlyWeb, resolveConfig({ mode: 'off' })).code, 'MODE_OFF');
});

t.test('nothing but the labels is judged on a pod UPDATE; pods/status relabels are judged too, other subresources pass', async (t) => {
  const oversized = proxyPod({ app: 'web' }, { 'sidecar.istio.io/proxyMemoryLimit': '64Gi' });
  const sameLabels = applyMode(evaluateValidation(input(oversized, { operation: 'UPDATE', oldObject: oversized }), facts({ namespace: MESH_NS }), BUILT_IN_CONFIG, NOW));
  t.same([sameLabels.allowed, sameLabels.code], [true, 'POD_UPDATE'], 'unscoped and oversized, labels unchanged: not judged again');
  t.same([relabel(oversized, { app: 'web', tier: 'fe' }).allowed, relabel(oversized, { app: 'web', tier: 'fe' }).code], [true, 'SCOPED'], 'a relabel is judged on scope only');
  // The pod status strategy keeps the old spec but not the old labels: a relabel can come this way.
  t.equal(relabel(proxyPod({ app: 'web' }), { app: 'api' }, onlyWeb, BUILT_IN_CONFIG, { subResource: 'status' }).code, 'RELABEL_UNSCOPED', 'through pods/status');
  const plain = facts({ namespace: namespace('shop'), sidecars: [SCOPING] });
  t.equal(relabel(proxyPod({ 'istio.io/rev': 'canary' }), {}, plain, BUILT_IN_CONFIG, { subResource: 'status' }).code, 'OPT_IN_LABEL_REMOVED', 'dropping the opt-in label through pods/status');
  t.equal(relabel(proxyPod({ app: 'web' }), { app: 'api' }, onlyWeb, BUILT_IN_CONFIG, { subResource: 'resize' }).code, 'SUBRESOURCE');
  t.equal(relabel(proxyPod({ app: 'web' }), { app: 'api' }, onlyWeb, BUILT_IN_CONFIG, { subResource: 'ephemeralcontainers' }).code, 'SUBRESOURCE');
});

t.test('mutation never acts on a pod UPDATE', async (t) => {
  const before = pod({ name: 'web-1', labels: { app: 'web' } });
  const after = pod({ name: 'web-1', labels: { app: 'api' } });
  const evaluation = evaluateMutation(input(after, { operation: 'UPDATE', oldObject: before }), onlyWeb, BUILT_IN_CONFIG, NOW);
  t.equal(evaluation.code, 'OPERATION_NOT_CHECKED');
  t.equal(evaluation.changes, undefined);
  t.equal(applyMode(evaluation).allowed, true);
});

t.test('in a namespace without an injection label, a running proxy may not drop its last opt-in label', async (t) => {
  const plain = facts({ namespace: namespace('shop'), sidecars: [SCOPING] });
  const optedIn = proxyPod({ app: 'web', 'sidecar.istio.io/inject': 'true' });
  const dropped = relabel(optedIn, { app: 'web' }, plain);
  t.same([dropped.allowed, dropped.code], [false, 'OPT_IN_LABEL_REMOVED'], 'still scoped by the namespace-wide Sidecar, but it would leave the view');
  t.match(dropped.status?.message, 'Pod "web-1" runs an istio-proxy in namespace "shop", which has no injection label, and the new labels (sidecar.istio.io/inject=true removed)');
  t.match(dropped.status?.message, 'Keep the label (any value');
  t.equal(relabel(optedIn, { app: 'web', 'sidecar.istio.io/inject': 'false' }, plain).code, 'SCOPED', 'changing the value keeps it in view');
  t.equal(relabel(optedIn, { app: 'web', 'istio.io/rev': 'canary' }, plain).code, 'SCOPED', 'swapping one opt-in key for the other');
  const both = proxyPod({ 'sidecar.istio.io/inject': 'false', 'istio.io/rev': 'canary' });
  t.equal(relabel(both, { 'istio.io/rev': 'canary' }, plain).code, 'SCOPED', 'one key of two removed');
  t.equal(relabel(both, {}, plain).code, 'OPT_IN_LABEL_REMOVED', 'both removed at once');
  t.equal(relabel(optedIn, { app: 'web' }, facts({ namespace: MESH_NS, sidecars: [SCOPING] })).code, 'SCOPED', 'in a mesh namespace the namespace label meshes it: no opt-in label needed');
  t.equal(relabel(pod({ name: 'web-1', labels: { 'sidecar.istio.io/inject': 'true' } }), {}, plain).code, 'POD_UPDATE', 'no proxy: nothing to track');
  t.equal(relabel(optedIn, { app: 'web' }, plain, resolveConfig({ mode: 'audit' })).allowed, true, 'audit mode warns only');
});
