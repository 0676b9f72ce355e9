import t from 'tap';
import { decideMeshMembership, isGatewayPod, isMeshNamespace } from '../../src/policy/mesh-membership.js';
import { membershipViewOf, podTemplateOf } from '../../src/policy/workload-view.js';
import { injectedPod, pod, type PodOptions } from '../support/builders.js';

const view = (options: PodOptions) => podTemplateOf({ group: '', kind: 'Pod' }, pod(options))!;

const cases: { name: string; ns?: string; nsLabels: Record<string, string>; pod: PodOptions; meshed: boolean; code: string }[] = [
  { name: 'namespace istio-injection=enabled meshes its pods', nsLabels: { 'istio-injection': 'enabled' }, pod: {}, meshed: true, code: 'NAMESPACE_INJECTION' },
  { name: 'namespace istio.io/rev meshes its pods', nsLabels: { 'istio.io/rev': 'canary' }, pod: {}, meshed: true, code: 'NAMESPACE_REVISION' },
  { name: 'istio-injection=disabled beats istio.io/rev', nsLabels: { 'istio-injection': 'disabled', 'istio.io/rev': 'canary' }, pod: {}, meshed: false, code: 'NOT_IN_MESH' },
  { name: 'istio-injection=enabled wins over istio.io/rev', nsLabels: { 'istio-injection': 'enabled', 'istio.io/rev': 'canary' }, pod: {}, meshed: true, code: 'NAMESPACE_INJECTION' },
  { name: 'an unlabelled namespace is not in the mesh', nsLabels: {}, pod: {}, meshed: false, code: 'NOT_IN_MESH' },
  { name: 'pod label inject=false opts out', nsLabels: { 'istio-injection': 'enabled' }, pod: { labels: { 'sidecar.istio.io/inject': 'false' } }, meshed: false, code: 'POD_OPTED_OUT' },
  { name: 'pod annotation inject=false still opts out', nsLabels: { 'istio-injection': 'enabled' }, pod: { annotations: { 'sidecar.istio.io/inject': 'false' } }, meshed: false, code: 'POD_OPTED_OUT' },
  {
    name: 'the label wins over the annotation when both are set',
    nsLabels: { 'istio-injection': 'enabled' },
    pod: { labels: { 'sidecar.istio.io/inject': 'true' }, annotations: { 'sidecar.istio.io/inject': 'false' } },
    meshed: true,
    code: 'NAMESPACE_INJECTION',
  },
  // Istio's injectRequired: a label present with any value replaces the annotation; only exact "true"/"false" count.
  ...['yes', '', 'True', 'on', 'FALSE'].map((value) => ({
    name: `label inject=${JSON.stringify(value)} hides annotation inject=false: injected by the namespace default`,
    nsLabels: { 'istio-injection': 'enabled' },
    pod: { labels: { 'sidecar.istio.io/inject': value }, annotations: { 'sidecar.istio.io/inject': 'false' } },
    meshed: true,
    code: 'NAMESPACE_INJECTION',
  })),
  { name: 'annotation inject=False (not exactly false) does not opt out', nsLabels: { 'istio-injection': 'enabled' }, pod: { annotations: { 'sidecar.istio.io/inject': 'False' } }, meshed: true, code: 'NAMESPACE_INJECTION' },
  { name: 'label inject=yes does not opt in in an unlabelled namespace (the webhook selector wants "true")', nsLabels: {}, pod: { labels: { 'sidecar.istio.io/inject': 'yes' } }, meshed: false, code: 'NOT_IN_MESH' },
  { name: 'pod label inject=true opts in in an unlabelled namespace', nsLabels: {}, pod: { labels: { 'sidecar.istio.io/inject': 'true' } }, meshed: true, code: 'POD_OPTED_IN' },
  { name: 'pod annotation inject=true does not opt in (selectors read labels)', nsLabels: {}, pod: { annotations: { 'sidecar.istio.io/inject': 'true' } }, meshed: false, code: 'NOT_IN_MESH' },
  { name: 'pod label inject=true does not override a disabled namespace', nsLabels: { 'istio-injection': 'disabled' }, pod: { labels: { 'sidecar.istio.io/inject': 'true' } }, meshed: false, code: 'NOT_IN_MESH' },
  { name: 'pod label istio.io/rev opts in in an unlabelled namespace', nsLabels: {}, pod: { labels: { 'istio.io/rev': 'canary' } }, meshed: true, code: 'POD_REVISION' },
  { name: 'hostNetwork pods are never injected', nsLabels: { 'istio-injection': 'enabled' }, pod: { hostNetwork: true }, meshed: false, code: 'HOST_NETWORK' },
  ...['kube-system', 'kube-public', 'kube-node-lease', 'local-path-storage'].map((ns) => ({
    name: `${ns} is never injected`,
    ns,
    nsLabels: { 'istio-injection': 'enabled' },
    pod: {},
    meshed: false,
    code: 'IGNORED_NAMESPACE',
  })),
  { name: 'ambient namespace pods are not meshed', nsLabels: { 'istio.io/dataplane-mode': 'ambient' }, pod: {}, meshed: false, code: 'AMBIENT' },
  { name: 'ambient pod label alone is not meshed', nsLabels: {}, pod: { labels: { 'istio.io/dataplane-mode': 'ambient' } }, meshed: false, code: 'AMBIENT' },
  {
    name: 'sidecar injection wins over ambient on the same namespace',
    nsLabels: { 'istio.io/dataplane-mode': 'ambient', 'istio-injection': 'enabled' },
    pod: {},
    meshed: true,
    code: 'NAMESPACE_INJECTION',
  },
  { name: 'an unknown inject value falls back to the namespace policy', nsLabels: { 'istio-injection': 'enabled' }, pod: { labels: { 'sidecar.istio.io/inject': 'yes' } }, meshed: true, code: 'NAMESPACE_INJECTION' },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const membership = decideMeshMembership(view(c.pod), c.ns ?? 'shop', c.nsLabels);
    t.equal(membership.meshed, c.meshed);
    t.equal(membership.code, c.code);
  });
}

