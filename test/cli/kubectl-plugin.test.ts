import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import type { AuditReport } from '../../src/audit/audit.js';
import { controller, namespace, pod, sidecar } from '../support/builders.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { runCli, type CliResult } from '../support/run-cli.js';

/** Runs the plugin's entry point as kubectl would: a child process with the user's arguments untouched. */
const runPlugin = (args: string[], env: Record<string, string> = {}): Promise<CliResult> => runCli(args, { env, entry: 'src/cli/kubectl-plugin.ts' });

t.test('package.json installs kubectl-sidecar_guard (kubectl sidecar-guard) next to sidecar-guard', async (t) => {
  const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { bin: Record<string, string> };
  t.same(pkg.bin, { 'sidecar-guard': 'dist/cli/main.js', 'kubectl-sidecar_guard': 'dist/cli/kubectl-plugin.js' });
});

t.test('kubectl sidecar-guard audit takes --kubeconfig, --context and -n as kubectl does', async (t) => {
  const prod = await new FakeApiServer().start();
  const staging = await new FakeApiServer().start();
  t.teardown(async () => {
    await prod.stop();
    await staging.stop();
  });
  for (const api of [prod, staging]) {
    api.put(namespace('shop', { 'istio-injection': 'enabled' }));
    api.put(namespace('bookinfo', { 'istio-injection': 'enabled' }));
    api.put(controller('Deployment', 'reviews', pod({ labels: { app: 'reviews' } }), 'bookinfo'));
  }
  prod.put(controller('Deployment', 'web', pod({ labels: { app: 'web' } }), 'shop'));
  staging.put(sidecar('shop', 'default'));
  staging.put(controller('Deployment', 'web-canary', pod({ labels: { app: 'web' } }), 'shop'));

  const dir = await mkdtemp(join(tmpdir(), 'sg-plugin-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'prod',
    clusters: [
      { name: 'prod', cluster: { server: prod.url, 'insecure-skip-tls-verify': true } },
      { name: 'staging', cluster: { server: staging.url, 'insecure-skip-tls-verify': true } },
    ],
    users: [{ name: 'me', user: { token: 't' } }],
    contexts: [{ name: 'prod', context: { cluster: 'prod', user: 'me' } }, { name: 'staging', context: { cluster: 'staging', user: 'me' } }],
  }));
  const names = (stdout: string) => (JSON.parse(stdout) as AuditReport).workloads.map((w) => `${w.namespace}/${w.name}:${w.verdict}`);

  const current = await runPlugin(['audit', '--kubeconfig', kubeconfig, '-o', 'json']);
  t.equal(current.code, 1, current.stderr);
  t.same(names(current.stdout), ['bookinfo/reviews:deny', 'shop/web:deny'], 'the current context, every namespace');

  const scoped = await runPlugin(['--context', 'staging', '-n', 'shop', 'audit', '--kubeconfig', kubeconfig, '-o', 'json']);
  t.equal(scoped.code, 0, scoped.stderr);
  t.same(names(scoped.stdout), ['shop/web-canary:pass'], '--context staging, only namespace shop (flags before the command, as kubectl users write them)');
  t.same((JSON.parse(scoped.stdout) as AuditReport).namespaces.map((n) => n.name), ['shop']);

  const viaEnv = await runPlugin(['audit', '--context=staging', '--namespace=bookinfo', '-o', 'json'], { KUBECONFIG: kubeconfig });
  t.equal(viaEnv.code, 1, viaEnv.stderr);
  t.same(names(viaEnv.stdout), ['bookinfo/reviews:deny'], 'KUBECONFIG from the environment, --flag=value forms');

  const wrong = await runPlugin(['audit', '--kubeconfig', kubeconfig, '--context', 'nope']);
  t.equal(wrong.code, 3, 'an unknown context cannot reach a cluster: exit 3');
  t.match(wrong.stderr, /context "nope" is not in --kubeconfig .* \(it has prod, staging\): kubectl config get-contexts lists them/);
  t.notMatch(wrong.stderr, /\n\s+at /, 'no stack trace');

  const both = await runPlugin(['audit', '-A', '-n', 'shop', '--kubeconfig', kubeconfig]);
  t.equal(both.code, 2, '-A with -n is a usage error');
});

t.test('kubectl sidecar-guard explain -f works the same, and help names the plugin', async (t) => {
  const explain = await runPlugin(['-n', 'shop', 'explain', '-f', 'examples/audit/mesh-apps.yaml']);
  t.equal(explain.code, 1, explain.stderr);
  t.match(explain.stdout, /MISSING_SIDECAR/);
  const help = await runPlugin(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: kubectl sidecar-guard /m);
});
