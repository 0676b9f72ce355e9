/**
 * Ways around the scope check that a tenant with edit rights in their own namespace tried,
 * each closed, shown through the real API server (its selectors, its UPDATE and DELETE calls).
 */
import t from 'tap';
import { auditEvents, cronJob, decisionCount, deployment, eventually, freshNamespace, getJson, kubectl, MESH, pod, settled, sidecar } from '../support.js';

const denied = (result: { code: number; stderr: string }, webhook: string) => result.code === 1 && result.stderr.includes(`admission webhook "${webhook}" denied the request`);

t.test('pods that opt in on their own in an unlabelled namespace reach the webhook and are denied without a Sidecar', async (t) => {
  const ns = freshNamespace(t, 'optin');
  const optIn = kubectl(['create', '-f', '-'], pod(ns, 'opt-in', {}, { 'sidecar.istio.io/inject': 'true' }));
  t.ok(denied(optIn, 'pod-inject.pods.validate.sidecar-guard.io'), `label sidecar.istio.io/inject=true: ${optIn.stderr}`);
  t.match(optIn.stderr, 'the pod has label sidecar.istio.io/inject=true');
  const revision = kubectl(['create', '-f', '-'], pod(ns, 'rev', {}, { 'istio.io/rev': 'canary' }));
  t.ok(denied(revision, 'pod-revision.pods.validate.sidecar-guard.io'), `label istio.io/rev: ${revision.stderr}`);
  const plain = kubectl(['create', '-f', '-'], pod(ns, 'plain'));
  t.equal(plain.code, 0, 'a pod that does not opt in is not touched');
  t.same(getJson<{ metadata: { annotations?: object } }>(['get', 'pod', 'plain', '-n', ns]).metadata.annotations ?? {}, {});

  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0, 'a Sidecar in an unlabelled namespace with no opted-in pod is allowed');
  const sized = await eventually('the opted-in pod is admitted and sized once the Sidecar is seen', () => {
    const result = kubectl(['create', '-f', '-'], pod(ns, 'opt-in', {}, { 'sidecar.istio.io/inject': 'true' }));
    return result.code === 0 ? result : undefined;
  });
  t.equal(sized.value.code, 0);
  const annotations = getJson<{ metadata: { annotations: Record<string, string> } }>(['get', 'pod', 'opt-in', '-n', ns]).metadata.annotations;
  t.equal(annotations['sidecar.istio.io/proxyMemoryLimit'], '256Mi', 'sized through pod-inject.pods.mutate');
});

t.test('controllers whose pod template opts in on its own are denied at apply time in an unlabelled namespace', async (t) => {
  const ns = freshNamespace(t, 'optinctl');
  const optIn = kubectl(['apply', '-f', '-'], deployment(ns, 'web', {}, { 'sidecar.istio.io/inject': 'true' }));
  t.ok(denied(optIn, 'pod-opt-in.workloads.validate.sidecar-guard.io'), `template label sidecar.istio.io/inject=true: ${optIn.stderr}`);
  t.match(optIn.stderr, 'the pod has label sidecar.istio.io/inject=true');
  const revision = kubectl(['apply', '-f', '-'], cronJob(ns, 'nightly', { 'istio.io/rev': 'canary' }));
  t.ok(denied(revision, 'pod-opt-in.workloads.validate.sidecar-guard.io'), `a CronJob's job template with istio.io/rev: ${revision.stderr}`);
  const optedOut = kubectl(['apply', '-f', '-'], deployment(ns, 'batch', {}, { 'istio.io/rev': 'canary', 'sidecar.istio.io/inject': 'false' }));
  t.equal(optedOut.code, 0, `istio.io/rev with inject=false is not injected, so not judged: ${optedOut.stderr}`);
  const plain = kubectl(['apply', '-f', '-'], deployment(ns, 'plain'));
  t.equal(plain.code, 0, `a controller whose template does not opt in is not sent: ${plain.stderr}`);
  const scaled = kubectl(['scale', 'deployment', 'plain', '-n', ns, '--replicas=3']);
  t.equal(scaled.code, 0, 'a scale is not a template change');
  await settled();
  const before = await decisionCount();
  t.equal(kubectl(['set', 'env', 'deployment/plain', '-n', ns, 'FEATURE=on']).code, 0, 'a pod template change');
  t.equal(await decisionCount(), before, 'a template that does not opt in never reaches the webhook, even when it changes');
  const turnedOn = kubectl(['patch', 'deployment', 'plain', '-n', ns, '--type=merge', '-p', '{"spec":{"template":{"metadata":{"labels":{"sidecar.istio.io/inject":"true"}}}}}']);
  t.ok(denied(turnedOn, 'pod-opt-in.workloads.validate.sidecar-guard.io'), `opting the template in later is judged too: ${turnedOn.stderr}`);
});

