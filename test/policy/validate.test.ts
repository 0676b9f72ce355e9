import t from 'tap';
import { parse } from 'yaml';
import { BUILT_IN_CONFIG, resolveConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { applyMode } from '../../src/policy/enforcement.js';
import { evaluateValidation } from '../../src/policy/validate.js';
import {
  CONTROLLER_KINDS,
  MESH_NS,
  NOW,
  SCOPING,
  controller,
  facts,
  injectedPod,
  input,
  namespace,
  pod,
  sidecar,
  type Json,
} from '../support/builders.js';

const config = (overrides: Json = {}): Config => resolveConfig(overrides);
const validate = (object: Json | null, f = facts({ namespace: MESH_NS }), c: Config = BUILT_IN_CONFIG, options = {}) =>
  applyMode(evaluateValidation(input(object, options), f, c, NOW));

t.test('a mesh pod in a namespace without a Sidecar is denied with a ready-to-apply manifest', async (t) => {
  const outcome = validate(pod({ name: 'web', labels: { app: 'web' } }));
  t.equal(outcome.allowed, false);
  t.equal(outcome.code, 'MISSING_SIDECAR');
  t.equal(outcome.status?.code, 403);
  t.equal(outcome.status?.reason, 'Forbidden');
  const message = outcome.status?.message ?? '';
  t.match(message, /namespace "shop"/);
  t.match(message, /every service in the mesh/);
  const manifest = parse(message.split('---\n')[1] ?? '');
  t.same(manifest, {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name: 'default', namespace: 'shop' },
    spec: { egress: [{ hosts: ['./*', 'istio-system/*'] }] },
  });
});

t.test('the suggested egress hosts come from scope.suggestedEgressHosts', async (t) => {
  const outcome = validate(pod({ name: 'web' }), undefined, config({ scope: { suggestedEgressHosts: ['./*', 'shared/*'] } }));
  const manifest = parse(outcome.status?.message.split('---\n')[1] ?? '') as { spec: { egress: { hosts: string[] }[] } };
  t.same(manifest.spec.egress[0]?.hosts, ['./*', 'shared/*']);
});

t.test('a selector-less scoping Sidecar admits the pod', async (t) => {
  const outcome = validate(pod({ name: 'web' }), facts({ namespace: MESH_NS, sidecars: [SCOPING] }));
  t.equal(outcome.allowed, true);
  t.equal(outcome.code, 'SCOPED');
});

t.test('a Sidecar whose workloadSelector matches the pod admits it; one that does not, does not', async (t) => {
  const selected = sidecar('shop', 'web', { selector: { app: 'web' } });
  t.equal(validate(pod({ labels: { app: 'web', tier: 'fe' } }), facts({ namespace: MESH_NS, sidecars: [selected] })).allowed, true);
  const other = validate(pod({ labels: { app: 'api' } }), facts({ namespace: MESH_NS, sidecars: [selected] }));
  t.equal(other.allowed, false);
  t.equal(other.code, 'MISSING_SIDECAR');
});

t.test('a Sidecar with */* egress scopes nothing', async (t) => {
  const wide = sidecar('shop', 'default', { hosts: ['*/*'] });
  const outcome = validate(pod({ name: 'web' }), facts({ namespace: MESH_NS, sidecars: [wide] }));
  t.equal(outcome.allowed, false);
  t.equal(outcome.code, 'SIDECAR_NOT_SCOPING');
  t.match(outcome.status?.message, /shop\/default/);
});

t.test('a Sidecar with no egress inherits the whole mesh and does not count', async (t) => {
  const ingressOnly = sidecar('shop', 'default', { egress: false });
  t.equal(validate(pod({}), facts({ namespace: MESH_NS, sidecars: [ingressOnly] })).code, 'SIDECAR_NOT_SCOPING');
});

t.test('Istio precedence: a matching selector Sidecar wins over the namespace-wide one', async (t) => {
  const wideForWeb = sidecar('shop', 'web', { selector: { app: 'web' }, hosts: ['*/*'] });
  const outcome = validate(pod({ labels: { app: 'web' } }), facts({ namespace: MESH_NS, sidecars: [SCOPING, wideForWeb] }));
  t.equal(outcome.code, 'SIDECAR_NOT_SCOPING', 'the */* selector Sidecar is the one Istio applies');
});

