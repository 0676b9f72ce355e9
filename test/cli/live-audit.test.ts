import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import type { AuditReport } from '../../src/audit/audit.js';
import { controller, injectedPod, namespace, pod, sidecar } from '../support/builders.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { runCli } from '../support/run-cli.js';

t.test('audit against a live cluster reads paged lists and reports each workload once', async (t) => {
  const api = await new FakeApiServer().start();
  t.teardown(() => api.stop());
  api.put(namespace('bookinfo', { 'istio-injection': 'enabled' }));
  api.put(namespace('shop', { 'istio-injection': 'enabled' }));
  api.put(sidecar('shop', 'default'));
  const template = pod({ labels: { app: 'reviews' } });
  const deployment = api.put(controller('Deployment', 'reviews', template, 'bookinfo'));
  const replicaSet = api.put({
    ...controller('ReplicaSet', 'reviews-5d8f', template, 'bookinfo'),
    metadata: { name: 'reviews-5d8f', namespace: 'bookinfo', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'reviews', controller: true, uid: (deployment.metadata as { uid: string }).uid }] },
  });
  // Enough pods to need several pages: each owned by the ReplicaSet, injected by Istio.
  for (let i = 0; i < 120; i += 1) {
    const running = injectedPod({ name: `reviews-5d8f-${i}`, namespace: 'bookinfo', labels: { app: 'reviews' } });
    (running.metadata as Record<string, unknown>).ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'reviews-5d8f', controller: true, uid: (replicaSet.metadata as { uid: string }).uid }];
    api.put(running);
  }
  api.put(controller('CronJob', 'report', pod({ labels: { app: 'report' } }), 'shop'));
  api.put(pod({ name: 'debug', namespace: 'shop', labels: { app: 'debug' } }));

  const dir = await mkdtemp(join(tmpdir(), 'sg-live-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'fake',
    clusters: [{ name: 'fake', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'me', user: { token: 't' } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'me' } }],
  }));

  const { code, stdout, stderr } = await runCli(['audit', '--kubeconfig', kubeconfig, '--page-size', '50', '-o', 'json']);
  t.equal(code, 1, stderr);
  const report = JSON.parse(stdout) as AuditReport;
  t.same(report.workloads.map((w) => `${w.namespace}/${w.kind}/${w.name}:${w.verdict}`), [
    'bookinfo/Deployment/reviews:deny',
    'shop/CronJob/report:pass',
    'shop/Pod/debug:pass',
  ]);
  const reviews = report.workloads[0];
  t.equal(reviews?.currentSource, 'istio-proxy', 'current resources from a running pod');
  t.same(reviews?.current, { cpu: '100m', cpuLimit: '2', memory: '128Mi', memoryLimit: '1Gi' });
  t.same(reviews?.target, { cpu: '100m', cpuLimit: '1000m', memory: '128Mi', memoryLimit: '256Mi' });
  t.same(report.namespaces.map((n) => [n.name, n.scopedBy ?? null]), [['bookinfo', null], ['shop', 'shop/default']]);
  const podPages = api.requests.filter((r) => r.startsWith('GET /api/v1/pods?'));
  t.ok(podPages.length >= 3, `pods were read in pages (${podPages.length} requests)`);
  t.ok(podPages.slice(1).every((r) => r.includes('continue=')), 'following continue tokens');
  t.match(stderr, /listing \/api\/v1\/pods: 50/, 'progress on stderr');
});

t.test('audit -f … --cluster takes the namespaces and Sidecars the manifests lack from the live cluster', async (t) => {
  const api = await new FakeApiServer().start();
  t.teardown(() => api.stop());
  api.put(namespace('shop', { 'istio-injection': 'enabled' }));
  api.put(namespace('payments', { 'istio-injection': 'enabled' }));
  api.put(sidecar('shop', 'default'));
  const dir = t.testdir();
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'fake',
    clusters: [{ name: 'fake', cluster: { server: api.url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'me', user: { token: 't' } }],
    contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'me' } }],
  }));
  const manifests = [controller('Deployment', 'web', pod({ labels: { app: 'web' } }), 'shop'), controller('Deployment', 'ledger', pod({ labels: { app: 'ledger' } }), 'payments')];
  const stdin = manifests.map((m) => stringify(m)).join('---\n');
  const offline = await runCli(['audit', '-f', '-'], { stdin });
  t.equal(offline.code, 4, 'without --cluster both namespaces are unknown');
  const { code, stdout, stderr } = await runCli(['audit', '-f', '-', '--cluster', '--kubeconfig', kubeconfig, '-o', 'json'], { stdin });
  t.equal(code, 1, stderr);
  const report = JSON.parse(stdout) as AuditReport;
  t.same(report.workloads.map((w) => `${w.namespace}/${w.name}:${w.verdict}:${w.codes.join(',')}`), ['payments/ledger:deny:MISSING_SIDECAR', 'shop/web:pass:SCOPED']);
  t.same(report.namespaces.map((n) => n.name), ['payments', 'shop'], 'only the namespaces the manifests use, not the whole cluster');
  t.notMatch(stderr, /nothing is known/);
});
