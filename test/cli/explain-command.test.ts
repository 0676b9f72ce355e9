import t from 'tap';
import { applyJsonPatch } from '../support/apply-patch.js';
import { runCli } from '../support/run-cli.js';
import type { JsonPatchOperation } from '../../src/admission/patch.js';

interface Explanation {
  webhook: string;
  subject: string;
  allowed: boolean;
  reason: string;
  profile?: string;
  profileReason?: string;
  patch: JsonPatchOperation[];
  after?: unknown;
  warnings: string[];
  auditAnnotations: Record<string, string>;
}

const POD = `
apiVersion: v1
kind: Pod
metadata:
  name: batch-worker
  namespace: batch-nightly
  labels: {app: worker}
  annotations: {sidecar.istio.io/proxyMemory: 100Mi}
spec:
  containers: [{name: worker, image: worker:1}]
`;

t.test('explain shows each webhook, the profile and why, the patch and the object after it', async (t) => {
  const { code, stdout, stderr } = await runCli(['explain', '-f', '-', '--cluster-state', 'examples/cluster', '-o', 'json'], { stdin: POD });
  t.equal(code, 0, stderr);
  const [validate, mutate] = JSON.parse(stdout) as Explanation[];
  t.same([validate?.webhook, validate?.allowed, validate?.reason], ['validate', true, 'SCOPED']);
  t.same([mutate?.webhook, mutate?.profile, mutate?.profileReason], ['mutate', 'small', 'profile "small" from rules[2]']);
  const original = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'batch-worker', namespace: 'batch-nightly', labels: { app: 'worker' }, annotations: { 'sidecar.istio.io/proxyMemory': '100Mi' } }, spec: { containers: [{ name: 'worker', image: 'worker:1' }] } };
  t.same(applyJsonPatch(original, mutate?.patch ?? []), mutate?.after, 'the after object is the patch applied');
  t.equal((mutate?.after as { metadata: { annotations: Record<string, string> } }).metadata.annotations['sidecar.istio.io/proxyMemory'], '100Mi', 'explicit value kept');
  t.equal(mutate?.auditAnnotations.decision, 'patched');
});

t.test('explain a denied Deployment: text output names the violation; exit 1', async (t) => {
  const { code, stdout } = await runCli(['explain', '-f', 'examples/audit/mesh-apps.yaml']);
  t.equal(code, 1);
  t.match(stdout, /Deployment\/bookinfo\/productpage-v1 {2}\[validate\]\n {2}decision: DENIED \(denied, reason MISSING_SIDECAR, mode enforce\)/);
  t.match(stdout, /Pod from Deployment\/bookinfo\/productpage-v1 {2}\[mutate\]/);
  t.match(stdout, /Sidecar\/batch-reports\/everything {2}\[validate\]\n {2}decision: DENIED \(denied, reason SIDECAR_WILDCARD_EGRESS/);
});

t.test('explain needs -f (usage, 2) and something to explain (nothing to check, 4)', async (t) => {
  const noFile = await runCli(['explain']);
  t.equal(noFile.code, 2);
  t.match(noFile.stderr, /-f FILE is required/);
  const empty = await runCli(['explain', '-f', '-'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' });
  t.equal(empty.code, 4);
  t.match(empty.stderr, /no Pod, workload controller or Sidecar in -: nothing to explain/);
});

t.test('-o takes text, json or yaml only', async (t) => {
  const bogus = await runCli(['explain', '-f', '-', '-o', 'bogus'], { stdin: 'apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: []}\n' });
  t.equal(bogus.code, 2);
  t.match(bogus.stderr, /argument 'bogus' is invalid\. Allowed choices are text, json, yaml/);
  t.equal(bogus.stdout, '', 'nothing printed as if it were text');
});
