import { readFile } from 'node:fs/promises';
import t, { type Test } from 'tap';
import { auditCluster } from '../../src/audit/audit.js';
import { findWorkloads } from '../../src/audit/workloads.js';
import { FileClusterView, parseManifests } from '../../src/cluster/file-cluster-view.js';
import { resolveConfig } from '../../src/config/load-config.js';
import type { Clock } from '../../src/kube/resource-watcher.js';
import { buildReports, HASH_ANNOTATION, type ReportObject } from '../../src/reports/report-objects.js';
import { createKubeReportStore } from '../../src/reports/report-store.js';
import { ReportWriter, type WriteOperation } from '../../src/reports/report-writer.js';
import { NOW } from '../support/builders.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

async function desired(config = resolveConfig({}), now = NOW): Promise<ReportObject[]> {
  const objects = parseManifests(await readFile('examples/audit/mesh-apps.yaml', 'utf8'), 'mesh-apps.yaml');
  const report = auditCluster({ workloads: findWorkloads(objects, 'default'), view: FileClusterView.fromObjects(objects), namespaces: [], config, now });
  const { namespaced, cluster } = buildReports(report, { api: 'wgpolicyk8s', now, sidecarVersion: 'v1' });
  return [...namespaced, cluster];
}

/** Virtual time: every sleep passes at once and moves the clock, so pacing is measured, not waited for. */
class VirtualClock implements Clock {
  at = 0;
  now = () => this.at;
  sleep = async (ms: number) => {
    this.at += ms;
  };
  setInterval = () => undefined;
  clearInterval = () => {};
}

const writes = (server: FakeApiServer) => server.requests.filter((r) => /^(POST|PUT|DELETE) \/apis\/wgpolicyk8s\.io/.test(r));

async function setup(t: Test, options: { canWrite?: () => boolean; writesPerSecond?: number; clock?: Clock } = {}) {
  const server = await new FakeApiServer().start();
  t.teardown(() => server.stop());
  const log: { op: WriteOperation; name: string; at: number }[] = [];
  const clock = options.clock ?? new VirtualClock();
  const writer = new ReportWriter({
    store: createKubeReportStore(server.kubeConfig(), 'wgpolicyk8s'),
    writesPerSecond: options.writesPerSecond ?? 100,
    canWrite: options.canWrite ?? (() => true),
    clock,
    onWrite: (op, ref) => log.push({ op, name: `${ref.namespace ?? ''}/${ref.name}`, at: clock.now() }),
    onError: (op, ref, error) => t.fail(`${op} ${ref?.name}: ${(error as Error).message}`),
  });
  return { server, writer, log };
}

t.test('first pass creates every report; the same reports again write nothing; one changed report is the one PUT', async (t) => {
  const { server, writer, log } = await setup(t);
  const reports = await desired();
  const first = await writer.sync(reports);
  t.same({ ...first }, { created: 5, updated: 0, deleted: 0, unchanged: 0, failed: 0, interrupted: false });
  t.same(log.map((l) => l.name).sort(), ['/sidecar-guard', 'batch-reports/sidecar-guard', 'bookinfo/sidecar-guard', 'istio-ingress/sidecar-guard', 'tools/sidecar-guard']);
  const stored = server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'sidecar-guard', 'bookinfo') as unknown as ReportObject;
  t.same(stored.results, reports.find((r) => r.metadata.namespace === 'bookinfo')?.results, 'stored as built');

  const before = writes(server).length;
  const again = await writer.sync(await desired(resolveConfig({}), new Date(NOW.getTime() + 60_000)));
  t.same({ ...again }, { created: 0, updated: 0, deleted: 0, unchanged: 5, failed: 0, interrupted: false }, 'a minute later, same findings: nothing written');
  t.equal(writes(server).length, before, 'no request at all');

  const changed = await desired(resolveConfig({ defaultProfile: 'small' }));
  const third = await writer.sync(changed);
  t.same({ ...third }, { created: 0, updated: 2, deleted: 0, unchanged: 3, failed: 0, interrupted: false });
  t.same(
    writes(server).slice(before),
    ['PUT /apis/wgpolicyk8s.io/v1alpha2/namespaces/bookinfo/policyreports/sidecar-guard', 'PUT /apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/sidecar-guard'],
    'only bookinfo (profiles, and so ceilings) and the summary of it changed',
  );
  for (const report of changed) {
    const now = server.get(report.apiVersion, report.kind, report.metadata.name, report.metadata.namespace) as unknown as ReportObject;
    t.equal(now.metadata.annotations[HASH_ANNOTATION], report.metadata.annotations[HASH_ANNOTATION], `${report.metadata.namespace ?? 'cluster'} current`);
  }
});

