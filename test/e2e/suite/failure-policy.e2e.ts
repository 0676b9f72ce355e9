/** What the API server does when sidecar-guard is down, per failurePolicy, and after it returns. */
import t from 'tap';
import { freshNamespace, getJson, kubectl, MESH, pod, sidecar, startIsolatedWebhook, ownAnnotations } from '../support.js';

const ISOLATED = { ...MESH, 'sidecar-guard.io/ignore': 'true' };

t.test('failurePolicy Ignore: with the webhook down pods are admitted untouched; back up, it decides again', async (t) => {
  const ns = freshNamespace(t, 'ignore', ISOLATED);
  const webhook = await startIsolatedWebhook(t, ns, 'Ignore');
  t.equal(kubectl(['create', '-f', '-'], pod(ns, 'before')).code, 1, 'up: no Sidecar, denied');

  await webhook.stop();
  const admitted = kubectl(['create', '-f', '-'], pod(ns, 'down'));
  t.equal(admitted.code, 0, `down: admitted (${admitted.stderr})`);
  t.same(ownAnnotations(getJson<{ metadata: { annotations?: Record<string, string> } }>(['get', 'pod', 'down', '-n', ns]).metadata.annotations), {}, 'without the annotations');

  await webhook.restart();
  const again = kubectl(['create', '-f', '-'], pod(ns, 'after'));
  t.equal(again.code, 1, 'restarted on the same address: denied again, no change to the API server needed');
  t.match(again.stderr, `admission webhook "injection.pods.validate.sidecar-guard.io" denied the request`);
});

t.test('failurePolicy Fail: with the webhook down pods are refused with the API server\'s own error', async (t) => {
  const ns = freshNamespace(t, 'fail', ISOLATED);
  const webhook = await startIsolatedWebhook(t, ns, 'Fail');
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  let up = kubectl(['create', '-f', '-'], pod(ns, 'up'));
  for (let i = 0; i < 20 && up.code !== 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    up = kubectl(['create', '-f', '-'], pod(ns, 'up'));
  }
  t.equal(up.code, 0, up.stderr);

  await webhook.stop();
  const refused = kubectl(['create', '-f', '-'], pod(ns, 'down'));
  t.equal(refused.code, 1);
  t.match(refused.stderr, /Error from server \(InternalError\): error when creating "STDIN": Internal error occurred: failed calling webhook "injection\.pods\.mutate\.sidecar-guard\.io": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/mutate\?timeout=5s": dial tcp 127\.0\.0\.1:\d+: connect: connection refused/);

  await webhook.restart();
  t.equal(kubectl(['create', '-f', '-'], pod(ns, 'back')).code, 0, 'back to normal');
  t.equal(getJson<{ metadata: { annotations: Record<string, string> } }>(['get', 'pod', 'back', '-n', ns]).metadata.annotations['sidecar.istio.io/proxyMemory'], '128Mi');
});
