/** Denial on apply, the Sidecar from the message, mutation as stored, dry run: through kubectl. */
import t from 'tap';
import { parse } from 'yaml';
import { auditEvents, deployment, freshNamespace, getJson, kubectl, MESH, pod, sidecar, warnings, ownAnnotations } from '../support.js';

const PROXY_ANNOTATIONS = ['sidecar.istio.io/proxyCPU', 'sidecar.istio.io/proxyCPULimit', 'sidecar.istio.io/proxyMemory', 'sidecar.istio.io/proxyMemoryLimit'];

interface Stored {
  metadata: { annotations?: Record<string, string>; resourceVersion: string; uid: string };
}

t.test('a Deployment in a meshed namespace without a Sidecar is denied with the Sidecar to apply; applying it lets the Deployment in', async (t) => {
  const ns = freshNamespace(t, 'deny', MESH);
  const denied = kubectl(['apply', '-f', '-'], deployment(ns, 'web'));
  t.equal(denied.code, 1, 'kubectl exits 1');
  t.match(denied.stderr, /^Error from server \(Forbidden\): error when creating "STDIN": admission webhook "injection\.workloads\.validate\.sidecar-guard\.io" denied the request: /);
  t.match(denied.stderr, `Deployment "web" runs an Istio sidecar (namespace ${ns} has istio-injection=enabled), and namespace "${ns}" has no Sidecar that applies to it`);
  t.equal(kubectl(['get', 'deployment', 'web', '-n', ns]).code, 1, 'nothing stored');

  const manifestText = denied.stderr.split('\n---\n')[1];
  t.ok(manifestText, 'the message carries a manifest after ---');
  const manifest = parse(manifestText ?? '') as { kind: string; metadata: { namespace: string }; spec: { egress: { hosts: string[] }[] } };
  t.equal(manifest.kind, 'Sidecar');
  t.equal(manifest.metadata.namespace, ns);
  t.same(manifest.spec.egress[0]?.hosts, ['./*', 'istio-system/*']);

  const applied = kubectl(['apply', '-f', '-'], manifestText);
  t.equal(applied.code, 0, `the Sidecar from the message applies as is: ${applied.stderr}`);
  // The webhook's view follows the watch; allow it a moment.
  let admitted = kubectl(['apply', '-f', '-'], deployment(ns, 'web'));
  for (let i = 0; i < 20 && admitted.code !== 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    admitted = kubectl(['apply', '-f', '-'], deployment(ns, 'web'));
  }
  t.equal(admitted.code, 0, `re-applying the Deployment succeeds: ${admitted.stderr}`);
  t.match(admitted.stdout, 'deployment.apps/web created');
});

t.test('kubectl apply --dry-run=server gives the same verdict and stores nothing', async (t) => {
  const ns = freshNamespace(t, 'dryrun', MESH);
  const dry = kubectl(['apply', '--dry-run=server', '-f', '-'], deployment(ns, 'web'));
  const real = kubectl(['apply', '-f', '-'], deployment(ns, 'web'));
  t.equal(dry.code, 1);
  t.equal(real.code, 1);
  const message = (r: { stderr: string }) => r.stderr.replace(/^Error from server \(Forbidden\): error when creating "STDIN": /, '');
  t.equal(message(dry), message(real), 'same denial text');

  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  const dryPod = kubectl(['apply', '--dry-run=server', '-o', 'json', '-f', '-'], pod(ns, 'p'));
  t.equal(dryPod.code, 0, dryPod.stderr);
  const shown = JSON.parse(dryPod.stdout) as Stored;
  t.equal(shown.metadata.annotations?.['sidecar.istio.io/proxyMemory'], '128Mi', 'the dry run shows the mutation');
  t.equal(kubectl(['get', 'pod', 'p', '-n', ns]).code, 1, 'the dry-run pod is not stored');
});

t.test('a Pod is stored with exactly the four proxy annotations of its profile, and a second apply changes nothing', async (t) => {
  const ns = freshNamespace(t, 'mutate', MESH);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  const own = { 'team.example/owner': 'payments', 'sidecar.istio.io/proxyMemory': '96Mi' };
  let created = kubectl(['apply', '-f', '-'], pod(ns, 'p', own));
  for (let i = 0; i < 20 && created.code !== 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    created = kubectl(['apply', '-f', '-'], pod(ns, 'p', own));
  }
  t.equal(created.code, 0, created.stderr);
  const stored = getJson<Stored>(['get', 'pod', 'p', '-n', ns]);
  const annotations = stored.metadata.annotations ?? {};
  t.same(
    ownAnnotations(annotations),
    {
      'team.example/owner': 'payments',
      'sidecar.istio.io/proxyMemory': '96Mi',
      'sidecar.istio.io/proxyCPU': '100m',
      'sidecar.istio.io/proxyCPULimit': '1000m',
      'sidecar.istio.io/proxyMemoryLimit': '256Mi',
      'sidecar-guard.io/applied-profile': 'medium',
    },
    "the profile fills the gaps, the pod's own value and annotation are kept, nothing else is added",
  );
  for (const key of PROXY_ANNOTATIONS) t.ok(annotations[key], `${key} is stored`);

  const again = kubectl(['apply', '-f', '-'], pod(ns, 'p', own));
  t.equal(again.code, 0, again.stderr);
  // kubectl says "configured" on an injected pod: its three-way merge sends only
  // {"$setElementOrder/containers":[{"name":"app"}]} because Istio appended istio-proxy. The
  // resourceVersion shows that nothing was written.
  t.match(again.stdout, /^pod\/p (unchanged|configured)$/m);
  t.equal(getJson<Stored>(['get', 'pod', 'p', '-n', ns]).metadata.resourceVersion, stored.metadata.resourceVersion, 'no write at all');

  // The patch really came from the API server applying ours: the audit log says so.
  const events = auditEvents(ns, 'p', 'pods').filter((e) => e.verb === 'create' && e.stage === 'ResponseComplete');
  t.equal(events.length, 1);
  const annotationsOfEvent = events[0]?.annotations ?? {};
  t.equal(annotationsOfEvent['injection.pods.mutate.sidecar-guard.io/decision'], 'patched');
  t.match(annotationsOfEvent['mutation.webhook.admission.k8s.io/round_0_index_0'] ?? '', /"mutated":true/);
});

t.test('a pod whose proxy annotations are already set passes with no patch', async (t) => {
  const ns = freshNamespace(t, 'idem', MESH);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  const full = {
    'sidecar.istio.io/proxyCPU': '100m',
    'sidecar.istio.io/proxyCPULimit': '1000m',
    'sidecar.istio.io/proxyMemory': '128Mi',
    'sidecar.istio.io/proxyMemoryLimit': '256Mi',
    'sidecar-guard.io/applied-profile': 'medium',
  };
  let created = kubectl(['create', '-f', '-'], pod(ns, 'p', full));
  for (let i = 0; i < 20 && created.code !== 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    created = kubectl(['create', '-f', '-'], pod(ns, 'p', full));
  }
  t.equal(created.code, 0, created.stderr);
  t.same(ownAnnotations(getJson<Stored>(['get', 'pod', 'p', '-n', ns]).metadata.annotations), full);
  const event = auditEvents(ns, 'p', 'pods').find((e) => e.verb === 'create' && e.stage === 'ResponseComplete');
  t.match(event?.annotations?.['mutation.webhook.admission.k8s.io/round_0_index_0'] ?? '', /"mutated":false/, 'the API server saw no patch');
  t.same(warnings(created), []);
});
