/** Audit mode and exemptions as kubectl and the audit log show them. */
import t from 'tap';
import { auditEvents, deployment, freshNamespace, getJson, kubectl, MESH, pod, warnings, ownAnnotations } from '../support.js';

t.test('audit mode: kubectl prints the warnings, the objects are stored unchanged, the audit log has the annotations', async (t) => {
  const ns = freshNamespace(t, 'audit', { ...MESH, 'sidecar-guard.io/mode': 'audit' });
  const applied = kubectl(['apply', '-f', '-'], deployment(ns, 'web'));
  t.equal(applied.code, 0, applied.stderr);
  const shown = warnings(applied);
  t.equal(shown.length, 1, `one warning: ${applied.stderr}`);
  t.match(shown[0], /^sidecar-guard: \[audit\] enforce would deny: /);

  const created = kubectl(['create', '-f', '-'], pod(ns, 'p'));
  t.equal(created.code, 0, created.stderr);
  t.ok(warnings(created).some((w) => w.startsWith('sidecar-guard: [audit] enforce would set proxyCPU=100m')), created.stderr);
  t.ok(warnings(created).some((w) => w.startsWith('sidecar-guard: [audit] enforce would deny')), 'the pod is reported too');
  const stored = getJson<{ metadata: { annotations?: Record<string, string> } }>(['get', 'pod', 'p', '-n', ns]);
  t.same(ownAnnotations(stored.metadata.annotations), {}, 'audit mode never patches');

  const deploymentEvent = auditEvents(ns, 'web', 'deployments').find((e) => e.verb === 'create' && e.stage === 'ResponseComplete');
  t.equal(deploymentEvent?.annotations?.['injection.workloads.validate.sidecar-guard.io/decision'], 'would-deny');
  t.equal(deploymentEvent?.annotations?.['injection.workloads.validate.sidecar-guard.io/mode'], 'audit');
  t.match(deploymentEvent?.annotations?.['injection.workloads.validate.sidecar-guard.io/would-deny'] ?? '', /^MISSING_SIDECAR: /);
  const podEvent = auditEvents(ns, 'p', 'pods').find((e) => e.verb === 'create' && e.stage === 'ResponseComplete');
  t.match(podEvent?.annotations?.['injection.pods.mutate.sidecar-guard.io/would-patch'] ?? '', /proxyMemory=128Mi/);
  t.equal(podEvent?.annotations?.['injection.pods.validate.sidecar-guard.io/decision'], 'would-deny');
});

t.test('enforce mode: a denial is recorded in the audit log with its reason', async (t) => {
  const ns = freshNamespace(t, 'auditdeny', MESH);
  t.equal(kubectl(['apply', '-f', '-'], deployment(ns, 'web')).code, 1);
  const event = auditEvents(ns, 'web', 'deployments').find((e) => e.verb === 'create' && e.stage === 'ResponseComplete');
  t.equal(event?.responseStatus?.code, 403);
  t.equal(event?.annotations?.['injection.workloads.validate.sidecar-guard.io/decision'], 'denied');
  t.equal(event?.annotations?.['injection.workloads.validate.sidecar-guard.io/reason'], 'MISSING_SIDECAR');
});

const EXEMPT = {
  'sidecar-guard.io/exempt': 'scope',
  'sidecar-guard.io/exempt-reason': 'migrating to ambient, INFRA-1234',
};

t.test('a namespace exemption admits the workload, with its warning and audit annotation', async (t) => {
  const ns = freshNamespace(t, 'exempt', MESH, EXEMPT);
  const applied = kubectl(['apply', '-f', '-'], deployment(ns, 'web'));
  t.equal(applied.code, 0, applied.stderr);
  t.ok(warnings(applied).some((w) => /^sidecar-guard: .*exempt/i.test(w) && w.includes('INFRA-1234')), applied.stderr);
  const event = auditEvents(ns, 'web', 'deployments').find((e) => e.verb === 'create' && e.stage === 'ResponseComplete');
  t.match(event?.annotations?.['injection.workloads.validate.sidecar-guard.io/exemption'] ?? '', /scope/);
});

t.test('a workload may not exempt itself where the config does not allow it: denied, and told why', async (t) => {
  const ns = freshNamespace(t, 'selfexempt', MESH);
  const denied = kubectl(['apply', '-f', '-'], deployment(ns, 'web', EXEMPT));
  t.equal(denied.code, 1);
  t.match(denied.stderr, 'denied the request');
  t.ok(warnings(denied).some((w) => /exemption/i.test(w) && /not honoured|refused|not allowed/i.test(w)), `the refusal is explained: ${denied.stderr}`);
  const event = auditEvents(ns, 'web', 'deployments').find((e) => e.verb === 'create' && e.stage === 'ResponseComplete');
  t.ok(event?.annotations?.['injection.workloads.validate.sidecar-guard.io/exemption-refused'], 'exemption-refused in the audit log');
});
