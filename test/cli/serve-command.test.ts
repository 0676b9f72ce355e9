import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { X509Certificate } from 'node:crypto';
import { namespace, pod, review, sidecar } from '../support/builders.js';
import { eventually, eventuallyAsync } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { getHttps, postJson } from '../support/https-client.js';
import { runInProcess } from '../support/run-in-process.js';
import { spawnServe } from '../support/spawn-server.js';

async function tempDir(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-serve-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function getText(url: string, path: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpsGet(new URL(path, url), { ca }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
}

t.test('serve --cluster-state answers the examples over TLS and drains on SIGTERM', async (t) => {
  const certDir = await tempDir(t);
  const server = await spawnServe(['--cluster-state', 'examples/cluster', '--cert-dir', certDir, '--drain-delay-seconds', '1']);
  t.teardown(() => void server.child.kill('SIGKILL'));
  const ca = await readFile(join(certDir, 'ca.crt'), 'utf8');
  const body = JSON.parse(await readFile('examples/reviews/deployment-create-payments.json', 'utf8'));
  const denied = await postJson(server.url, '/validate', body, { ca });
  t.equal(JSON.parse(denied.body).response.allowed, false);
  const patched = await postJson(server.url, '/mutate', JSON.parse(await readFile('examples/reviews/pod-create-shop.json', 'utf8')), { ca });
  t.equal(JSON.parse(patched.body).response.patchType, 'JSONPatch');
  const served = new X509Certificate(await readFile(join(certDir, 'tls.crt'), 'utf8'));
  const scrape = await getText(server.url, '/metrics', ca);
  t.match(scrape, new RegExp(`^sidecar_guard_serving_certificate_expiry_timestamp_seconds\\{subject="[^"]*"\\} ${Date.parse(served.validTo) / 1000}$`, 'm'), 'the served certificate\'s expiry is exported');

  // Continuous requests on keep-alive connections while SIGTERM arrives: none in flight may fail.
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const failures: string[] = [];
  let answered = 0;
  let stopping = false;
  const worker = async () => {
    while (!stopping) {
      try {
        const answer = await postJson(server.url, '/validate', body, { ca, agent });
        if (answer.status !== 200) failures.push(`status ${answer.status}`);
        else answered += 1;
      } catch (error) {
        if (!stopping) failures.push(String(error));
        return;
      }
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  await eventually(() => answered >= 20, 'requests to flow');
  const before = answered;
  server.child.kill('SIGTERM');
  await eventually(() => server.logs.some((l) => l.includes('shutting down')), 'shutdown to start');
  await eventually(() => answered >= before + 10, 'requests during the drain delay to be answered');
  stopping = true;
  await Promise.all(workers);
  agent.destroy();
  t.same(failures, [], 'no request failed while draining');
  t.equal(await server.exited, 0, 'exits cleanly');
  t.ok(server.logs.some((l) => l.includes('"msg":"stopped"')));
});

t.test('serve watches a live cluster (kubeconfig) and manages its certificate in a Secret', async (t) => {
  const api = await new FakeApiServer().start();
  t.teardown(() => api.stop());
  api.put(namespace('shop', { 'istio-injection': 'enabled' }));
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    api.put({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind,
      metadata: { name: kind === 'MutatingWebhookConfiguration' ? '00-sidecar-guard' : 'sidecar-guard' },
      webhooks: [{ name: 'pods.sidecar-guard.io', clientConfig: { service: { name: 'sidecar-guard', namespace: 'sidecar-guard' } }, sideEffects: 'None', admissionReviewVersions: ['v1'] }],
    });
  }
  const dir = await tempDir(t);
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  await writeFile(
    kubeconfig,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'me', user: { token: 'x' } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'me' } }],
      'current-context': 'fake',
    }),
  );
  const server = await spawnServe(['--kubeconfig', kubeconfig, '--tls-mode', 'self-managed', '--drain-delay-seconds', '0'], {
    SIDECAR_GUARD_MUTATING_WEBHOOK_CONFIGURATION: '00-sidecar-guard',
    SIDECAR_GUARD_VALIDATING_WEBHOOK_CONFIGURATION: 'sidecar-guard',
  });
  t.teardown(() => void server.child.kill('SIGKILL'));

  const secret = api.get('v1', 'Secret', 'sidecar-guard-tls', 'sidecar-guard') as { data: Record<string, string> } | undefined;
  t.ok(secret, 'the Secret was created');
  const caBundle = Buffer.from(secret?.data['ca.crt'] ?? '', 'base64').toString('utf8');
  const webhooks = api.get('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'sidecar-guard') as { webhooks: { clientConfig: { caBundle?: string } }[] };
  const published = Buffer.from(webhooks.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8');
  t.ok(published.includes(caBundle.trim()), 'the caBundle of the webhook configuration trusts the CA');
  t.ok(new X509Certificate(caBundle).ca, 'it is a CA');

  await eventually(() => server.logs.some((l) => l.includes('watching Namespaces and Sidecars')), 'the watch to start');
  const decide = async () => JSON.parse((await postJson(server.url, '/validate', review(pod({ name: 'web' })), { ca: caBundle })).body).response.allowed as boolean;
  // Until the first sync, whenUnsynced: allow answers; once synced, the missing Sidecar denies.
  await eventuallyAsync(async () => !(await decide()), 'the synced view to deny a pod without a Sidecar');
  api.put(sidecar('shop', 'default'));
  await eventuallyAsync(decide, 'the new Sidecar to reach the decision');
  t.pass('decisions followed the watched cluster');
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);
});

