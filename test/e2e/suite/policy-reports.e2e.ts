/**
 * `serve --reports` on the real API server: two replicas (started as the harness starts the
 * webhook, as the chart's ServiceAccount through the chart's RBAC) elect one writer through the
 * chart's Lease; PolicyReports appear and follow a change within seconds, equal to what `audit`
 * says; on SIGTERM the leader releases and the other takes over at once, and after a SIGKILL a
 * third takes over once the lease expires, each time with one report per namespace, current.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { AuditReport } from '../../../src/audit/audit.js';
import { buildReports, HASH_ANNOTATION, type ReportObject } from '../../../src/reports/report-objects.js';
import { ROOT } from '../../charts/helm.js';
import { E2E_DIR } from '../harness/environment.js';
import { isRunning, stopProcess } from '../harness/processes.js';
import { startWebhook, type WebhookProcess } from '../harness/webhook.js';
import { counterSum, deployment, environment, eventually, freshNamespace, getJson, kubectl, MESH, sidecar, webhookGet } from '../support.js';

const TIMING = ['--reports-lease-duration-seconds=4', '--reports-renew-deadline-seconds=3', '--reports-retry-period-seconds=1', '--reports-debounce-seconds=0', '--reports-resync-seconds=5'];

async function replica(t: Test, identity: string): Promise<WebhookProcess> {
  const state = environment();
  const started = await startWebhook({
    dir: E2E_DIR,
    name: `reports-${identity}`,
    apiserverUrl: state.apiserverUrl,
    apiserverCaFile: state.caCertFile,
    apiserverCaKeyFile: state.caKeyFile,
    configFile: state.configFile,
    extraArgs: ['--reports', `--reports-identity=${identity}`, ...TIMING],
  });
  t.teardown(() => stopProcess(started.process.pid, 5_000));
  return started;
}

interface Lease {
  spec: { holderIdentity?: string; leaseTransitions?: number; leaseDurationSeconds?: number };
}
const lease = (): Lease | undefined => {
  const result = kubectl(['get', 'lease', 'sidecar-guard-reports', '-n', 'sidecar-guard', '-o', 'json']);
  return result.code === 0 ? (JSON.parse(result.stdout) as Lease) : undefined;
};
const holder = () => lease()?.spec.holderIdentity ?? '';

const reportsIn = (ns: string) =>
  getJson<{ items: ReportObject[] }>(['get', 'policyreports.wgpolicyk8s.io', '-n', ns, '-l', 'app.kubernetes.io/managed-by=sidecar-guard']).items;
const brief = (report: ReportObject | undefined) => (report?.results ?? []).map((r) => `${r.result} ${r.rule} ${r.resources[0]?.kind}/${r.resources[0]?.name}`);
const written = async (p: WebhookProcess) => counterSum((await webhookGet(`${p.url}/metrics`, p.caPem)).body, 'sidecar_guard_reports_written_total');
const leading = async (p: WebhookProcess) => counterSum((await webhookGet(`${p.url}/metrics`, p.caPem)).body, 'sidecar_guard_report_leader');

/** `sidecar-guard audit -o json` against the same cluster, as an admin, with the same config. */
function auditNow(): AuditReport {
  const state = environment();
  const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'audit', '-o', 'json', '--kubeconfig', state.kubeconfig, '--config', state.configFile], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0 && run.status !== 1) throw new Error(`audit exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as AuditReport;
}

t.test('two replicas: one writes the reports, they follow changes and equal audit, and a killed leader is replaced without duplicates or losses', async (t) => {
  const a = await replica(t, 'replica-a');
  await eventually('replica-a to take the Lease', () => holder() === 'replica-a', 15_000);
  const b = await replica(t, 'replica-b');
  t.comment(`lease: ${JSON.stringify(lease()?.spec)}`);

  // Audit mode, so the admission webhook lets the unscoped Deployment in; the report says what enforce would.
  const ns = freshNamespace(t, 'reports', { ...MESH, 'sidecar-guard.io/mode': 'audit' });
  t.equal(kubectl(['apply', '-f', '-'], deployment(ns, 'web')).code, 0);
  const appeared = await eventually('the PolicyReport with the Deployment', () => brief(reportsIn(ns)[0]).includes('fail MISSING_SIDECAR Deployment/web') || undefined, 20_000, 200);
  t.comment(`report with the new Deployment after ${appeared.elapsedMs} ms (workloads are listed on the 5 s resync)`);
  t.ok(await leading(a), 'replica-a leads');
  t.notOk(await leading(b), 'replica-b follows');
  t.equal(await written(b), 0, 'the follower wrote nothing');
  const cluster = getJson<ReportObject>(['get', 'clusterpolicyreports.wgpolicyk8s.io', 'sidecar-guard']);
  t.ok(cluster.results.some((r) => r.resources[0]?.name === ns && r.result === 'fail'), 'the cluster summary has the namespace, failing');

  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  const followed = await eventually('the report to follow the Sidecar', () => {
    const results = brief(reportsIn(ns)[0]);
    return (results.includes('pass SCOPED Deployment/web') && results.includes('pass SIDECAR_OK Sidecar/default')) || undefined;
  }, 15_000, 100);
  t.comment(`report followed the Sidecar in ${followed.elapsedMs} ms`);
  t.ok(followed.elapsedMs < 10_000, 'within seconds');

  // Exactly what `audit` says: the report built from `audit -o json` is the stored one (timestamps aside).
  const matched = await eventually('the stored report to equal the one built from audit -o json', () => {
    const fromAudit = buildReports(auditNow(), { api: 'wgpolicyk8s', now: new Date(), sidecarVersion: 'v1' }).namespaced.find((r) => r.metadata.namespace === ns);
    const stored = reportsIn(ns)[0];
    return fromAudit && stored && fromAudit.metadata.annotations[HASH_ANNOTATION] === stored.metadata.annotations[HASH_ANNOTATION] ? { fromAudit, stored } : undefined;
  }, 20_000, 500);
  const strip = (r: ReportObject) => r.results.map(({ timestamp: _timestamp, ...rest }) => rest);
  t.same(strip(matched.value.stored), strip(matched.value.fromAudit), 'results equal, field by field');
  t.same(matched.value.stored.summary, matched.value.fromAudit.summary);

  // SIGTERM: the leader releases the Lease on its way out; replica-b takes over at its next retry.
  const transitions = lease()?.spec.leaseTransitions ?? 0;
  const writtenByA = await written(a);
  process.kill(-a.process.pid, 'SIGTERM');
  await eventually('replica-a to exit', () => !isRunning(a.process.pid) || undefined, 30_000, 100);
  const takeover = await eventually('replica-b to take over', () => holder() === 'replica-b' || undefined, 10_000, 100);
  t.comment(`replica-b took over ${takeover.elapsedMs} ms after replica-a exited (lease duration 4 s: it was released, not left to expire)`);
  t.equal(lease()?.spec.leaseTransitions, transitions + 1, 'one transition');
  t.ok(writtenByA > 0);
  t.equal(kubectl(['delete', 'sidecar', 'default', '-n', ns]).code, 0);
  await eventually('the new leader to report the deletion', () => brief(reportsIn(ns)[0]).includes('fail MISSING_SIDECAR Deployment/web') || undefined, 15_000, 100);
  t.ok((await written(b)) > 0, 'replica-b writes now');
  t.equal(reportsIn(ns).length, 1, 'one report in the namespace: no duplicate');
  t.same(brief(reportsIn(ns)[0]), ['fail MISSING_SIDECAR Deployment/web'], 'nothing stale, nothing lost');

  // SIGKILL: no release; a new replica takes over only once the lease has expired.
  process.kill(-b.process.pid, 'SIGKILL');
  await eventually('replica-b to be gone', () => !isRunning(b.process.pid) || undefined, 10_000, 100);
  t.equal(holder(), 'replica-b', 'a killed leader leaves the Lease held');
  const c = await replica(t, 'replica-c');
  const expired = await eventually('replica-c to take over after expiry', () => holder() === 'replica-c' || undefined, 20_000, 100);
  t.comment(`replica-c took over ${expired.elapsedMs} ms after it was ready`);
  t.equal(lease()?.spec.leaseTransitions, transitions + 2);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  await eventually('replica-c to report the new Sidecar', () => brief(reportsIn(ns)[0]).includes('pass SCOPED Deployment/web') || undefined, 15_000, 100);
  t.ok((await written(c)) > 0);
  t.equal(reportsIn(ns).length, 1);
});