t.test('the root-namespace default counts only with scope.acceptRootNamespaceDefault', async (t) => {
  const root = sidecar('istio-system', 'default');
  const f = facts({ namespace: MESH_NS, rootSidecars: [root] });
  const refused = validate(pod({}), f);
  t.equal(refused.code, 'ROOT_DEFAULT_NOT_ACCEPTED');
  t.equal(validate(pod({}), f, config({ scope: { acceptRootNamespaceDefault: true } })).allowed, true);
  const rootSelector = sidecar('istio-system', 'x', { selector: { app: 'x' } });
  const selectorOnly = facts({ namespace: MESH_NS, rootSidecars: [rootSelector] });
  t.equal(validate(pod({}), selectorOnly, config({ scope: { acceptRootNamespaceDefault: true } })).code, 'MISSING_SIDECAR');
});

for (const kind of CONTROLLER_KINDS) {
  t.test(`${kind} pod templates are checked on CREATE and UPDATE`, async (t) => {
    const workload = controller(kind, 'web', pod({ labels: { app: 'web' } }), 'shop');
    for (const operation of ['CREATE', 'UPDATE'] as const) {
      const denied = validate(workload, undefined, BUILT_IN_CONFIG, { operation, oldObject: operation === 'UPDATE' ? workload : null });
      t.equal(denied.allowed, false, `${operation} denied without a Sidecar`);
      t.match(denied.status?.message, new RegExp(`${kind} "web"`));
      const allowed = validate(workload, facts({ namespace: MESH_NS, sidecars: [SCOPING] }), BUILT_IN_CONFIG, { operation });
      t.equal(allowed.allowed, true, `${operation} allowed with a Sidecar`);
    }
    const optedOut = controller(kind, 'web', pod({ labels: { 'sidecar.istio.io/inject': 'false' } }), 'shop');
    t.equal(validate(optedOut).allowed, true, 'an opted-out template passes');
  });
}

t.test('a controller being deleted (finalizers removed) is not blocked', async (t) => {
  const workload = controller('Deployment', 'web', pod({}), 'shop');
  (workload.metadata as Json).deletionTimestamp = '2026-11-23T11:00:00Z';
  t.equal(validate(workload, undefined, BUILT_IN_CONFIG, { operation: 'UPDATE', oldObject: workload }).code, 'BEING_DELETED');
});

t.test('pods outside the mesh, gateways, pod updates, subresources and deletes pass untouched', async (t) => {
  const outside = validate(pod({}), facts({ namespace: namespace('shop') }));
  t.same([outside.allowed, outside.code], [true, 'NOT_IN_MESH']);
  const gatewaysHere = config({ tenancy: { gatewayNamespaces: ['shop'] } });
  const gateway = validate(pod({ annotations: { 'inject.istio.io/templates': 'gateway' } }), undefined, gatewaysHere);
  t.same([gateway.allowed, gateway.code], [true, 'GATEWAY']);
  const chartGateway = validate(pod({ containers: [{ name: 'istio-proxy', image: 'auto' }] }), undefined, gatewaysHere);
  t.same([chartGateway.allowed, chartGateway.code], [true, 'GATEWAY']);
  const notHere = validate(pod({ annotations: { 'inject.istio.io/templates': 'gateway' } }));
  t.same([notHere.allowed, notHere.code], [false, 'MISSING_SIDECAR'], 'outside tenancy.gatewayNamespaces a gateway-shaped pod needs a Sidecar');
  t.equal(validate(pod({}), undefined, BUILT_IN_CONFIG, { operation: 'UPDATE', oldObject: pod({}) }).code, 'POD_UPDATE');
  t.equal(validate(pod({}), undefined, BUILT_IN_CONFIG, { operation: 'UPDATE', subResource: 'status', oldObject: pod({}) }).code, 'POD_UPDATE', 'pods/status is read for relabels only');
  t.equal(validate(pod({}), undefined, BUILT_IN_CONFIG, { operation: 'UPDATE', subResource: 'ephemeralcontainers' }).code, 'SUBRESOURCE');
  t.equal(validate(null, undefined, BUILT_IN_CONFIG, { operation: 'DELETE', oldObject: pod({ name: 'x' }) }).code, 'OPERATION_NOT_CHECKED');
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: {} };
  t.equal(validate(service).code, 'NOT_APPLICABLE');
});