t.test('a namespace gone from the audit loses its report; reports sidecar-guard does not manage are left alone', async (t) => {
  const { server, writer } = await setup(t);
  const reports = await desired();
  await writer.sync(reports);
  server.put({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'kyverno-thing', namespace: 'tools' }, results: [] });
  const result = await writer.sync(reports.filter((r) => r.metadata.namespace !== 'tools'));
  t.equal(result.deleted, 1);
  t.equal(server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'sidecar-guard', 'tools'), undefined, 'tools report deleted');
  t.ok(server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'kyverno-thing', 'tools'), "another tool's report untouched");
});

t.test('a new leader (a fresh writer) lists what is stored: identical reports are not rewritten, leftovers of vanished namespaces are deleted', async (t) => {
  const { server, writer } = await setup(t);
  const reports = await desired();
  await writer.sync(reports);
  server.put({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'sidecar-guard', namespace: 'gone', labels: { 'app.kubernetes.io/managed-by': 'sidecar-guard' } }, results: [] });
  const before = writes(server).length;
  const fresh = new ReportWriter({ store: createKubeReportStore(server.kubeConfig(), 'wgpolicyk8s', 2), writesPerSecond: 100, canWrite: () => true, clock: new VirtualClock() });
  const result = await fresh.sync(reports);
  t.same({ ...result }, { created: 0, updated: 0, deleted: 1, unchanged: 5, failed: 0, interrupted: false }, 'listed in pages of 2');
  t.same(writes(server).slice(before), ['DELETE /apis/wgpolicyk8s.io/v1alpha2/namespaces/gone/policyreports/sidecar-guard']);
});

t.test('resourceVersion-safe: a report changed behind our back (409) is re-read and written over; one deleted behind our back is created again, at once when it changes, else after a reset (a resync)', async (t) => {
  const { server, writer } = await setup(t);
  const reports = await desired();
  await writer.sync(reports);
  const bookinfo = server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'sidecar-guard', 'bookinfo');
  if (!bookinfo) throw new Error('no bookinfo report');
  server.put({ ...bookinfo, summary: { pass: 99 } }); // an old leader's late write
  server.remove({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'sidecar-guard', namespace: 'tools' } });
  const changed = await desired(resolveConfig({ defaultProfile: 'small' }));
  const result = await writer.sync(changed);
  t.equal(result.failed, 0);
  const conflicts = server.requests.filter((r) => r.startsWith('GET /apis/wgpolicyk8s.io/v1alpha2/namespaces/bookinfo/policyreports/sidecar-guard'));
  t.equal(conflicts.length, 1, 'the 409 made it read the report once');
  const now = server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'sidecar-guard', 'bookinfo') as unknown as ReportObject;
  t.same(now.summary, changed.find((r) => r.metadata.namespace === 'bookinfo')?.summary, 'ours, not the stale write');
  t.equal(server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'sidecar-guard', 'tools'), undefined, 'tools unchanged, so not written: the writer does not know it is gone');
  writer.reset();
  const restored = await writer.sync(changed);
  t.same({ ...restored }, { created: 1, updated: 0, deleted: 0, unchanged: 4, failed: 0, interrupted: false });
  t.ok(server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'sidecar-guard', 'tools'), 'tools recreated after the re-read');
  server.remove({ apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'sidecar-guard', namespace: 'tools' } });
  const tools = changed.find((r) => r.metadata.namespace === 'tools');
  if (!tools) throw new Error('no tools report');
  const edited = { ...tools, results: [], metadata: { ...tools.metadata, annotations: { [HASH_ANNOTATION]: 'another' } } };
  const replaced = await writer.sync([...changed.filter((r) => r !== tools), edited]);
  t.equal(replaced.updated, 1, 'a changed report whose PUT finds nothing (404) …');
  t.same((server.get('wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'sidecar-guard', 'tools') as unknown as ReportObject).metadata.annotations, edited.metadata.annotations, '… is created');
});

t.test('no longer the leader: the pass stops before its next write', async (t) => {
  let leader = true;
  let count = 0;
  const { server, writer } = await setup(t, {
    canWrite: () => {
      count += 1;
      if (count > 2) leader = false;
      return leader;
    },
  });
  const result = await writer.sync(await desired());
  t.equal(result.interrupted, true);
  t.equal(result.created, 2);
  t.equal(writes(server).length, 2, 'two written, then it stopped');
});

t.test('writes are paced: never more than writesPerSecond in any second', async (t) => {
  const clock = new VirtualClock();
  const { writer, log } = await setup(t, { writesPerSecond: 2, clock });
  const reports = await desired();
  await writer.sync(reports);
  t.equal(log.length, 5);
  for (const entry of log) {
    const inWindow = log.filter((other) => other.at >= entry.at && other.at < entry.at + 1000).length;
    t.ok(inWindow <= 2, `${inWindow} writes in the second from ${entry.at} ms`);
  }
  t.equal(clock.at, 2000, '5 writes at 2/s: two at 0, two at 1 s, one at 2 s (virtual time)');
});
