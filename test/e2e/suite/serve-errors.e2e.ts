/** `serve` against the real API server with the wrong identity or address: one clear line, exit 3 (src/cli/exit-codes.ts). */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { EXIT } from '../../../src/cli/exit-codes.js';
import { writeKubeconfig } from '../harness/control-plane.js';
import { E2E_DIR } from '../harness/environment.js';
import { freePort } from '../harness/processes.js';
import { serviceAccountKubeconfig } from '../harness/webhook.js';
import { environment } from '../support.js';
import { readFileSync } from 'node:fs';

function serve(kubeconfig: string) {
  return spawnSync(process.execPath, ['dist/cli/main.js', 'serve', '--port', '0', '--host', '127.0.0.1', '--kubeconfig', kubeconfig, '--cert-dir', join(E2E_DIR, 'errors-certs')], { encoding: 'utf8', timeout: 60_000 });
}

t.test('an identity without the chart RBAC: exit 3, the API server message and what to grant', async (t) => {
  const state = environment();
  const dir = join(E2E_DIR, 'errors');
  mkdirSync(dir, { recursive: true });
  const kubeconfig = serviceAccountKubeconfig(dir, state.apiserverUrl, state.caCertFile, state.caKeyFile, 'nobody', 'nobody');
  const result = serve(kubeconfig);
  t.equal(result.status, EXIT.CLUSTER, 'exit 3: the cluster cannot be used');
  const lines = result.stderr.trim().split('\n');
  t.equal(lines.length, 1, `one line: ${result.stderr}`);
  t.match(lines[0], /^sidecar-guard: cannot list networking\.istio\.io\/v1 Sidecars: HTTP 403: sidecars\.networking\.istio\.io is forbidden: User "system:serviceaccount:nobody:nobody" cannot list/);
  t.match(lines[0], /grant the webhook's identity list and watch on namespaces and sidecars\.networking\.istio\.io/);
  t.notMatch(result.stderr, /Unknown API Status Code|Headers:|    at /);
});

t.test('an API server that is not there: exit 3, naming the address, the kubeconfig and what to do', async (t) => {
  const state = environment();
  const dir = join(E2E_DIR, 'errors');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const path = join(dir, 'nowhere.kubeconfig');
  const ca = readFileSync(state.caCertFile, 'utf8');
  writeKubeconfig(path, `https://127.0.0.1:${port}`, ca, 'nowhere', { cert: ca, key: readFileSync(state.caKeyFile, 'utf8') });
  const result = serve(path);
  t.equal(result.status, EXIT.CLUSTER, 'exit 3: the cluster cannot be used');
  t.match(result.stderr, `cannot reach the Kubernetes API server https://127.0.0.1:${port} (from --kubeconfig ${path}, context`);
  t.match(result.stderr, /connection refused/);
  t.notMatch(result.stderr, /    at /, 'no stack trace');
});
