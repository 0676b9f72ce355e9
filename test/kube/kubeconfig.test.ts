import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { stringify } from 'yaml';
import { ClusterAccessError, clusterFailure, networkProblem } from '../../src/kube/cluster-access.js';
import { resolveKubeConfig } from '../../src/kube/kubeconfig.js';

const notInCluster = () => false;

function kubeconfig(server: string, extra: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'dev',
    clusters: [{ name: 'c', cluster: { server, ...extra } }],
    users: [{ name: 'u', user: { token: 't' } }],
    contexts: [{ name: 'dev', context: { cluster: 'c', user: 'u' } }],
  });
}

t.test('no kubeconfig anywhere: says what was tried and what to do (not client-node\'s "HTTP protocol is not allowed")', async (t) => {
  const home = t.testdir();
  t.throws(() => resolveKubeConfig({ env: {}, home, inCluster: notInCluster }), new ClusterAccessError(
    `no kubeconfig found: tried ${join(home, '.kube', 'config')} (no such file; KUBECONFIG is not set) and the in-cluster service account (not running in a pod). Pass --kubeconfig FILE or set KUBECONFIG`,
  ));
  t.throws(() => resolveKubeConfig({ env: { KUBECONFIG: '/nope/a:/nope/b' }, home, inCluster: notInCluster }), { message: /tried KUBECONFIG=\/nope\/a:\/nope\/b \(no such file\)/ });
});

t.test('a kubeconfig that cannot work is refused with the file and the fix', async (t) => {
  const dir = t.testdir({ broken: 'clusters: [\n', http: kubeconfig('http://localhost:8080'), nocontext: stringify({ apiVersion: 'v1', kind: 'Config', clusters: [] }), good: kubeconfig('https://10.0.0.1:6443') });
  t.throws(() => resolveKubeConfig({ kubeconfigPath: join(dir, 'missing') }), { message: `--kubeconfig ${join(dir, 'missing')}: no such file: pass the path of a kubeconfig (kubectl config view --raw --minify > FILE writes one)` });
  t.throws(() => resolveKubeConfig({ kubeconfigPath: join(dir, 'broken') }), { message: /--kubeconfig .*broken is not a usable kubeconfig: .*Check it with kubectl config view$/ });
  t.throws(() => resolveKubeConfig({ kubeconfigPath: join(dir, 'http') }), { message: /server http:\/\/localhost:8080 is plain HTTP, which the Kubernetes client refuses; use the API server's https:\/\/ address/ });
  t.throws(() => resolveKubeConfig({ kubeconfigPath: join(dir, 'nocontext') }), { message: /has no current context with a cluster: pick one with kubectl config use-context NAME/ });
  const { kubeConfig, origin } = resolveKubeConfig({ kubeconfigPath: join(dir, 'good') });
  t.same([kubeConfig.getCurrentCluster()?.server, origin], ['https://10.0.0.1:6443', `--kubeconfig ${join(dir, 'good')}`]);
});

t.test('network and TLS failures name the server, where it came from and what to do', async (t) => {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfig('https://10.0.0.1:6443'));
  // client-node's FetchError carries Node's code itself; node:https errors may nest it as the cause.
  const refused = Object.assign(new Error('request to https://10.0.0.1:6443/apis failed, reason: connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  t.equal(clusterFailure(refused, kc, '~/.kube/config').message, 'cannot reach the Kubernetes API server https://10.0.0.1:6443 (from ~/.kube/config, context dev): connection refused (nothing listens there). Check that the cluster is up and that this is the kubeconfig you meant (kubectl cluster-info tries the same)');
  const wrapped = new Error('cannot list networking.istio.io/v1 Sidecars: …', { cause: Object.assign(new Error('x'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }) });
  t.match(clusterFailure(wrapped, kc, 'x').message, /not signed by the kubeconfig's certificate-authority/);
  t.match(clusterFailure(new Error('HTTP 403: forbidden'), kc, 'x').message, /^HTTP 403: forbidden \(API server https:\/\/10\.0\.0\.1:6443 \(from x, context dev\)\)$/);
  t.equal(networkProblem(new Error('plain')), undefined);
});