t.test('an injected pod is checked from its final shape', async (t) => {
  t.equal(validate(injectedPod({ name: 'web' }), facts({ namespace: namespace('shop') })).code, 'MISSING_SIDECAR');
});

t.test('Sidecar objects', async (t) => {
  const withDefault = facts({ namespace: MESH_NS, sidecars: [SCOPING] });
  const wildcard = validate(sidecar('shop', 'wide', { hosts: ['./*', '*/*'] }), withDefault);
  t.same([wildcard.allowed, wildcard.code], [false, 'SIDECAR_WILDCARD_EGRESS']);
  for (const operation of ['CREATE', 'UPDATE'] as const) {
    t.equal(validate(sidecar('shop', 'default', { hosts: ['*/*'] }), withDefault, BUILT_IN_CONFIG, { operation }).allowed, false);
  }
  const second = validate(sidecar('shop', 'another'), withDefault);
  t.same([second.allowed, second.code], [false, 'DUPLICATE_NAMESPACE_SIDECAR']);
  t.match(second.status?.message, /IST0111/);
  t.equal(validate(sidecar('shop', 'default', { hosts: ['./*'] }), withDefault, BUILT_IN_CONFIG, { operation: 'UPDATE' }).allowed, true, 'updating the same one');
  t.equal(validate(sidecar('shop', 'web', { selector: { app: 'web' } }), withDefault).allowed, true, 'a selector Sidecar next to the default');
  for (const apiVersion of ['networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3']) {
    t.equal(validate(sidecar('shop', 'wide', { hosts: ['*/*'], apiVersion }), withDefault).allowed, false, apiVersion);
  }
});

t.test('deleting the last scoping Sidecar of a mesh namespace is denied', async (t) => {
  const del = (f: ReturnType<typeof facts>, c: Config = BUILT_IN_CONFIG) =>
    validate(null, f, c, { operation: 'DELETE', oldObject: SCOPING, kind: 'Sidecar', name: 'default' });
  const last = del(facts({ namespace: MESH_NS, sidecars: [SCOPING] }));
  t.same([last.allowed, last.code], [false, 'LAST_SCOPING_SIDECAR']);
  const decoy = sidecar('shop', 'decoy', { selector: { app: 'nothing-has-this' } });
  const decoyLeft = del(facts({ namespace: MESH_NS, sidecars: [SCOPING, decoy] }));
  t.same([decoyLeft.allowed, decoyLeft.code], [false, 'LAST_SCOPING_SIDECAR'], 'a selector Sidecar left behind (a decoy) does not count as the last scope');
  const second = sidecar('shop', 'default-2');
  t.equal(del(facts({ namespace: MESH_NS, sidecars: [SCOPING, second] })).allowed, true, 'another scoping selector-less Sidecar remains');
  const selected = sidecar('shop', 'web', { selector: { app: 'web' } });
  const selectedGone = validate(null, facts({ namespace: MESH_NS, sidecars: [selected] }), BUILT_IN_CONFIG, { operation: 'DELETE', oldObject: selected, kind: 'Sidecar', name: 'web' });
  t.same([selectedGone.allowed, selectedGone.code], [false, 'LAST_SCOPING_SIDECAR'], 'a workload Sidecar with no namespace-wide fallback: its pods would lose scope');
  t.equal(validate(null, facts({ namespace: MESH_NS, sidecars: [SCOPING, selected] }), BUILT_IN_CONFIG, { operation: 'DELETE', oldObject: selected, kind: 'Sidecar', name: 'web' }).allowed, true, 'its pods fall back to the namespace-wide one');
  t.equal(del(facts({ namespace: namespace('shop'), sidecars: [SCOPING] })).allowed, true, 'not a mesh namespace');
  const terminating = { ...namespace('shop', { 'istio-injection': 'enabled' }), status: { phase: 'Terminating' } };
  t.equal(del(facts({ namespace: terminating, sidecars: [SCOPING] })).allowed, true, 'the namespace is being deleted');
  const root = facts({ namespace: MESH_NS, sidecars: [SCOPING], rootSidecars: [sidecar('istio-system', 'default')] });
  t.equal(del(root, config({ scope: { acceptRootNamespaceDefault: true } })).allowed, true, 'the accepted root default still scopes');
  const wide = sidecar('shop', 'default', { hosts: ['*/*'] });
  t.equal(validate(null, facts({ namespace: MESH_NS, sidecars: [wide] }), BUILT_IN_CONFIG, { operation: 'DELETE', oldObject: wide, kind: 'Sidecar' }).allowed, true, 'a non-scoping one may go');
});

