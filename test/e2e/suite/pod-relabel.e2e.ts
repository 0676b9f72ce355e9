/**
 * A running pod relabelled away from a selector Sidecar's workloadSelector would escape its scope
 * (istiod re-pushes its configuration with no admission call). Shown through the real API server:
 * the chart's matchConditions send a pod UPDATE only when its labels change, its objectSelectors
 * match the old object too, and mutation never sees a pod UPDATE.
 */
import t from 'tap';
import { decisionCount, eventually, freshNamespace, getJson, kubectl, MESH, ownLabels, sidecar, startIsolatedWebhook, warnings } from '../support.js';

const denied = (result: { code: number; stderr: string }, webhook: string) => result.code === 1 && result.stderr.includes(`admission webhook "${webhook}" denied the request`);

/** A pod as Istio's injector leaves it: an istio-proxy container and the status annotation. */
function proxyPod(namespace: string, name: string, labels: Record<string, string>) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels, annotations: { 'sidecar.istio.io/status': '{"containers":["istio-proxy"]}' } },
    spec: {
      containers: [
        { name: 'app', image: 'registry.example/app:1.0' },
        { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.26.0' },
      ],
    },
  };
}

/** The pod's labels less those Istio's injector added on creation. */
const labelsOf = (namespace: string, name: string) => ownLabels(getJson<{ metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } }>(['get', 'pod', name, '-n', namespace]).metadata);

async function createWhenSeen(what: string, manifest: object) {
  const result = await eventually(what, () => {
    const attempt = kubectl(['create', '-f', '-'], manifest);
    return attempt.code === 0 ? attempt : undefined;
  });
  return result.value;
}

t.test('relabelling a pod out of its selector Sidecar is denied; relabels that stay scoped are not', async (t) => {
  const ns = freshNamespace(t, 'relabel', MESH);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'web', ['./*', 'istio-system/*'], { app: 'web' })).code, 0, 'a selector Sidecar only');
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'api', ['./*', 'istio-system/*'], { app: 'api' })).code, 0);
  await createWhenSeen('the pod is admitted once its Sidecar is seen', proxyPod(ns, 'web-1', { app: 'web' }));

  const away = kubectl(['label', 'pod', 'web-1', '-n', ns, 'app=other', '--overwrite']);
  t.ok(denied(away, 'injection.pod-updates.validate.sidecar-guard.io'), `relabelled away: ${away.stderr}`);
  t.match(away.stderr, `Pod "web-1" runs an istio-proxy scoped by Sidecar ${ns}/web, and the new labels (app=web→other) would take it out`);
  t.match(away.stderr, `namespace "${ns}" has no Sidecar that applies to it`);
  const removed = kubectl(['label', 'pod', 'web-1', '-n', ns, 'app-']);
  t.ok(denied(removed, 'injection.pod-updates.validate.sidecar-guard.io'), `label removed: ${removed.stderr}`);
  t.same(labelsOf(ns, 'web-1'), { app: 'web' }, 'the stored pod keeps its labels');

  const added = kubectl(['label', 'pod', 'web-1', '-n', ns, 'tier=frontend']);
  t.equal(added.code, 0, `a label added next to the selected one: ${added.stderr}`);
  const moved = kubectl(['label', 'pod', 'web-1', '-n', ns, 'app=api', '--overwrite']);
  t.equal(moved.code, 0, `into another scoping Sidecar's selector: ${moved.stderr}`);
  t.same(labelsOf(ns, 'web-1'), { app: 'api', tier: 'frontend' });
});

