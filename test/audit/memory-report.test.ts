import t from 'tap';
import { auditCluster } from '../../src/audit/audit.js';
import { rankSavings } from '../../src/audit/memory-report.js';
import { renderReport } from '../../src/audit/render.js';
import { findWorkloads } from '../../src/audit/workloads.js';
import { FileClusterView } from '../../src/cluster/file-cluster-view.js';
import { resolveConfig } from '../../src/config/load-config.js';
import { NOW, controller, namespace, pod, sidecar, type Json } from '../support/builders.js';
import { service } from '../support/catalog-builders.js';

const MiB = 2 ** 20;
const config = resolveConfig({ sizing: { marginPercent: 0, model: { baseBytes: 0, perClusterBytes: MiB, perEndpointBytes: 0 } } });
const deployment = (ns: string, name: string, replicas: number): Json => {
  const object = controller('Deployment', name, pod({ labels: { app: name } }), ns);
  return { ...object, spec: { ...(object.spec as Json), replicas } };
};

t.test('audit predicts each meshed workload and ranks namespaces by what scoping would save across replicas', async (t) => {
  const objects: Json[] = [
    namespace('payments', { 'istio-injection': 'enabled' }),
    namespace('shop', { 'istio-injection': 'enabled' }),
    namespace('tools'),
    sidecar('shop', 'default', { hosts: ['./*'] }),
    service('payments', 'api'),
    service('shop', 'web'),
    deployment('payments', 'api', 24),
    deployment('payments', 'worker', 2),
    deployment('shop', 'web', 3),
    deployment('tools', 'job', 5),
  ];
  for (let i = 0; i < 120; i++) objects.push(service('other', `svc-${i}`));
  const view = FileClusterView.fromObjects(objects);
  const report = auditCluster({ workloads: findWorkloads(objects, 'default'), view, namespaces: [], config, now: NOW });
  const api = report.workloads.find((w) => w.name === 'api');
  // unscoped: 122 services + 7 fixed = 129 MiB; the suggested Sidecar (./*, istio-system/*) imports payments/api only: 8 MiB.
  t.same(
    api?.memory,
    { services: 122, clusters: 129, endpoints: 0, predictedBytes: 129 * MiB, limit: '256Mi', headroomBytes: 127 * MiB, overLimit: false, unscoped: true, replicas: 24, scopedBytes: 8 * MiB },
  );
  t.equal(report.workloads.find((w) => w.name === 'web')?.memory?.unscoped, false, 'shop is scoped');
  t.equal(report.workloads.find((w) => w.name === 'job')?.memory, undefined, 'not meshed: no prediction');
  t.same(report.scopingSavings, [{ namespace: 'payments', pods: 26, savedBytes: 26 * 121 * MiB }], 'only unscoped namespaces save; replicas multiply');
  const text = renderReport(report, 'table', false, config.scope.suggestedEgressHosts);
  t.match(text, /payments\/Deployment\/api: imports 122 services \/ 129 clusters \/ 0 endpoints; predicted 129 MiB, limit 256Mi/);
  t.match(text, /payments: ~3\.1 GiB across 26 pods/);
  t.match(text, /suggested Sidecar \(egress \.\/\*, istio-system\/\*\)/);
});

t.test('the ranking orders by saving and drops namespaces with nothing to save', async (t) => {
  const memory = (predictedBytes: number, scopedBytes: number | undefined, replicas: number) => ({
    services: 0, clusters: 0, endpoints: 0, predictedBytes, overLimit: false, unscoped: true, replicas, ...(scopedBytes !== undefined ? { scopedBytes } : {}),
  });
  t.same(
    rankSavings([
      { namespace: 'a', memory: memory(10, 5, 1) },
      { namespace: 'b', memory: memory(10, 5, 3) },
      { namespace: 'c', memory: memory(10, undefined, 9) },
      { namespace: 'a', memory: memory(20, 10, 2) },
    ]),
    [{ namespace: 'a', pods: 3, savedBytes: 25 }, { namespace: 'b', pods: 3, savedBytes: 15 }],
  );
});
