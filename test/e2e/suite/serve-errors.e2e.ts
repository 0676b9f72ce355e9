/**
 * `serve` against the real API server with the wrong identity or address: it keeps running, logs what it
 * tried and what to do, keeps retrying, and /readyz fails (/healthz passes) until the cluster can be used.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { writeKubeconfig } from '../harness/control-plane.js';
import { E2E_DIR } from '../harness/environment.js';
import { freePort } from '../harness/processes.js';
import { serviceAccountKubeconfig } from '../harness/webhook.js';
import { environment } from '../support.js';
import { getHttps } from '../../support/https-client.js';

interface Problem {
  level: number;
  server: string;
  problem: string;
}

/** Starts serve, waits for its URL and its first "cannot use the cluster" log line. */
async function serveUntilProblem(t: Test, kubeconfig: string, certDir: string): Promise<{ url: string; problem: Problem; logs: string[] }> {
  const child = spawn(process.execPath, ['dist/cli/main.js', 'serve', '--port', '0', '--host', '127.0.0.1', '--kubeconfig', kubeconfig, '--cert-dir', certDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const logs: string[] = [];
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    let problem: Problem | undefined;
    const timer = setTimeout(() => reject(new Error(`no URL or problem logged:\n${logs.join('\n')}`)), 60_000);
    const onData = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter((l) => l !== '')) {
        logs.push(line);
        url ??= /"url":"(https:\/\/[^"]+)"/.exec(line)?.[1];
        if (problem === undefined && line.includes('cannot use the cluster yet')) problem = JSON.parse(line) as Problem;
      }
      if (url !== undefined && problem !== undefined) {
        clearTimeout(timer);
        resolve({ url, problem, logs });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${logs.join('\n')}`)));
  });
}

async function probes(t: Test, url: string, certDir: string): Promise<void> {
  const ca = readFileSync(join(certDir, 'ca.crt'), 'utf8');
  t.equal((await getHttps(url, '/healthz', { ca })).status, 200, '/healthz passes: the process is fine');
  const ready = await getHttps(url, '/readyz', { ca });
  t.equal(ready.status, 503, '/readyz fails: no traffic until the cluster can be used');
  t.match(ready.body, /cluster view not synced/);
}

t.test('an identity without the chart RBAC: the API server message and what to grant, retried, not ready', async (t) => {
  const state = environment();
  const dir = join(E2E_DIR, 'errors');
  mkdirSync(dir, { recursive: true });
  const kubeconfig = serviceAccountKubeconfig(dir, state.apiserverUrl, state.caCertFile, state.caKeyFile, 'nobody', 'nobody');
  const certDir = join(E2E_DIR, 'errors-certs');
  const { url, problem } = await serveUntilProblem(t, kubeconfig, certDir);
  t.equal(problem.level, 50, 'logged as an error');
  t.match(problem.problem, /^cannot list networking\.istio\.io\/v1 Sidecars: HTTP 403: sidecars\.networking\.istio\.io is forbidden: User "system:serviceaccount:nobody:nobody" cannot list/);
  t.match(problem.problem, /grant the webhook's identity list and watch on namespaces and sidecars\.networking\.istio\.io/);
  t.notMatch(problem.problem, /Unknown API Status Code|Headers:|    at /);
  await probes(t, url, certDir);
});

t.test('an API server that is not there: naming the address, the kubeconfig and what to do, retried, not ready', async (t) => {
  const state = environment();
  const dir = join(E2E_DIR, 'errors');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const path = join(dir, 'nowhere.kubeconfig');
  const ca = readFileSync(state.caCertFile, 'utf8');
  writeKubeconfig(path, `https://127.0.0.1:${port}`, ca, 'nowhere', { cert: ca, key: readFileSync(state.caKeyFile, 'utf8') });
  const certDir = join(E2E_DIR, 'errors-certs');
  const { url, problem, logs } = await serveUntilProblem(t, path, certDir);
  t.equal(problem.server, `https://127.0.0.1:${port}`);
  t.match(problem.problem, `cannot reach the Kubernetes API server https://127.0.0.1:${port} (from --kubeconfig ${path}, context`);
  t.match(problem.problem, /connection refused/);
  t.notMatch(logs.join('\n'), /    at /, 'no stack trace');
  await probes(t, url, certDir);
});
