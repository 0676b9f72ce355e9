import { pino } from 'pino';
import { Registry } from 'prom-client';
import t, { type Test } from 'tap';
import { auditLiveCluster } from '../../src/audit/live.js';
import { WatchClusterView } from '../../src/cluster/watch-cluster-view.js';
import { resolveConfig } from '../../src/config/load-config.js';
import { buildReports, type ReportObject } from '../../src/reports/report-objects.js';
import { startReportMode, type ReportSettings } from '../../src/reports/report-mode.js';
import { liveAuditSource } from '../../src/reports/report-source.js';
import { controller, injectedPod, namespace, NOW, pod, sidecar, type Json } from '../support/builders.js';
import { service } from '../support/catalog-builders.js';
import { eventually } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const config = resolveConfig({});

/** A small cluster: meshed and not, scoped and not, a Deployment with its ReplicaSet and an injected pod, Services. */
function cluster(): Json[] {
  const web = controller('Deployment', 'web', pod({ labels: { app: 'web' } }), 'shop');
  const rs = { ...controller('ReplicaSet', 'web-abc', pod({ labels: { app: 'web' } }), 'shop'), metadata: { name: 'web-abc', namespace: 'shop', ownerReferences: [{ kind: 'Deployment', name: 'web', controller: true }] } };
  const running = { ...injectedPod({ name: 'web-abc-1', namespace: 'shop', labels: { app: 'web' } }), metadata: { name: 'web-abc-1', namespace: 'shop', labels: { app: 'web' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-abc', controller: true }] } };
  return [
    namespace('shop', { 'istio-injection': 'enabled' }),
    namespace('payments', { 'istio-injection': 'enabled' }),
    namespace('tools'),
    sidecar('shop', 'default'),
    sidecar('payments', 'wide', { hosts: ['*/*'] }),
    web,
    rs,
    running,
    controller('Deployment', 'ledger', pod({ labels: { app: 'ledger' } }), 'payments'),
    controller('CronJob', 'cleanup', pod({ labels: { app: 'cleanup' } }), 'tools'),
    service('shop', 'web'),
    service('payments', 'ledger'),
  ];
}

async function startServer(t: Test, objects: Json[]): Promise<FakeApiServer> {
  const server = await new FakeApiServer().start();
  t.teardown(() => server.stop());
  for (const object of objects) server.put(object);
  return server;
}

async function syncedView(t: Test, server: FakeApiServer): Promise<WatchClusterView> {
  const view = await WatchClusterView.start({ kubeConfig: server.kubeConfig(), backoff: { initialMs: 20, maxMs: 200 } });
  t.teardown(() => view.close());
  await view.waitForSync();
  await eventually(() => view.catalog() !== undefined, 'the service catalog to sync');
  return view;
}

t.test("the reports' audit is audit's: the same report as `audit` against the live cluster, before and after a change", async (t) => {
  const server = await startServer(t, cluster());
  const view = await syncedView(t, server);
  const kubeConfig = server.kubeConfig();
  const source = liveAuditSource({ kubeConfig, view, config: () => config });
  const fromServe = await source(NOW);
  const { report: fromAudit } = await auditLiveCluster(kubeConfig, config, { now: NOW, sidecarVersion: 'v1' });
  t.ok(fromServe);
  t.same(fromServe, fromAudit, 'deep-equal audit reports');
  t.ok(fromAudit.workloads.some((w) => w.verdict === 'deny') && fromAudit.workloads.some((w) => w.memory), 'a case with denials and predictions');
  const build = (r: typeof fromAudit) => buildReports(r, { api: 'wgpolicyk8s', now: NOW, sidecarVersion: 'v1' });
  if (fromServe) t.same(build(fromServe), build(fromAudit), 'and so the same PolicyReports');

  let changes = 0;
  view.onChange(() => (changes += 1));
  server.put(sidecar('payments', 'wide', { hosts: ['./*'] }));
  await eventually(() => changes > 0, 'the view to see the Sidecar change');
  const after = await source(NOW);
  const { report: auditAfter } = await auditLiveCluster(kubeConfig, config, { now: NOW, sidecarVersion: 'v1' });
  t.same(after, auditAfter);
  t.not(JSON.stringify(after), JSON.stringify(fromServe), 'the change shows');
});

t.test('nothing is audited before the view is synced (a report never says less than the cluster holds)', async (t) => {
  const server = await startServer(t, cluster());
  const view = WatchClusterView.startRetrying({ kubeConfig: server.kubeConfig() });
  t.teardown(() => view.close());
  const source = liveAuditSource({ kubeConfig: server.kubeConfig(), view, config: () => config });
  t.equal(view.isSynced(), false);
  t.equal(await source(NOW), undefined);
});

const SETTINGS: Omit<ReportSettings, 'identity'> = {
  api: 'wgpolicyk8s',
  leaseNamespace: 'sidecar-guard',
  leaseName: 'sidecar-guard-reports',
  leaseDurationSeconds: 3,
  renewDeadlineSeconds: 2,
  retryPeriodSeconds: 1,
  debounceSeconds: 0,
  resyncSeconds: 3600,
  writesPerSecond: 50,
  maxResults: 1000,
};

async function replica(t: Test, server: FakeApiServer, identity: string) {
  const view = await syncedView(t, server);
  const registry = new Registry();
  const logger = pino({ level: 'silent' });
  const mode = startReportMode({ kubeConfig: server.kubeConfig(), view, config: () => config, registry, logger, settings: { ...SETTINGS, identity } });
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await mode.stop();
  });
  const metric = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return {
    identity,
    stop: async () => {
      stopped = true;
      await mode.stop();
    },
    leading: async () => (await metric('sidecar_guard_report_leader'))[0]?.value === 1,
    written: async () => (await metric('sidecar_guard_reports_written_total')).reduce((sum, v) => sum + v.value, 0),
  };
}

const stored = (server: FakeApiServer, ns: string) => server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'sidecar-guard', ns) as unknown as ReportObject | undefined;
const lease = (server: FakeApiServer) => server.get('coordination.k8s.io/v1', 'Lease', 'sidecar-guard-reports', 'sidecar-guard') as { spec: { holderIdentity: string; leaseTransitions: number; leaseDurationSeconds: number; renewTime: string } } | undefined;

