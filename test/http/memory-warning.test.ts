import t from 'tap';
import { FileClusterView } from '../../src/cluster/file-cluster-view.js';
import { resolveConfig } from '../../src/config/load-config.js';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { MESH_NS, NOW, controller, pod, review, sidecar, type Json } from '../support/builders.js';
import { service } from '../support/catalog-builders.js';

const MiB = 2 ** 20;
const config = resolveConfig({ sizing: { marginPercent: 0, model: { baseBytes: 0, perClusterBytes: MiB, perEndpointBytes: 0 } } });

t.test('through HTTP: the validating webhook answers with the memory warning and audit annotation', async (t) => {
  const objects: Json[] = [MESH_NS, sidecar('shop', 'default', { hosts: ['./*', 'other/*'] }), service('shop', 'web')];
  for (let i = 0; i < 300; i++) objects.push(service('other', `svc-${i}`));
  const view = FileClusterView.fromObjects(objects);
  const app = buildApp({ config: () => config, view, metrics: createMetrics({ defaultMetrics: false }), now: () => NOW, readiness: () => ({ ready: true }) });
  const res = await app.inject({ method: 'POST', url: '/validate', payload: review(controller('Deployment', 'web', pod({ labels: { app: 'web' } }))) });
  const response = res.json().response;
  t.equal(response.allowed, true);
  t.same(
    response.warnings.filter((w: string) => w.includes('predicted')),
    ['sidecar-guard: istio-proxy imports 301 services / 308 clusters / 0 endpoints; predicted 308 MiB; profile medium limits 256 MiB'],
  );
  t.equal(response.auditAnnotations['predicted-memory'], 'imports 301 services / 308 clusters / 0 endpoints; predicted 308 MiB; profile medium limits 256 MiB');
});