t.test('label inject=yes with annotation inject=false is injected by Istio, so it is checked', async (t) => {
  const ns = freshNamespace(t, 'labelyes', MESH);
  const result = kubectl(['create', '-f', '-'], pod(ns, 'sneaky', { 'sidecar.istio.io/inject': 'false', 'sidecar.istio.io/proxyMemoryLimit': '64Gi' }, { 'sidecar.istio.io/inject': 'yes' }));
  t.equal(result.code, 1);
  t.match(result.stderr, /admission webhook "injection\.pods\.(mutate|validate)\.sidecar-guard\.io" denied the request/);
  t.equal(kubectl(['get', 'pod', 'sneaky', '-n', ns]).code, 1, 'not stored');
});

t.test('Sidecar changes that would unscope running pods are denied', async (t) => {
  const ns = freshNamespace(t, 'unscope', MESH);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'decoy', ['./*'], { app: 'nothing-has-this' })).code, 0);
  await eventually('both Sidecars are seen', () => {
    const result = kubectl(['delete', 'sidecar', 'default', '-n', ns, '--dry-run=server']);
    return result.code !== 0 ? result : undefined;
  });

  const del = kubectl(['delete', 'sidecar', 'default', '-n', ns]);
  t.ok(denied(del, 'injection.sidecars.validate.sidecar-guard.io'), `deleting the namespace-wide Sidecar next to a decoy: ${del.stderr}`);
  t.match(del.stderr, 'no other selector-less Sidecar that limits egress would remain');

  const selectorAdded = kubectl(['apply', '-f', '-'], sidecar(ns, 'default', ['./*', 'istio-system/*'], { app: 'nothing-has-this' }));
  t.ok(denied(selectorAdded, 'injection.sidecars.validate.sidecar-guard.io'), `adding a workloadSelector to the namespace-wide Sidecar: ${selectorAdded.stderr}`);

  const noEgress = kubectl(['apply', '-f', '-'], {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name: 'web', namespace: ns },
    spec: { workloadSelector: { labels: { app: 'web' } }, outboundTrafficPolicy: { mode: 'ALLOW_ANY' } },
  });
  t.ok(denied(noEgress, 'injection.sidecars.validate.sidecar-guard.io'), `a selector Sidecar with no egress: ${noEgress.stderr}`);
  t.match(noEgress.stderr, 'declares no egress hosts');

  for (const host of ['*/*.svc.cluster.local', '*/*.cluster.local', '*/*.local']) {
    const wide = kubectl(['apply', '-f', '-'], sidecar(ns, 'api', ['./*', host], { app: 'api' }));
    t.ok(denied(wide, 'injection.sidecars.validate.sidecar-guard.io'), `egress host ${host}: ${wide.stderr}`);
  }
  const dropEgress = kubectl(['patch', 'sidecar', 'default', '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/spec/egress"}]']);
  t.ok(denied(dropEgress, 'injection.sidecars.validate.sidecar-guard.io'), `removing the egress of the namespace-wide Sidecar: ${dropEgress.stderr}`);
  t.same(getJson<{ spec: { egress: unknown[] } }>(['get', 'sidecar', 'default', '-n', ns]).spec.egress.length, 1, 'still scoped as before');
});

interface StoredPod {
  metadata: { labels?: Record<string, string> };
  spec: { containers: { name: string }[]; initContainers?: { name: string }[] };
}

const runsProxy = (stored: StoredPod) => [...stored.spec.containers, ...(stored.spec.initContainers ?? [])].some((c) => c.name === 'istio-proxy');

