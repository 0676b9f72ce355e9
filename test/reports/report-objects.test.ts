import { readFile } from 'node:fs/promises';
import t from 'tap';
import { auditCluster, type AuditReport } from '../../src/audit/audit.js';
import { auditFindings, NO_SOURCES } from '../../src/audit/sarif.js';
import { findWorkloads } from '../../src/audit/workloads.js';
import { FileClusterView, parseManifests } from '../../src/cluster/file-cluster-view.js';
import { resolveConfig } from '../../src/config/load-config.js';
import { buildReports, HASH_ANNOTATION, OMITTED_ANNOTATION, type ReportObject, type ReportResult } from '../../src/reports/report-objects.js';
import { controller, namespace, NOW, pod, sidecar, type Json } from '../support/builders.js';
import { service } from '../support/catalog-builders.js';
import { crdValidators } from './crd-schema.js';

const WG = crdValidators('charts/sidecar-guard/files/crds/wgpolicyk8s.io.yaml');
const OPEN = crdValidators('charts/sidecar-guard/files/crds/openreports.io.yaml');

async function meshApps(config = resolveConfig({})): Promise<AuditReport> {
  const objects = parseManifests(await readFile('examples/audit/mesh-apps.yaml', 'utf8'), 'mesh-apps.yaml');
  return auditCluster({ workloads: findWorkloads(objects, 'default'), view: FileClusterView.fromObjects(objects), namespaces: [], config, now: NOW });
}

function inNamespace(reports: readonly ReportObject[], ns: string): ReportObject {
  const found = reports.find((r) => r.metadata.namespace === ns);
  if (!found) throw new Error(`no report for ${ns}`);
  return found;
}

const brief = (r: ReportResult) => `${r.result} ${r.rule} ${r.resources.map((x) => `${x.kind}/${x.name}`).join(',')}`;

