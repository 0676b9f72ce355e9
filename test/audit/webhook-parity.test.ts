import t from 'tap';
import { auditCluster } from '../../src/audit/audit.js';
import { createInputFor, findWorkloads } from '../../src/audit/workloads.js';
import { FileClusterView, readManifests } from '../../src/cluster/file-cluster-view.js';
import { BUILT_IN_CONFIG } from '../../src/config/load-config.js';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { NOW } from '../support/builders.js';

t.test('the webhook and the audit command give the same verdicts on the same inputs', async (t) => {
  const objects = await readManifests(['examples/audit/mesh-apps.yaml']);
  const view = FileClusterView.fromObjects(objects);
  const workloads = findWorkloads(objects, 'default');
  const report = auditCluster({ workloads, view, namespaces: [], config: BUILT_IN_CONFIG, now: NOW });
  const app = buildApp({ config: () => BUILT_IN_CONFIG, view, metrics: createMetrics({ defaultMetrics: false }), now: () => NOW, readiness: () => ({ ready: true }) });
  t.ok(workloads.length >= 6);
  for (const workload of workloads) {
    const input = createInputFor(workload);
    const body = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { ...input, requestKind: input.kind } };
    const answer = (await app.inject({ method: 'POST', url: '/validate', payload: body })).json();
    const audited = report.workloads.find((w) => w.kind === workload.kind && w.name === workload.name);
    const validateCodes = audited?.codes.filter((c) => c !== 'UNKNOWN_PROFILE') ?? [];
    t.equal(answer.response.allowed, audited?.verdict === 'pass', `${workload.kind}/${workload.name} allowed`);
    if (!answer.response.allowed) t.equal(answer.response.auditAnnotations.reason, validateCodes[0], `${workload.kind}/${workload.name} reason`);
  }
});