t.test('serve refuses bad flags with a clear message', async (t) => {
  await t.rejects(spawnServe(['--tls-mode', 'magic', '--cluster-state', 'examples/cluster']), /exited with 2:[\s\S]*argument 'magic' is invalid\. Allowed choices are files, self-managed/);
  await t.rejects(spawnServe(['--config', 'package.json', '--cluster-state', 'examples/cluster']), /exited with 2:[\s\S]*is not a known setting/);
  await t.rejects(spawnServe(['--reports', '--cluster-state', 'examples/cluster']), /exited with 2:[\s\S]*--reports writes PolicyReports to a live cluster: drop --cluster-state/);
  await t.rejects(
    spawnServe(['--reports', '--kubeconfig', 'nowhere.yaml', '--reports-renew-deadline-seconds', '20']),
    /exited with 2:[\s\S]*--reports-renew-deadline-seconds, --reports-retry-period-seconds: the lease duration \(15 s\) must be longer than the renew deadline \(20 s\)/,
  );
  await t.rejects(spawnServe(['--reports', '--reports-api', 'kyverno', '--cluster-state', 'examples/cluster']), /exited with 2:[\s\S]*argument 'kyverno' is invalid\. Allowed choices are wgpolicyk8s, openreports/);
});

t.test('serve exits 3 naming what it tried when there is no usable kubeconfig', async (t) => {
  const dir = await tempDir(t);
  const serveArgs = ['serve', '--port', '0', '--cert-dir', join(dir, 'certs'), '--log-level', 'silent'];
  const missing = await runInProcess([...serveArgs, '--kubeconfig', join(dir, 'nope.yaml')]);
  t.same([missing.code, missing.stderr], [3, `sidecar-guard: --kubeconfig ${join(dir, 'nope.yaml')}: no such file: pass the path of a kubeconfig (kubectl config view --raw --minify > FILE writes one)\n`]);
  const malformed = join(dir, 'malformed.yaml');
  await writeFile(malformed, 'clusters: [unclosed');
  const bad = await runInProcess([...serveArgs, '--kubeconfig', malformed]);
  t.equal(bad.code, 3);
  t.match(bad.stderr, new RegExp(`^sidecar-guard: --kubeconfig ${malformed} is not a usable kubeconfig: .*Check it with kubectl config view\\n$`));
});