t.test('the light membership view (labels and annotations that decide it, istio-proxy only) gives the full view\'s answer', async (t) => {
  const POD = { group: '', kind: 'Pod' };
  const pods = [
    ...cases.map((c) => ({ object: pod(c.pod), ns: c.ns ?? 'shop', nsLabels: c.nsLabels })),
    ...[{}, { native: true }, { annotations: { 'sidecar.istio.io/inject': 'false' } }, { labels: { 'sidecar.istio.io/inject': 'true' } }].flatMap((options) =>
      ([{}, { 'istio-injection': 'enabled' }, { 'istio-injection': 'disabled' }] as Record<string, string>[]).map((nsLabels) => ({ object: injectedPod(options), ns: 'shop', nsLabels })),
    ),
    // Values of the wrong type read as absent in both views.
    { object: { metadata: { labels: { 'sidecar.istio.io/inject': false, 'istio.io/rev': 1 }, annotations: { 'sidecar.istio.io/inject': null } }, spec: { containers: [{ name: 'istio-proxy' }, 'x', { name: 3 }] } }, ns: 'shop', nsLabels: {} },
  ];
  for (const { object, ns, nsLabels } of pods) {
    const light = membershipViewOf(POD, object)!;
    t.same(decideMeshMembership(light, ns, nsLabels), decideMeshMembership(podTemplateOf(POD, object)!, ns, nsLabels));
  }
  t.equal(membershipViewOf({ group: 'apps', kind: 'Service' }, {}), undefined, 'no view for kinds without pods');
});

t.test('a pod with an istio-proxy container is meshed wherever it is', async (t) => {
  const injected = podTemplateOf({ group: '', kind: 'Pod' }, injectedPod())!;
  t.equal(decideMeshMembership(injected, 'shop', {}).code, 'ALREADY_INJECTED');
  const native = podTemplateOf({ group: '', kind: 'Pod' }, injectedPod({ native: true }))!;
  t.equal(decideMeshMembership(native, 'shop', {}).meshed, true, 'native sidecar in initContainers');
});

t.test("an injected pod is told why Istio injected it (validation runs after Istio's injector)", async (t) => {
  const inNamespace = podTemplateOf({ group: '', kind: 'Pod' }, injectedPod())!;
  t.match(decideMeshMembership(inNamespace, 'shop', { 'istio-injection': 'enabled' }), { meshed: true, code: 'NAMESPACE_INJECTION', reason: 'namespace shop has istio-injection=enabled' });
  const optedIn = podTemplateOf({ group: '', kind: 'Pod' }, injectedPod({ labels: { 'sidecar.istio.io/inject': 'true' } }))!;
  t.match(decideMeshMembership(optedIn, 'shop', {}), { meshed: true, code: 'POD_OPTED_IN', reason: 'the pod has label sidecar.istio.io/inject=true' });
  const byHandOptedOut = podTemplateOf({ group: '', kind: 'Pod' }, injectedPod({ annotations: { 'sidecar.istio.io/inject': 'false' } }))!;
  t.match(decideMeshMembership(byHandOptedOut, 'shop', { 'istio-injection': 'enabled' }), { meshed: true, code: 'ALREADY_INJECTED' }, 'a proxy put there by hand still runs');
});

t.test('gateway pods', async (t) => {
  t.ok(isGatewayPod(view({ annotations: { 'inject.istio.io/templates': 'gateway' } })), 'gateway template');
  t.ok(isGatewayPod(view({ annotations: { 'inject.istio.io/templates': 'sidecar, gateway' } })), 'gateway among templates');
  t.ok(isGatewayPod(view({ containers: [{ name: 'istio-proxy', image: 'auto' }] })), 'only container is a declared istio-proxy');
  t.notOk(isGatewayPod(view({})), 'an app pod');
  t.notOk(isGatewayPod(podTemplateOf({ group: '', kind: 'Pod' }, injectedPod())!), 'an injected app pod');
});

t.test('isMeshNamespace', async (t) => {
  t.ok(isMeshNamespace({ 'istio-injection': 'enabled' }));
  t.ok(isMeshNamespace({ 'istio.io/rev': 'default' }));
  t.notOk(isMeshNamespace({ 'istio-injection': 'disabled', 'istio.io/rev': 'default' }));
  t.notOk(isMeshNamespace({}));
});
