import t from 'tap';
import { hasOptInLabel, toPodFacts } from '../../src/policy/pod-facts.js';
import { injectedPod, pod } from '../support/builders.js';

t.test('a pod with an opt-in label is reduced to namespace, name, labels, proxy and gateway shape', async (t) => {
  const injected = injectedPod({ name: 'web-1', namespace: 'shop', labels: { app: 'web', 'sidecar.istio.io/inject': 'true' }, annotations: { big: 'x'.repeat(1000) } });
  t.same(toPodFacts(injected), { namespace: 'shop', name: 'web-1', labels: { app: 'web', 'sidecar.istio.io/inject': 'true' }, gatewayShaped: false }, 'no annotations or spec kept');
  t.equal(toPodFacts(injectedPod({ name: 'n', namespace: 'shop', labels: { 'istio.io/rev': 'canary' }, native: true }))?.name, 'n', 'a native sidecar counts');
  t.equal(toPodFacts(pod({ name: 'p', namespace: 'shop', labels: { 'sidecar.istio.io/inject': 'true' } })), undefined, 'no istio-proxy (not injected, or hostNetwork): nothing a Sidecar applies to, not kept');
  const gateway = pod({ name: 'gw', namespace: 'istio-ingress', labels: { 'sidecar.istio.io/inject': 'true' }, annotations: { 'inject.istio.io/templates': 'gateway' }, containers: [{ name: 'istio-proxy', image: 'auto' }] });
  t.equal(toPodFacts(gateway)?.gatewayShaped, true);
  t.equal(toPodFacts(injectedPod({ name: 'p', labels: { 'istio.io/rev': '' } }), 'dflt')?.namespace, 'dflt', 'any value counts, even empty; the namespace defaults');
});

t.test('anything else is not a fact', async (t) => {
  t.equal(toPodFacts(injectedPod({ name: 'p', namespace: 'shop', labels: { app: 'web' } })), undefined, 'no opt-in label');
  t.equal(toPodFacts(injectedPod({ namespace: 'shop', labels: { 'istio.io/rev': 'x' } })), undefined, 'no name');
  t.equal(toPodFacts(injectedPod({ name: 'p', labels: { 'istio.io/rev': 'x' } })), undefined, 'no namespace and no default');
  t.equal(toPodFacts({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 's', labels: { 'istio.io/rev': 'x' } } }), undefined, 'not a Pod');
  for (const junk of [null, 'pod', 7, [], { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', namespace: 's', labels: 'x' } }]) t.equal(toPodFacts(junk), undefined);
  t.notOk(hasOptInLabel({ 'sidecar.istio.io/injectx': 'true', 'istio.io/revision': 'a' }), 'exact keys only');
  t.notOk(hasOptInLabel(Object.create({ 'istio.io/rev': 'inherited' }) as Record<string, string>), 'own keys only');
});
