/** Sidecar hygiene and namespace selection, as the real API server reports them. */
import t from 'tap';
import { decisionCount, deployment, eventually, freshNamespace, getJson, kubectl, MESH, pod, settled, sidecar } from '../support.js';

function sidecarDenial(stderr: string, code: string): boolean {
  return stderr.includes('admission webhook "injection.sidecars.validate.sidecar-guard.io" denied the request') && stderr.includes(code);
}

t.test('deleting the last Sidecar of a meshed namespace is denied; with another scoping one it is allowed', async (t) => {
  const ns = freshNamespace(t, 'lastsc', MESH);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  await eventually('the view sees the Sidecar', () => kubectl(['apply', '--dry-run=server', '-f', '-'], deployment(ns, 'web')).code === 0);
  const denied = kubectl(['delete', 'sidecar', 'default', '-n', ns]);
  t.equal(denied.code, 1);
  t.ok(sidecarDenial(denied.stderr, 'LAST_SCOPING_SIDECAR') || /last/i.test(denied.stderr), denied.stderr);
  t.equal(kubectl(['get', 'sidecar', 'default', '-n', ns]).code, 0, 'still there');
});

t.test("deleting a meshed namespace is not blocked by the last-Sidecar rule: the namespace controller removes its Sidecar and the namespace goes", async (t) => {
  const ns = freshNamespace(t, 'nsgone', MESH);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  await eventually('the view sees the Sidecar', () => kubectl(['apply', '--dry-run=server', '-f', '-'], deployment(ns, 'web')).code === 0);
  const alone = kubectl(['delete', 'sidecar', 'default', '-n', ns]);
  t.ok(sidecarDenial(alone.stderr, 'with no Sidecar that limits egress'), `on its own, the last Sidecar stays: ${alone.stderr}`);
  t.equal(kubectl(['delete', 'namespace', ns, '--wait=false']).code, 0);
  await eventually('kube-controller-manager to finish deleting the namespace', () => kubectl(['get', 'namespace', ns]).code !== 0, 60_000, 250);
  t.pass(`namespace ${ns} is gone, its Sidecar with it`);
});

t.test('a Sidecar with a */* egress host is denied', async (t) => {
  const ns = freshNamespace(t, 'wild', MESH);
  const denied = kubectl(['apply', '-f', '-'], sidecar(ns, 'default', ['*/*']));
  t.equal(denied.code, 1);
  t.match(denied.stderr, 'Error from server (Forbidden)');
  t.match(denied.stderr, 'admission webhook "injection.sidecars.validate.sidecar-guard.io" denied the request');
  t.equal(kubectl(['get', 'sidecars', '-n', ns, '-o', 'name']).stdout.trim(), '');
});

t.test('a second selector-less Sidecar in a namespace is denied', async (t) => {
  const ns = freshNamespace(t, 'dup', MESH);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'first')).code, 0);
  const second = await eventually('the second Sidecar is judged against the first', () => {
    const result = kubectl(['apply', '-f', '-'], sidecar(ns, 'second'));
    return result.code !== 0 ? result : undefined;
  });
  t.match(second.value.stderr, 'admission webhook "injection.sidecars.validate.sidecar-guard.io" denied the request');
  t.equal(kubectl(['get', 'sidecar', 'second', '-n', ns]).code, 1);
});

t.test('labelling a namespace into the mesh brings its workloads under the rule', async (t) => {
  const ns = freshNamespace(t, 'join');
  const before = kubectl(['apply', '-f', '-'], deployment(ns, 'web'));
  t.equal(before.code, 0, 'outside the mesh: admitted');
  t.equal(kubectl(['create', '-f', '-'], pod(ns, 'p')).code, 0);
  t.same(getJson<{ metadata: { annotations?: object } }>(['get', 'pod', 'p', '-n', ns]).metadata.annotations ?? {}, {}, 'outside the mesh: untouched');

  t.equal(kubectl(['label', 'namespace', ns, 'istio-injection=enabled']).code, 0);
  const after = await eventually('the label reaches the webhook', () => {
    const result = kubectl(['apply', '-f', '-'], deployment(ns, 'api'));
    return result.code !== 0 ? result : undefined;
  });
  t.match(after.value.stderr, `Deployment "api" runs an Istio sidecar (namespace ${ns} has istio-injection=enabled)`);
});

t.test('a namespace with istio.io/rev is in the mesh; istio-injection=disabled keeps it out', async (t) => {
  const rev = freshNamespace(t, 'rev', { 'istio.io/rev': 'canary' });
  t.equal(kubectl(['apply', '-f', '-'], deployment(rev, 'web')).code, 1, 'revision label: in the mesh');
  const disabled = freshNamespace(t, 'disabled', { 'istio.io/rev': 'canary', 'istio-injection': 'disabled' });
  t.equal(kubectl(['apply', '-f', '-'], deployment(disabled, 'web')).code, 0, 'istio-injection=disabled wins');
});

t.test('kube-system is never sent to the webhook, even when labelled for injection', async (t) => {
  t.teardown(() => {
    kubectl(['label', 'namespace', 'kube-system', 'istio-injection-']);
    kubectl(['delete', 'pod', 'sg-e2e-probe', '-n', 'kube-system', '--ignore-not-found', '--wait=false']);
  });
  t.equal(kubectl(['label', 'namespace', 'kube-system', 'istio-injection=enabled', '--overwrite']).code, 0);
  // A meshed namespace's pod moves the counter: the probe below would have been seen.
  const ns = freshNamespace(t, 'count', MESH);
  await settled();
  const start = await decisionCount();
  kubectl(['create', '-f', '-'], pod(ns, 'p'));
  const afterMeshed = await decisionCount();
  t.ok(afterMeshed > start, `a meshed pod is counted (${start} → ${afterMeshed})`);

  const created = kubectl(['create', '-f', '-'], pod('kube-system', 'sg-e2e-probe'));
  t.equal(created.code, 0, created.stderr);
  t.equal(await decisionCount(), afterMeshed, 'no request reached sidecar-guard for kube-system');
  t.same(getJson<{ metadata: { annotations?: object } }>(['get', 'pod', 'sg-e2e-probe', '-n', 'kube-system']).metadata.annotations ?? {}, {});
});
