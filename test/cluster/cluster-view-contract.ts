/** The contract every ClusterView implementation passes (run by file- and watch-backed tests). */
import type { Test } from 'tap';
import type { ClusterView } from '../../src/cluster/cluster-view.js';
import { injectedPod, namespace, pod, sidecar, type Json } from '../support/builders.js';

export const CONTRACT_OBJECTS: Json[] = [
  namespace('shop', { 'istio-injection': 'enabled' }, { 'sidecar-guard.io/profile': 'large' }),
  namespace('tools'),
  sidecar('shop', 'default'),
  sidecar('shop', 'web', { selector: { app: 'web' }, hosts: ['./*'] }),
  sidecar('legacy', 'default', { apiVersion: 'networking.istio.io/v1beta1', hosts: ['*/*'] }),
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ignored', namespace: 'shop' }, data: {} },
  injectedPod({ name: 'web-1', namespace: 'tools', labels: { app: 'web', 'sidecar.istio.io/inject': 'true' } }),
  injectedPod({ name: 'both', namespace: 'tools', labels: { 'sidecar.istio.io/inject': 'false', 'istio.io/rev': 'canary' } }),
  pod({ name: 'api-1', namespace: 'tools', labels: { 'istio.io/rev': 'canary' } }),
  pod({ name: 'plain', namespace: 'tools', labels: { app: 'plain' } }),
];

export type ViewFactory = (t: Test, objects: Json[]) => Promise<ClusterView>;

export function clusterViewContract(t: Test, makeView: ViewFactory): void {
  t.test('namespaces: labels and annotations by name; unknown is undefined', async (t) => {
    const view = await makeView(t, CONTRACT_OBJECTS);
    t.ok(view.isSynced());
    t.same(view.namespace('shop')?.labels, { 'istio-injection': 'enabled' });
    t.same(view.namespace('shop')?.annotations, { 'sidecar-guard.io/profile': 'large' });
    t.same(view.namespace('tools')?.labels, {});
    t.equal(view.namespace('nope'), undefined);
  });

  t.test('sidecars by namespace, with selectors and hosts; empty where none', async (t) => {
    const view = await makeView(t, CONTRACT_OBJECTS);
    const shop = [...view.sidecars('shop')].sort((a, b) => a.name.localeCompare(b.name));
    t.same(shop.map((s) => [s.name, s.workloadSelector, s.egressHosts]), [
      ['default', undefined, ['./*', 'istio-system/*']],
      ['web', { app: 'web' }, ['./*']],
    ]);
    t.same(view.sidecars('legacy').map((s) => s.egressHosts), [['*/*']], 'v1beta1 Sidecars count');
    t.same(view.sidecars('tools'), []);
    t.same(view.sidecars('nope'), []);
  });

  t.test('opted-in pods by namespace: labels and gateway shape only; pods without an opt-in label or a proxy are not held', async (t) => {
    const view = await makeView(t, CONTRACT_OBJECTS);
    const tools = [...view.optedInPods('tools')].sort((a, b) => a.name.localeCompare(b.name));
    t.same(
      tools.map((p) => [p.namespace, p.name, p.labels, p.gatewayShaped]),
      [
        ['tools', 'both', { 'sidecar.istio.io/inject': 'false', 'istio.io/rev': 'canary' }, false],
        ['tools', 'web-1', { app: 'web', 'sidecar.istio.io/inject': 'true' }, false],
      ],
      'a pod with both labels once',
    );
    t.same(view.optedInPods('shop'), []);
    t.same(view.optedInPods('nope'), []);
  });
}