t.test('controllers are checked for profile and ceiling at apply time', async (t) => {
  const f = facts({ namespace: MESH_NS, sidecars: [SCOPING] });
  const unknown = validate(controller('Deployment', 'web', pod({ annotations: { 'sidecar-guard.io/profile': 'huge' } })), f);
  t.same([unknown.allowed, unknown.code], [false, 'UNKNOWN_PROFILE']);
  t.match(unknown.status?.message, /valid profiles: gateway, large, medium, small/);
  const tooBig = validate(controller('Deployment', 'web', pod({ annotations: { 'sidecar.istio.io/proxyMemoryLimit': '1Gi' } })), f);
  t.same([tooBig.allowed, tooBig.code], [false, 'ABOVE_CEILING']);
  t.match(tooBig.status?.message, /maxMemoryLimit=512Mi/);
  t.equal(validate(pod({ annotations: { 'sidecar-guard.io/profile': 'huge' } }), f).code, 'UNKNOWN_PROFILE', 'pods are checked again after every mutation');
});

t.test('whenUnsynced', async (t) => {
  const unsynced = facts({ namespace: MESH_NS, synced: false });
  const allowed = validate(pod({}), unsynced);
  t.equal(allowed.allowed, true);
  t.match(allowed.warnings.join(' '), /not synced/);
  const denied = validate(pod({}), unsynced, config({ cluster: { whenUnsynced: 'deny' } }));
  t.same([denied.allowed, denied.code], [false, 'CLUSTER_VIEW_NOT_SYNCED']);
});

t.test('a Sidecar is judged by its effect: egress that imports everything, no egress, a selector that moves away', async (t) => {
  const f = facts({ namespace: MESH_NS, sidecars: [SCOPING] });
  for (const host of ['*/*', '*/*.svc.cluster.local', '*/*.cluster.local', '*/*.local', '*/*.LOCAL', ' */*.svc.cluster.local.']) {
    const result = validate(sidecar('shop', 'web', { hosts: ['./*', host], selector: { app: 'web' } }), f, BUILT_IN_CONFIG, { kind: 'Sidecar' });
    t.same([result.allowed, result.code], [false, 'SIDECAR_WILDCARD_EGRESS'], `egress host ${JSON.stringify(host)} imports the mesh`);
  }
  for (const host of ['*/*.example.com', '*/reviews.bookinfo.svc.cluster.local', '*/*.bookinfo.svc.cluster.local', 'istio-system/*', '~/*']) {
    t.equal(validate(sidecar('shop', 'web', { hosts: [host], selector: { app: 'web' } }), f, BUILT_IN_CONFIG, { kind: 'Sidecar' }).allowed, true, `egress host ${host} scopes`);
  }
  const otherDomain = config({ scope: { clusterDomain: 'corp.internal' } });
  t.equal(validate(sidecar('shop', 'web', { hosts: ['*/*.corp.internal'], selector: { app: 'web' } }), f, otherDomain, { kind: 'Sidecar' }).allowed, false, 'the configured cluster domain counts');

  const ingressOnly = validate(sidecar('shop', 'web', { egress: false, selector: { app: 'web' } }), f, BUILT_IN_CONFIG, { kind: 'Sidecar' });
  t.same([ingressOnly.allowed, ingressOnly.code], [false, 'SIDECAR_NO_EGRESS'], 'a selector Sidecar with only ingress unscopes the pods it selects');
  const emptyHosts = { ...SCOPING, spec: { egress: [{ hosts: [] }] } };
  t.equal(validate(emptyHosts, f, BUILT_IN_CONFIG, { kind: 'Sidecar', operation: 'UPDATE', oldObject: SCOPING }).code, 'SIDECAR_NO_EGRESS', 'dropping the egress hosts on update');

  const moved = sidecar('shop', 'default', { selector: { app: 'nothing-has-this' } });
  const update = validate(moved, f, BUILT_IN_CONFIG, { kind: 'Sidecar', operation: 'UPDATE', oldObject: SCOPING });
  t.same([update.allowed, update.code], [false, 'LAST_SCOPING_SIDECAR'], 'adding a workloadSelector to the namespace-wide Sidecar leaves the rest unscoped');
  const retargeted = validate(sidecar('shop', 'web', { selector: { app: 'api' } }), facts({ namespace: MESH_NS, sidecars: [sidecar('shop', 'web', { selector: { app: 'web' } })] }), BUILT_IN_CONFIG, {
    kind: 'Sidecar',
    operation: 'UPDATE',
    oldObject: sidecar('shop', 'web', { selector: { app: 'web' } }),
  });
  t.equal(retargeted.code, 'LAST_SCOPING_SIDECAR', 'moving a workload Sidecar with no namespace-wide fallback');
  const hostsChanged = validate(sidecar('shop', 'default', { hosts: ['./*'] }), f, BUILT_IN_CONFIG, { kind: 'Sidecar', operation: 'UPDATE', oldObject: SCOPING });
  t.equal(hostsChanged.allowed, true, 'changing hosts to other scoping hosts is fine');
});