t.test('only label changes reach the webhook, and only the validating one', async (t) => {
  // Its own webhook process: the shared one's counters also move with other namespaces' requests.
  const ns = freshNamespace(t, 'relabelonly', { ...MESH, 'sidecar-guard.io/ignore': 'true' });
  const webhook = await startIsolatedWebhook(t, ns);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  await createWhenSeen('the pod is admitted once the Sidecar is seen', proxyPod(ns, 'web-1', { app: 'web' }));
  const validating = () => decisionCount({ webhook: 'validate' }, webhook);
  const mutating = () => decisionCount({ webhook: 'mutate' }, webhook);
  const [validateBefore, mutateBefore] = [await validating(), await mutating()];

  t.equal(kubectl(['annotate', 'pod', 'web-1', '-n', ns, 'example.com/note=hello']).code, 0);
  t.equal(await validating(), validateBefore, 'an annotation-only update is kept away by matchConditions');
  t.equal(kubectl(['label', 'pod', 'web-1', '-n', ns, 'tier=frontend']).code, 0);
  t.equal(await validating(), validateBefore + 1, 'a label change is sent, to one entry');
  t.equal(await mutating(), mutateBefore, 'mutation is never called on a pod UPDATE');
});

t.test('a pod that opted in on its own is still sent when the relabel drops its opt-in label', async (t) => {
  const ns = freshNamespace(t, 'relabeloptin');
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'web', ['./*', 'istio-system/*'], { app: 'web' })).code, 0);
  await createWhenSeen('the opted-in pod is admitted once its Sidecar is seen', proxyPod(ns, 'web-1', { app: 'web', 'sidecar.istio.io/inject': 'true' }));
  // The object no longer matches the pod-inject objectSelector; the old object does, and that is enough.
  const escape = kubectl(['label', 'pod', 'web-1', '-n', ns, 'sidecar.istio.io/inject-', 'app=other', '--overwrite']);
  t.ok(denied(escape, 'pod-inject.pods.validate.sidecar-guard.io'), `dropping the opt-in label on the way out: ${escape.stderr}`);
  t.same(labelsOf(ns, 'web-1'), { app: 'web', 'sidecar.istio.io/inject': 'true' });
});

t.test('operators relabel freely pods that have no proxy or were not scoped; audit mode warns', async (t) => {
  const ns = freshNamespace(t, 'relabelops', { ...MESH, 'sidecar-guard.io/mode': 'audit' });
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'web', ['./*', 'istio-system/*'], { app: 'web' })).code, 0);
  await createWhenSeen('the scoped pod is admitted once its Sidecar is seen', proxyPod(ns, 'web-1', { app: 'web' }));
  t.equal(kubectl(['create', '-f', '-'], proxyPod(ns, 'legacy', { app: 'legacy' })).code, 0, 'audit mode admits an unscoped pod');
  const noProxy = { ...proxyPod(ns, 'plain', { app: 'web', 'sidecar.istio.io/inject': 'false' }), spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }] } };
  t.equal(kubectl(['create', '-f', '-'], noProxy).code, 0, 'an opted-out pod without a proxy');

  const audited = kubectl(['label', 'pod', 'web-1', '-n', ns, 'app=api', '--overwrite']);
  t.equal(audited.code, 0, 'audit mode lets the relabel through');
  t.match(warnings(audited).join('\n'), 'sidecar-guard: [audit] enforce would deny: relabelling (app=web→api) takes the pod out of Sidecar');
  t.equal(kubectl(['label', 'pod', 'web-1', '-n', ns, 'app=web', '--overwrite']).code, 0, 'and back under its Sidecar');

  t.equal(kubectl(['label', 'namespace', ns, 'sidecar-guard.io/mode-']).code, 0, 'the admin switches the namespace to enforce');
  await eventually('the webhook enforces in the namespace', () => {
    const probe = kubectl(['label', 'pod', 'web-1', '-n', ns, 'app=api', '--overwrite', '--dry-run=server']);
    return denied(probe, 'injection.pod-updates.validate.sidecar-guard.io') ? probe : undefined;
  });
  const unscoped = kubectl(['label', 'pod', 'legacy', '-n', ns, 'app=legacy-2', '--overwrite']);
  t.equal(unscoped.code, 0, `a pod that was not scoped before is not blocked: ${unscoped.stderr}`);
  const plain = kubectl(['label', 'pod', 'plain', '-n', ns, 'app=other', '--overwrite']);
  t.equal(plain.code, 0, `a pod without a proxy is not blocked: ${plain.stderr}`);
});
