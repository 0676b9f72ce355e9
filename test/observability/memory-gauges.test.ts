import t from 'tap';
import { Registry } from 'prom-client';
import { FileClusterView } from '../../src/cluster/file-cluster-view.js';
import { resolveConfig } from '../../src/config/load-config.js';
import { MEMORY_GAUGE_NAMESPACES, registerMemoryGauges } from '../../src/observability/memory-gauges.js';
import { namespace, sidecar, type Json } from '../support/builders.js';
import { service } from '../support/catalog-builders.js';

const MiB = 2 ** 20;
const config = resolveConfig({ sizing: { marginPercent: 0, model: { baseBytes: 0, perClusterBytes: MiB, perEndpointBytes: 0 } } });

t.test('predicted vs limit per namespace, for the largest only, and a count of those over', async (t) => {
  const objects: Json[] = [];
  // 30 mesh namespaces with one service each, all scoped to themselves except ns-0 (unscoped).
  for (let i = 0; i < 30; i++) {
    objects.push(namespace(`ns-${i}`, { 'istio-injection': 'enabled' }), service(`ns-${i}`, 'svc'));
    if (i > 0) objects.push(sidecar(`ns-${i}`, 'default', { hosts: ['./*'] }));
  }
  for (let i = 0; i < 300; i++) objects.push(service('big', `s-${i}`));
  objects.push(namespace('big'));
  const registry = new Registry();
  registerMemoryGauges(registry, FileClusterView.fromObjects(objects), () => config);
  const text = await registry.metrics();
  const predicted = text.split('\n').filter((l) => l.startsWith('sidecar_guard_predicted_proxy_memory_bytes{'));
  t.equal(predicted.length, MEMORY_GAUGE_NAMESPACES, 'bounded');
  // ns-0 imports all 330 services + 7 fixed clusters.
  t.ok(predicted.includes(`sidecar_guard_predicted_proxy_memory_bytes{workload_namespace="ns-0"} ${337 * MiB}`), predicted[0] ?? 'none');
  t.ok(text.includes(`sidecar_guard_proxy_memory_limit_bytes{workload_namespace="ns-0"} ${256 * MiB}`));
  t.ok(text.includes('sidecar_guard_namespaces_predicted_over_limit 1'), 'only ns-0 is over medium');
  t.notOk(text.includes('workload_namespace="big"'), 'a namespace outside the mesh is not reported');
});