t.test('pods under a Sidecar whose egress imports the mesh by a wide suffix are not scoped', async (t) => {
  for (const host of ['*/*.local', '*/*.svc.cluster.local']) {
    const f = facts({ namespace: MESH_NS, sidecars: [sidecar('shop', 'default', { hosts: ['./*', host] })] });
    const outcome = validate(pod({ name: 'web', labels: { app: 'web' } }), f);
    t.same([outcome.allowed, outcome.code], [false, 'SIDECAR_NOT_SCOPING'], host);
    t.match(outcome.status?.message, `"${host}"`, 'the message names the host');
  }
});

t.test('the final istio-proxy container of a pod is held to the ceilings, whatever set its resources', async (t) => {
  const f = facts({ namespace: MESH_NS, sidecars: [SCOPING] });
  const sized = {
    'sidecar.istio.io/proxyCPU': '100m',
    'sidecar.istio.io/proxyCPULimit': '1000m',
    'sidecar.istio.io/proxyMemory': '128Mi',
    'sidecar.istio.io/proxyMemoryLimit': '256Mi',
  };
  // What Istio renders from our annotations: allowed.
  const rendered = injectedPod({ name: 'web', annotations: sized });
  const proxyOf = (p: Json) => ((p.spec as { containers: Json[] }).containers[1] as { resources: Json });
  proxyOf(rendered).resources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1000m', memory: '256Mi' } };
  t.equal(validate(rendered, f).allowed, true, 'the container Istio rendered from our annotations passes');

  // proxy.istio.io/overrides (or any other path) put 64Gi into the container: denied, though the annotations look fine.
  const overridden = injectedPod({ name: 'web', annotations: { ...sized, 'proxy.istio.io/overrides': '{"containers":[{"name":"istio-proxy","resources":{"limits":{"memory":"64Gi"}}}]}' } });
  proxyOf(overridden).resources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1000m', memory: '64Gi' } };
  const denied = validate(overridden, f);
  t.same([denied.allowed, denied.code], [false, 'ABOVE_CEILING']);
  t.match(denied.status?.message, /istio-proxy resources\.limits\.memory=64Gi is above the profile's ceiling maxMemoryLimit=512Mi: lower it, or ask for a larger profile/);

  const native = injectedPod({ name: 'web', native: true, annotations: sized });
  ((native.spec as { initContainers: Json[] }).initContainers[1] as { resources: Json }).resources = { limits: { memory: '64Gi' } };
  t.equal(validate(native, f).code, 'ABOVE_CEILING', 'a native sidecar in initContainers too');
});

t.test('a pod from generateName is named by its prefix and owner, never as ""', async (t) => {
  const generated = pod({ generateName: 'web-7d9f-', labels: { app: 'web' } }) as { metadata: Json };
  generated.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f', uid: 'u1', controller: true }];
  const outcome = validate(generated);
  t.equal(outcome.allowed, false);
  t.match(outcome.status?.message, /^Pod "web-7d9f-\*" of ReplicaSet "web-7d9f" runs an Istio sidecar/);
  t.notMatch(outcome.status?.message, /""/);
  const orphan = validate(pod({ generateName: 'debug-', labels: { app: 'debug' } }));
  t.match(orphan.status?.message, /^Pod "debug-\*" runs an Istio sidecar/);
});