t.test('two replicas: one writes; a change is followed; on stop the other takes over at once and rewrites nothing that is current', async (t) => {
  const server = await startServer(t, cluster());
  const a = await replica(t, server, 'replica-a');
  await eventually(() => lease(server)?.spec.holderIdentity === 'replica-a', 'a to lead', 10_000);
  const b = await replica(t, server, 'replica-b');
  await eventually(() => stored(server, 'payments') !== undefined && server.get('wgpolicyk8s.io/v1alpha2', 'ClusterPolicyReport', 'sidecar-guard') !== undefined, 'the reports', 10_000);
  t.match(lease(server)?.spec.renewTime, /\.\d{6}Z$/, 'MicroTime with six fractional digits');
  t.same(stored(server, 'payments')?.results.map((r) => `${r.result} ${r.rule} ${r.resources[0]?.name}`), ['fail SIDECAR_NOT_SCOPING ledger', 'fail SIDECAR_WILDCARD_EGRESS wide']);
  t.ok(await a.leading());
  t.notOk(await b.leading());
  t.equal(await b.written(), 0, 'the follower writes nothing');

  server.put(sidecar('payments', 'wide', { hosts: ['./*'] }));
  await eventually(() => stored(server, 'payments')?.summary.fail === 0, 'the report to follow the fix', 10_000);
  t.same(stored(server, 'payments')?.results.map((r) => `${r.result} ${r.rule} ${r.resources[0]?.name}`), ['pass SCOPED ledger', 'pass SIDECAR_OK wide']);
  t.equal(await b.written(), 0);

  const summary = () => server.get('wgpolicyk8s.io/v1alpha2', 'ClusterPolicyReport', 'sidecar-guard') as unknown as ReportObject;
  await eventually(() => summary().results.find((r) => r.resources[0]?.name === 'payments')?.result === 'pass', "a's summary to follow too", 10_000);
  const writesBefore = server.requests.filter((r) => /^(POST|PUT|DELETE) \/apis\/wgpolicyk8s/.test(r)).length;
  await a.stop();
  t.equal(lease(server)?.spec.holderIdentity, '', 'released on stop');
  await eventually(() => lease(server)?.spec.holderIdentity === 'replica-b', 'b to take over', 5_000);
  t.equal(lease(server)?.spec.leaseTransitions, 1);
  await eventually(() => server.requests.some((r) => r.startsWith('GET /apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports?')) && server.requests.filter((r) => r.startsWith('GET /apis/wgpolicyk8s.io/v1alpha2/policyreports?')).length >= 2, 'b to read what is stored', 5_000);
  server.put(namespace('fresh', { 'istio-injection': 'enabled' }));
  await eventually(() => stored(server, 'fresh') !== undefined && summary().results.some((r) => r.resources[0]?.name === 'fresh'), 'b to write the new namespace report and its summary', 10_000);
  t.ok(await b.leading());
  const writesAfter = server.requests.filter((r) => /^(POST|PUT|DELETE) \/apis\/wgpolicyk8s/.test(r)).slice(writesBefore);
  t.same(
    writesAfter.map((r) => r.split('?')[0]),
    ['POST /apis/wgpolicyk8s.io/v1alpha2/namespaces/fresh/policyreports', 'PUT /apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/sidecar-guard'],
    'the new leader wrote only the new report and the summary: the rest was current (no duplicate, nothing lost)',
  );
  await b.stop();
});
