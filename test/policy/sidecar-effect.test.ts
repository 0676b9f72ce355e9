/**
 * Sidecar changes in a namespace without an injection label: judged by their effect on the pods
 * that opted in there on their own (label sidecar.istio.io/inject or istio.io/rev), as the cluster
 * view reports them. Nothing else there takes a Sidecar, so without such pods every change passes.
 */
import t from 'tap';
import { BUILT_IN_CONFIG, resolveConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { applyMode } from '../../src/policy/enforcement.js';
import { podsSidecarsApplyTo, podsUnscopedByChange, sidecarsAfterChange } from '../../src/policy/sidecar-effect.js';
import { evaluateValidation } from '../../src/policy/validate.js';
import { NOW, facts, injectedPod, input, namespace, pod, sidecar, type Json } from '../support/builders.js';

const PLAIN_NS = namespace('shop');
const SCOPING = sidecar('shop', 'default');
const OPTED_IN = injectedPod({ name: 'web-1', namespace: 'shop', labels: { app: 'web', 'sidecar.istio.io/inject': 'true' } });
const REVISION = injectedPod({ name: 'api-1', namespace: 'shop', labels: { app: 'api', 'istio.io/rev': 'canary' } });

type Change = { operation?: 'CREATE' | 'UPDATE' | 'DELETE'; oldObject?: Json; name?: string };
const judge = (object: Json | null, pods: Json[], sidecars: Json[] = [SCOPING], change: Change = {}, c: Config = BUILT_IN_CONFIG, ns: Json = PLAIN_NS) =>
  applyMode(evaluateValidation(input(object, { kind: 'Sidecar', ...change }), facts({ namespace: ns, sidecars, pods }), c, NOW));

t.test('with an opted-in pod under a scoping Sidecar, changes that unscope it are denied, naming the pod', async (t) => {
  const deleted = judge(null, [OPTED_IN], [SCOPING], { operation: 'DELETE', oldObject: SCOPING, name: 'default' });
  t.same([deleted.allowed, deleted.code], [false, 'SIDECAR_UNSCOPES_OPTED_IN_PODS'], 'deleting the namespace-wide Sidecar');
  t.match(deleted.status?.message, 'Deleting Sidecar shop/default would leave a pod without a scope. Namespace "shop" has no injection label; this pod opted in to injection on its own');
  t.match(deleted.status?.message, 'Pod "web-1" (namespace "shop" has no Sidecar that applies to it)');

  const widened = judge(sidecar('shop', 'default', { hosts: ['*/*'] }), [OPTED_IN], [SCOPING], { operation: 'UPDATE', oldObject: SCOPING });
  t.same([widened.allowed, widened.code], [false, 'SIDECAR_UNSCOPES_OPTED_IN_PODS'], 'widening it to */*');
  t.match(widened.status?.message, /Changing Sidecar shop\/default .*Pod "web-1" \(the Sidecar that applies to it, shop\/default, has egress hosts \("\*\/\*"\)/);
  for (const host of ['*/*.svc.cluster.local', '*/*.local']) {
    t.equal(judge(sidecar('shop', 'default', { hosts: [host] }), [OPTED_IN], [SCOPING], { operation: 'UPDATE', oldObject: SCOPING }).allowed, false, `to ${host}`);
  }
  const dropped = judge(sidecar('shop', 'default', { egress: false }), [OPTED_IN], [SCOPING], { operation: 'UPDATE', oldObject: SCOPING });
  t.same([dropped.allowed, dropped.code], [false, 'SIDECAR_UNSCOPES_OPTED_IN_PODS'], 'dropping its egress');

  const selectorNoEgress = judge(sidecar('shop', 'web', { egress: false, selector: { app: 'web' } }), [OPTED_IN]);
  t.same([selectorNoEgress.allowed, selectorNoEgress.code], [false, 'SIDECAR_UNSCOPES_OPTED_IN_PODS'], 'a selector Sidecar with no egress that matches the pod');
  t.match(selectorNoEgress.status?.message, 'Creating Sidecar shop/web');
  t.match(selectorNoEgress.status?.message, 'declares no egress hosts, so it gets Istio\'s default "*/*"');

  const moved = judge(sidecar('shop', 'default', { selector: { app: 'nothing-has-this' } }), [OPTED_IN], [SCOPING], { operation: 'UPDATE', oldObject: SCOPING });
  t.equal(moved.allowed, false, 'adding a workloadSelector that matches nothing to the namespace-wide Sidecar');
  const decoy = sidecar('shop', 'decoy', { selector: { app: 'nothing-has-this' } });
  t.equal(judge(null, [OPTED_IN], [SCOPING, decoy], { operation: 'DELETE', oldObject: SCOPING, name: 'default' }).allowed, false, 'a decoy selector Sidecar does not keep it scoped');

  const both = judge(null, [OPTED_IN, REVISION], [SCOPING], { operation: 'DELETE', oldObject: SCOPING, name: 'default' });
  t.match(both.status?.message, 'would leave 2 pods without a scope');
  t.match(both.status?.message, 'Pod "api-1"', 'a pod opted in by istio.io/rev counts too');
  const audit = judge(null, [OPTED_IN], [SCOPING], { operation: 'DELETE', oldObject: SCOPING, name: 'default' }, resolveConfig({ mode: 'audit' }));
  t.equal(audit.allowed, true, 'audit mode lets it through');
  t.match(audit.warnings.join('\n'), 'would unscope a pod that opted in on their own in "shop": web-1');
});

t.test('selector Sidecar changes: only the pods the old or new selector matches can move', async (t) => {
  const web = sidecar('shop', 'web', { selector: { app: 'web' }, hosts: ['./*'] });
  const api = sidecar('shop', 'api', { selector: { app: 'api' }, hosts: ['./*'] });
  const gone = judge(null, [OPTED_IN, REVISION], [web, api], { operation: 'DELETE', oldObject: web, name: 'web' });
  t.same([gone.allowed, gone.code], [false, 'SIDECAR_UNSCOPES_OPTED_IN_PODS'], 'deleting the only Sidecar over web-1 (no namespace-wide one)');
  t.match(gone.status?.message, 'would leave a pod without a scope');
  t.notMatch(gone.status?.message, 'api-1', 'the pod under the other Sidecar is not named');
  const retargeted = judge(sidecar('shop', 'web', { selector: { app: 'nothing' }, hosts: ['./*'] }), [OPTED_IN], [web], { operation: 'UPDATE', oldObject: web });
  t.equal(retargeted.allowed, false, 'moving its selector away: the pod the old selector matched is judged');
  t.equal(judge(null, [OPTED_IN], [web, api], { operation: 'DELETE', oldObject: api, name: 'api' }).allowed, true, 'a Sidecar that selects no opted-in pod may go');
});

t.test('changes that keep the opted-in pods scoped are allowed', async (t) => {
  const selected = sidecar('shop', 'web', { selector: { app: 'web' }, hosts: ['./*'] });
  t.equal(judge(null, [OPTED_IN], [SCOPING, selected], { operation: 'DELETE', oldObject: SCOPING, name: 'default' }).allowed, true, 'a scoping selector Sidecar still covers the only pod');
  t.equal(judge(sidecar('shop', 'default', { hosts: ['./*'] }), [OPTED_IN], [SCOPING], { operation: 'UPDATE', oldObject: SCOPING }).allowed, true, 'narrowing the egress');
  t.equal(judge(sidecar('shop', 'api', { hosts: ['*/*'], selector: { app: 'api' } }), [OPTED_IN]).allowed, true, 'a */* Sidecar whose selector matches no opted-in pod');
  const older = sidecar('shop', 'web', { selector: { app: 'web' }, hosts: ['./*'], created: '2025-01-01T00:00:00Z' });
  const newer = sidecar('shop', 'web-wide', { selector: { app: 'web' }, hosts: ['*/*'], created: '2026-06-01T00:00:00Z' });
  t.equal(judge(newer, [OPTED_IN], [SCOPING, older]).allowed, true, 'Istio applies the oldest matching selector Sidecar, which still scopes');
  const root = judge(null, [OPTED_IN], [SCOPING], { operation: 'DELETE', oldObject: SCOPING, name: 'default' }, resolveConfig({ scope: { acceptRootNamespaceDefault: true } }));
  t.equal(root.allowed, false, 'no root default exists, so none is accepted either');
});

t.test('without opted-in pods that run a proxy, any Sidecar change in an unlabelled namespace is allowed', async (t) => {
  const wide = sidecar('shop', 'default', { hosts: ['*/*'] });
  for (const [what, pods] of [
    ['no pods', []],
    ['an opted-in pod without a proxy (hostNetwork, or labelled after CREATE): not held', [pod({ name: 'p', namespace: 'shop', labels: { 'sidecar.istio.io/inject': 'true' } })]],
  ] as const) {
    t.equal(judge(null, [...pods], [SCOPING], { operation: 'DELETE', oldObject: SCOPING, name: 'default' }).code, 'SIDECAR_OK', `${what}: delete`);
    t.equal(judge(wide, [...pods], [SCOPING], { operation: 'UPDATE', oldObject: SCOPING }).allowed, true, `${what}: widen to */*`);
    t.equal(judge(sidecar('shop', 'web', { egress: false, selector: { app: 'web' } }), [...pods]).allowed, true, `${what}: a no-egress selector Sidecar`);
    t.equal(judge(sidecar('shop', 'second'), [...pods]).allowed, true, `${what}: a second selector-less Sidecar`);
  }
  const gateway = injectedPod({ name: 'gw', namespace: 'istio-ingress', labels: { 'sidecar.istio.io/inject': 'true' }, annotations: { 'inject.istio.io/templates': 'gateway' } });
  const gwNs = namespace('istio-ingress');
  const gwDelete = (c: Config) =>
    applyMode(evaluateValidation(input(null, { kind: 'Sidecar', operation: 'DELETE', oldObject: sidecar('istio-ingress', 'default'), namespace: 'istio-ingress' }), facts({ namespace: gwNs, sidecars: [sidecar('istio-ingress', 'default')], pods: [gateway] }), c, NOW));
  t.equal(gwDelete(BUILT_IN_CONFIG).allowed, true, 'a gateway where tenancy.gatewayNamespaces recognises it takes no Sidecar');
  t.equal(gwDelete(resolveConfig({ tenancy: { gatewayNamespaces: [] } })).allowed, false, 'elsewhere a gateway-shaped pod counts as a workload');
  const terminating = { ...PLAIN_NS, status: { phase: 'Terminating' } };
  t.equal(judge(null, [OPTED_IN], [SCOPING], { operation: 'DELETE', oldObject: SCOPING, name: 'default' }, BUILT_IN_CONFIG, terminating).allowed, true, 'the namespace is being deleted');
  const exempt = namespace('shop', {}, { 'sidecar-guard.io/exempt': 'scope', 'sidecar-guard.io/exempt-reason': 'migration', 'sidecar-guard.io/exempt-until': '2026-12-01' });
  t.equal(judge(null, [OPTED_IN], [SCOPING], { operation: 'DELETE', oldObject: SCOPING, name: 'default' }, BUILT_IN_CONFIG, exempt).code, 'EXEMPT', 'a namespace exemption from scope covers it');
  const meshed = judge(sidecar('shop', 'wide', { hosts: ['*/*'], selector: { app: 'nothing' } }), [], [SCOPING], {}, BUILT_IN_CONFIG, namespace('shop', { 'istio-injection': 'enabled' }));
  t.equal(meshed.code, 'SIDECAR_WILDCARD_EGRESS', 'mesh namespaces keep their stricter per-object checks');
  const unknown = applyMode(evaluateValidation(input(wide, { kind: 'Sidecar' }), facts({ sidecars: [SCOPING] }), BUILT_IN_CONFIG, NOW));
  t.equal(unknown.code, 'SIDECAR_WILDCARD_EGRESS', 'a namespace the view does not know yet gets the per-object checks too');
});

t.test('a second selector-less Sidecar that scopes nothing unscopes the pods: which one Istio applies is undefined', async (t) => {
  const second = judge(sidecar('shop', 'second', { hosts: ['*/*'], created: '2026-06-01T00:00:00Z' }), [OPTED_IN]);
  t.same([second.allowed, second.code], [false, 'SIDECAR_UNSCOPES_OPTED_IN_PODS']);
  t.equal(judge(sidecar('shop', 'second', { hosts: ['./*'] }), [OPTED_IN]).allowed, true, 'a second one that scopes too');
});

t.test('podsUnscopedByChange, sidecarsAfterChange, podsSidecarsApplyTo', async (t) => {
  const f = facts({ namespace: PLAIN_NS, sidecars: [SCOPING], pods: [OPTED_IN, REVISION] });
  const pods = f.optedInPods ?? [];
  const before = f.sidecars[0];
  t.same(sidecarsAfterChange(f.sidecars, before, undefined), [], 'DELETE removes it');
  t.same(sidecarsAfterChange(f.sidecars, undefined, before).length, 1, 'a CREATE of the same name replaces, never duplicates');
  t.same(podsUnscopedByChange(pods, f, before, undefined, BUILT_IN_CONFIG.scope).map((u) => [u.pod.name, u.verdict.code]), [
    ['web-1', 'NO_SIDECAR'],
    ['api-1', 'NO_SIDECAR'],
  ]);
  const unscopedBefore = facts({ namespace: PLAIN_NS, sidecars: [sidecar('shop', 'default', { hosts: ['*/*'] })], pods: [OPTED_IN] });
  t.same(podsUnscopedByChange(unscopedBefore.optedInPods ?? [], unscopedBefore, unscopedBefore.sidecars[0], undefined, BUILT_IN_CONFIG.scope), [], 'a pod not scoped now is not made worse');
  t.same(podsUnscopedByChange([], f, before, undefined, BUILT_IN_CONFIG.scope), [], 'no pods: nothing to judge');
  t.same(podsSidecarsApplyTo(pods, 'shop', BUILT_IN_CONFIG).map((p) => p.name), ['web-1', 'api-1']);
});

t.test('many opted-in pods: the denial names five and counts the rest', async (t) => {
  const many = Array.from({ length: 12 }, (_, i) => injectedPod({ name: `w-${i}`, namespace: 'shop', labels: { 'sidecar.istio.io/inject': 'true' } }));
  const result = judge(null, many, [SCOPING], { operation: 'DELETE', oldObject: SCOPING, name: 'default' });
  t.match(result.status?.message, 'would leave 12 pods without a scope');
  t.match(result.status?.message, 'Pod "w-4"');
  t.notMatch(result.status?.message, 'Pod "w-5"');
  t.match(result.status?.message, ', and 7 more.');
});