t.test('serve with an API server that is down keeps retrying, /readyz false, and becomes ready once it is up', async (t) => {
  const api = new FakeApiServer();
  await api.start();
  const url = api.url;
  await api.stop(); // the port is free: connection refused until the API server starts on it
  api.put(namespace('shop', { 'istio-injection': 'enabled' }));
  const dir = await tempDir(t);
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  await writeFile(kubeconfig, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'late',
    clusters: [{ name: 'late', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'me', user: { token: 'x' } }],
    contexts: [{ name: 'late', context: { cluster: 'late', user: 'me' } }],
  }));
  const certDir = join(dir, 'certs');
  const server = await spawnServe(['--kubeconfig', kubeconfig, '--cert-dir', certDir, '--drain-delay-seconds', '0']);
  t.teardown(() => void server.child.kill('SIGKILL'));
  const ca = await readFile(join(certDir, 'ca.crt'), 'utf8');

  await eventually(() => server.logs.some((l) => l.includes('cannot use the cluster yet')), 'the failure to be logged');
  const logged = JSON.parse(server.logs.find((l) => l.includes('cannot use the cluster yet')) ?? '{}');
  t.equal(logged.level, 50, 'logged as an error');
  t.equal(logged.server, url);
  t.equal(logged.kubeconfig, `--kubeconfig ${kubeconfig}`);
  t.equal(logged.context, 'late');
  t.match(logged.problem, `cannot reach the Kubernetes API server ${url} (from --kubeconfig ${kubeconfig}, context late): connection refused (nothing listens there). Check that the cluster is up`);
  t.equal((await getHttps(server.url, '/healthz', { ca })).status, 200, 'alive');
  const unready = await getHttps(server.url, '/readyz', { ca });
  t.equal(unready.status, 503, 'not ready');
  t.match(unready.body, /cluster view not synced/);

  await api.start(); // same port
  t.teardown(() => api.stop());
  await eventuallyAsync(async () => (await getHttps(server.url, '/readyz', { ca })).status === 200, '/readyz to flip once the API server is up', 20_000);
  // The log is buffered (flushed every second): wait for the line rather than expect it with /readyz.
  await eventually(() => server.logs.some((l) => l.includes('watching Namespaces and Sidecars')), 'the start of the watches to be logged');
  const decision = JSON.parse((await postJson(server.url, '/validate', review(pod({ name: 'web' })), { ca })).body).response;
  t.equal(decision.allowed, false, 'decisions come from the synced view (no Sidecar in shop)');
  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0);
});

t.test('serve with TLS files that are not a certificate names the file and the fix (exit 2)', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'tls.crt'), 'not a certificate');
  await writeFile(join(dir, 'tls.key'), 'not a key');
  const result = await runInProcess(['serve', '--port', '0', '--cluster-state', 'examples/cluster', '--cert-dir', dir, '--log-level', 'silent']);
  t.equal(result.code, 2);
  t.match(result.stderr, new RegExp(`--cert-dir: ${join(dir, 'tls.crt')} is not a PEM certificate: replace it, or remove`));
  t.notMatch(result.stderr, /routines|error:0/);
  const config = await runInProcess(['serve', '--port', '0', '--cluster-state', 'examples/cluster', '--config', join(dir, 'none.yaml'), '--log-level', 'silent']);
  t.equal(config.code, 2);
  t.match(config.stderr, /configuration file .*none\.yaml: no such file or directory: check the path/);
});

t.test('serve listens on loopback unless told otherwise (npm start is a local quick start)', async (t) => {
  const certDir = await tempDir(t);
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--cluster-state', 'examples/cluster', '--cert-dir', certDir], { stdio: ['ignore', 'pipe', 'pipe'], env: Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'SIDECAR_GUARD_HOST')) });
  t.teardown(() => void child.kill('SIGKILL'));
  let logs = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      logs += chunk.toString('utf8');
      const match = /"url":"(https:\/\/[^"]+)"/.exec(logs);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${logs}`)));
  });
  t.match(url, /^https:\/\/127\.0\.0\.1:\d+$/, 'bound to 127.0.0.1, not 0.0.0.0');
});
