/** The contract every ClusterView implementation passes (run by file- and watch-backed tests). */
import type { Test } from 'tap';
import type { ClusterView } from '../../src/cluster/cluster-view.js';
import { namespace, sidecar, type Json } from '../support/builders.js';

export const CONTRACT_OBJECTS: Json[] = [
  namespace('shop', { 'istio-injection': 'enabled' }, { 'sidecar-guard.io/profile': 'large' }),
  namespace('tools'),
  sidecar('shop', 'default'),
  sidecar('shop', 'web', { selector: { app: 'web' }, hosts: ['./*'] }),
  sidecar('legacy', 'default', { apiVersion: 'networking.istio.io/v1beta1', hosts: ['*/*'] }),
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ignored', namespace: 'shop' }, data: {} },
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
}