t.test('a PolicyReport per namespace: a result per finding, pass or skip per workload, one per Sidecar; valid against the vendored CRD', async (t) => {
  const report = await meshApps();
  const { namespaced, cluster } = buildReports(report, { api: 'wgpolicyk8s', now: NOW, sidecarVersion: 'v1' });
  t.same(namespaced.map((r) => r.metadata.namespace), ['batch-reports', 'bookinfo', 'istio-ingress', 'tools']);
  for (const r of [...namespaced, cluster]) {
    const validate = WG.get(r.kind);
    t.ok(validate?.(r), `${r.kind} ${r.metadata.namespace ?? ''} matches the CRD schema ${JSON.stringify(validate?.errors ?? [])}`);
    t.equal(r.apiVersion, 'wgpolicyk8s.io/v1alpha2');
    t.equal(r.metadata.name, 'sidecar-guard');
    t.same(r.metadata.labels, { 'app.kubernetes.io/managed-by': 'sidecar-guard' });
    t.notOk('source' in r, 'v1alpha2 has no report-level source (it would be pruned)');
  }
  const bookinfo = inNamespace(namespaced, 'bookinfo');
  t.same(bookinfo.results.map(brief), [
    'fail MISSING_SIDECAR Deployment/productpage-v1',
    'fail ABOVE_CEILING Deployment/reviews-v1',
    'fail MISSING_SIDECAR Deployment/reviews-v1',
    'fail MISSING_SIDECAR StatefulSet/ratings-db',
  ]);
  t.same(bookinfo.summary, { pass: 0, fail: 4, warn: 0, error: 0, skip: 0 });
  const productpage = bookinfo.results.find((r) => r.resources[0]?.name === 'productpage-v1');
  t.same(productpage?.resources, [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'bookinfo', name: 'productpage-v1' }]);
  t.equal(productpage?.properties.profile, 'medium');
  t.equal(productpage?.severity, 'high');
  t.equal(productpage?.policy, 'sidecar-guard');
  t.match(productpage?.message, /namespace "?bookinfo"? has no Sidecar|no Sidecar/);
  t.same(productpage?.timestamp, { seconds: NOW.getTime() / 1000, nanos: 0 });

  t.same(inNamespace(namespaced, 'batch-reports').results.map(brief), ['fail SIDECAR_NOT_SCOPING CronJob/nightly-report', 'fail SIDECAR_WILDCARD_EGRESS Sidecar/everything']);
  t.same(inNamespace(namespaced, 'batch-reports').results[1]?.resources, [{ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', namespace: 'batch-reports', name: 'everything' }]);
  t.same(inNamespace(namespaced, 'istio-ingress').results.map(brief), ['pass GATEWAY Deployment/istio-ingressgateway']);
  t.equal(inNamespace(namespaced, 'istio-ingress').results[0]?.properties.profile, 'gateway');
  t.same(inNamespace(namespaced, 'tools').results.map(brief), ['skip HOST_NETWORK DaemonSet/node-exporter']);

  t.equal(cluster.kind, 'ClusterPolicyReport');
  t.equal(cluster.metadata.namespace, undefined);
  t.same(cluster.results.map(brief), [
    'fail NAMESPACE_REPORT Namespace/batch-reports',
    'fail NAMESPACE_REPORT Namespace/bookinfo',
    'pass NAMESPACE_REPORT Namespace/istio-ingress',
    'skip NAMESPACE_REPORT Namespace/tools',
  ]);
  t.same(cluster.results[1]?.properties, { inMesh: 'true', mode: 'enforce', pass: '0', fail: '4', warn: '0', error: '0', skip: '0' });
  t.same(cluster.summary, { pass: 1, fail: 2, warn: 0, error: 0, skip: 1 });
});

t.test("fail and warn results are exactly audit's findings (the ones -o sarif and -o junit report), nothing added or lost", async (t) => {
  const report = await meshApps();
  const { namespaced } = buildReports(report, { api: 'wgpolicyk8s', now: NOW, sidecarVersion: 'v1' });
  const fromReports = namespaced
    .flatMap((r) => r.results.filter((x) => x.result === 'fail' || x.result === 'warn').map((x) => `${r.metadata.namespace}/${x.resources[0]?.kind}/${x.resources[0]?.name} ${x.rule} ${x.result} ${x.message}`))
    .sort();
  const fromAudit = auditFindings(report, NO_SOURCES)
    .map((f) => `${f.namespace}/${f.kind}/${f.name} ${f.code} ${f.level === 'error' ? 'fail' : 'warn'} ${f.message}`)
    .sort();
  t.same(fromReports, fromAudit);
  t.ok(fromAudit.length >= 6);
  const passOrSkip = namespaced.flatMap((r) => r.results.filter((x) => x.result === 'pass' || x.result === 'skip'));
  const clean = report.workloads.filter((w) => w.verdict === 'pass' && !w.memory?.overLimit && !w.exemptions.some((e) => e.status === 'refused'));
  t.equal(passOrSkip.filter((x) => x.resources[0]?.kind !== 'Sidecar').length, clean.length, 'one pass or skip per workload audit found nothing on');
});

t.test('OpenReports: openreports.io/v1alpha1 Report and ClusterReport with a report-level source, valid against its CRD', async (t) => {
  const report = await meshApps();
  const { namespaced, cluster } = buildReports(report, { api: 'openreports', now: NOW, sidecarVersion: 'v1beta1' });
  for (const r of [...namespaced, cluster]) {
    const validate = OPEN.get(r.kind);
    t.ok(validate?.(r), `${r.kind} matches the CRD schema ${JSON.stringify(validate?.errors ?? [])}`);
    t.equal(r.apiVersion, 'openreports.io/v1alpha1');
    t.equal(r.source, 'sidecar-guard');
  }
  t.same([...new Set(namespaced.map((r) => r.kind))], ['Report']);
  t.equal(cluster.kind, 'ClusterReport');
  t.equal(inNamespace(namespaced, 'batch-reports').results[1]?.resources[0]?.apiVersion, 'networking.istio.io/v1beta1', 'Sidecars referenced in the version served');
  t.notOk(WG.get('PolicyReport')?.(inNamespace(namespaced, 'bookinfo')), 'a Report (source at the top) is not a valid v1alpha2 PolicyReport: the flavours are kept apart');
});

t.test('the hash leaves timestamps out: the same audit later hashes the same; a change hashes differently', async (t) => {
  const report = await meshApps();
  const first = buildReports(report, { api: 'wgpolicyk8s', now: NOW, sidecarVersion: 'v1' });
  const later = buildReports(report, { api: 'wgpolicyk8s', now: new Date(NOW.getTime() + 60_000), sidecarVersion: 'v1' });
  t.same(later.namespaced.map((r) => r.metadata.annotations[HASH_ANNOTATION]), first.namespaced.map((r) => r.metadata.annotations[HASH_ANNOTATION]));
  t.not(later.namespaced[0]?.results[0]?.timestamp.seconds, first.namespaced[0]?.results[0]?.timestamp.seconds);
  const strict = await meshApps(resolveConfig({ scope: { suggestedEgressHosts: ['./*'] }, defaultProfile: 'small' }));
  const changed = buildReports(strict, { api: 'wgpolicyk8s', now: NOW, sidecarVersion: 'v1' });
  t.not(inNamespace(changed.namespaced, 'bookinfo').metadata.annotations[HASH_ANNOTATION], inNamespace(first.namespaced, 'bookinfo').metadata.annotations[HASH_ANNOTATION], 'another profile: another hash');
  t.equal(inNamespace(changed.namespaced, 'tools').metadata.annotations[HASH_ANNOTATION], inNamespace(first.namespaced, 'tools').metadata.annotations[HASH_ANNOTATION], 'tools unchanged: same hash');
});

t.test('a report over --reports-max-results keeps failures first, counts everything in the summary and says how many it left out', async (t) => {
  const objects: Json[] = [namespace('big', { 'istio-injection': 'enabled' }), sidecar('big', 'default', { hosts: ['./*'] })];
  for (let i = 0; i < 6; i++) objects.push(controller('Deployment', `ok-${i}`, pod({ labels: { app: `ok-${i}` } }), 'big'));
  objects.push(controller('Deployment', 'zz-greedy', pod({ labels: { app: 'greedy' }, annotations: { 'sidecar.istio.io/proxyMemoryLimit': '64Gi' } }), 'big'));
  const report = auditCluster({ workloads: findWorkloads(objects, 'default'), view: FileClusterView.fromObjects(objects), namespaces: [], config: resolveConfig({}), now: NOW });
  const big = buildReports(report, { api: 'wgpolicyk8s', now: NOW, sidecarVersion: 'v1', maxResults: 3 }).namespaced[0];
  t.equal(big?.results.length, 3);
  t.equal(big?.results[0]?.result, 'fail', 'the failure sorts first (its name sorts last)');
  t.equal(big?.results[0]?.resources[0]?.name, 'zz-greedy');
  t.same(big?.summary, { pass: 7, fail: 1, warn: 0, error: 0, skip: 0 }, 'six workloads and the Sidecar pass, one fails: all counted');
  t.equal(big?.metadata.annotations[OMITTED_ANNOTATION], '5');
});

t.test('predicted memory and the profile are properties; a limit below the prediction is a warn result', async (t) => {
  const MiB = 2 ** 20;
  const config = resolveConfig({ sizing: { marginPercent: 0, model: { baseBytes: 0, perClusterBytes: 2 * MiB, perEndpointBytes: 0 } } });
  const objects: Json[] = [namespace('pay', { 'istio-injection': 'enabled' }), sidecar('pay', 'default', { hosts: ['*/*.example.com', './*'] }), controller('Deployment', 'api', pod({ labels: { app: 'api' } }), 'pay')];
  for (let i = 0; i < 140; i++) objects.push(service('pay', `svc-${i}`));
  const report = auditCluster({ workloads: findWorkloads(objects, 'default'), view: FileClusterView.fromObjects(objects), namespaces: [], config, now: NOW });
  const pay = buildReports(report, { api: 'wgpolicyk8s', now: NOW, sidecarVersion: 'v1' }).namespaced[0];
  const results = pay?.results.filter((r) => r.resources[0]?.name === 'api') ?? [];
  t.same(results.map((r) => `${r.result} ${r.rule}`), ['warn PREDICTED_MEMORY_ABOVE_LIMIT'], 'scoped and sized, but predicted above its 256Mi limit');
  t.same(results[0]?.properties, {
    membership: 'NAMESPACE_INJECTION',
    profile: 'medium',
    predictedMemoryBytes: String(147 * 2 * MiB),
    predictedMemory: '294 MiB',
    memoryLimit: '256Mi',
    services: '140',
    clusters: '147',
    endpoints: '0',
  });
  t.match(results[0]?.message, /predicted 294 MiB is above its memory limit 256Mi/);
  t.equal(pay?.summary.warn, 1);
});