t.test('Sidecar changes in an unlabelled namespace are judged by their effect on the pods that opted in there', async (t) => {
  const webhook = 'pod-opt-in.sidecars.validate.sidecar-guard.io';
  const ns = freshNamespace(t, 'optinsc');
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  await eventually('the opted-in pod is admitted once the Sidecar is seen', () => kubectl(['create', '-f', '-'], pod(ns, 'web', {}, { 'sidecar.istio.io/inject': 'true' })).code === 0);
  t.ok(runsProxy(getJson<StoredPod>(['get', 'pod', 'web', '-n', ns])), "Istio's injector gave it a proxy");

  // The label-selected pod watch must deliver the pod before a Sidecar change can be judged by it.
  const seen = await eventually('the cluster view holds the opted-in pod', () => {
    const probe = kubectl(['delete', 'sidecar', 'default', '-n', ns, '--dry-run=server']);
    return probe.code !== 0 ? probe : undefined;
  });
  t.ok(denied(seen.value, webhook), `deleting the Sidecar over the pod (dry run): ${seen.value.stderr}`);

  const del = kubectl(['delete', 'sidecar', 'default', '-n', ns]);
  t.ok(denied(del, webhook), `deleting the namespace-wide Sidecar: ${del.stderr}`);
  t.match(del.stderr, 'Pod "web"');
  t.match(del.stderr, 'opted in to injection on its own');
  const wide = kubectl(['apply', '-f', '-'], sidecar(ns, 'default', ['*/*']));
  t.ok(denied(wide, webhook), `widening it to */*: ${wide.stderr}`);
  t.match(wide.stderr, 'Pod "web"');
  const noEgress = kubectl(['apply', '-f', '-'], {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name: 'web', namespace: ns },
    spec: { workloadSelector: { labels: { app: 'web' } }, outboundTrafficPolicy: { mode: 'ALLOW_ANY' } },
  });
  t.ok(denied(noEgress, webhook), `a no-egress selector Sidecar matching the pod: ${noEgress.stderr}`);
  t.match(noEgress.stderr, 'Pod "web"');
  t.same(getJson<{ spec: { egress: { hosts: string[] }[] } }>(['get', 'sidecar', 'default', '-n', ns]).spec.egress[0]?.hosts, ['./*', 'istio-system/*'], 'still scoped as before');
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'other', ['*/*'], { app: 'not-web' })).code, 0, 'a */* Sidecar that selects no opted-in pod is allowed');

  // Leaving the view in two steps: the value may change (the pod stays watched), the key may not go.
  const toFalse = kubectl(['label', 'pod', 'web', '-n', ns, 'sidecar.istio.io/inject=false', '--overwrite']);
  t.equal(toFalse.code, 0, `inject=true → "false" keeps the pod in view: ${toFalse.stderr}`);
  const gone = kubectl(['label', 'pod', 'web', '-n', ns, 'sidecar.istio.io/inject-']);
  t.ok(denied(gone, 'pod-inject.pods.validate.sidecar-guard.io'), `dropping the last opt-in label (sent because the old object carries the key): ${gone.stderr}`);
  t.match(gone.stderr, 'drop its last opt-in label');
  const viaStatus = kubectl(['patch', 'pod', 'web', '-n', ns, '--subresource=status', '--type=merge', '-p', '{"metadata":{"labels":{"sidecar.istio.io/inject":null}}}']);
  t.ok(denied(viaStatus, 'pod-inject.pods.validate.sidecar-guard.io'), `the same through pods/status, which can rewrite labels too: ${viaStatus.stderr}`);
  t.equal(getJson<StoredPod>(['get', 'pod', 'web', '-n', ns]).metadata.labels?.['sidecar.istio.io/inject'], 'false');
  const stillDenied = kubectl(['delete', 'sidecar', 'default', '-n', ns]);
  t.ok(denied(stillDenied, webhook), `after the relabel the Sidecar is still guarded: ${stillDenied.stderr}`);

  t.equal(kubectl(['create', '-f', '-'], pod(ns, 'opted-out', {}, { 'sidecar.istio.io/inject': 'false', 'istio.io/rev': 'canary' })).code, 0);
  const created = await eventually('the CREATE is in the audit log', () => auditEvents(ns, 'opted-out', 'pods').find((e) => e.verb === 'create' && e.stage === 'ResponseComplete'));
  t.same(
    Object.keys(created.value.annotations ?? {}).filter((key) => key.includes('sidecar-guard.io/')),
    [],
    'a pod CREATE Istio does not inject is kept away by matchConditions, though its labels match the wider selector',
  );
});

/** The decision and reason the unlabelled namespaces' Sidecar entry recorded for one request, from the audit log. */
async function sidecarDecision(ns: string, name: string, verb: string) {
  const entry = 'pod-opt-in.sidecars.validate.sidecar-guard.io';
  const event = await eventually(`the ${verb} of Sidecar ${name} is in the audit log`, () =>
    auditEvents(ns, name, 'sidecars').find((e) => e.verb === verb && e.stage === 'ResponseComplete'),
  );
  return [event.value.annotations?.[`${entry}/decision`], event.value.annotations?.[`${entry}/reason`]];
}

t.test('the same Sidecar changes in an unlabelled namespace with no opted-in pod are allowed', async (t) => {
  const ns = freshNamespace(t, 'optinnone');
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  t.equal(kubectl(['create', '-f', '-'], pod(ns, 'web')).code, 0, 'a pod that does not opt in: no proxy');
  t.equal(kubectl(['create', '-f', '-'], pod(ns, 'out', {}, { 'sidecar.istio.io/inject': 'false' })).code, 0, 'an opted-out pod: in view, no proxy');
  const noEgress = kubectl(['apply', '-f', '-'], {
    apiVersion: 'networking.istio.io/v1',
    kind: 'Sidecar',
    metadata: { name: 'web', namespace: ns },
    spec: { workloadSelector: { labels: { app: 'web' } }, outboundTrafficPolicy: { mode: 'ALLOW_ANY' } },
  });
  t.equal(noEgress.code, 0, `a no-egress selector Sidecar: ${noEgress.stderr}`);
  const wide = kubectl(['apply', '-f', '-'], sidecar(ns, 'default', ['*/*']));
  t.equal(wide.code, 0, `widening to */*: ${wide.stderr}`);
  const del = kubectl(['delete', 'sidecar', 'default', '-n', ns]);
  t.equal(del.code, 0, `deleting: ${del.stderr}`);
  t.same(await sidecarDecision(ns, 'web', 'create'), ['allowed', 'SIDECAR_OK'], 'the CREATE was sent and judged, not skipped');
  t.same(await sidecarDecision(ns, 'default', 'patch'), ['allowed', 'SIDECAR_OK'], 'the UPDATE too');
  t.same(await sidecarDecision(ns, 'default', 'delete'), ['allowed', 'SIDECAR_OK'], 'the DELETE too');
});
