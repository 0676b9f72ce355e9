/**
 * The running webhook's view of the cluster: changes made through kubectl reach it within a
 * second, and after an etcd compaction and an API server restart its watch recovers (410 Gone,
 * re-list) without losing a change made while it was not looking. Runs last: it restarts the
 * shared kube-apiserver.
 */
import t from 'tap';
import { environment, deployment, eventually, freshNamespace, kubectl, MESH, sidecar, warnings, webhookGet, counterSum } from '../support.js';
import { restartProcess } from '../harness/environment.js';
import { waitFor } from '../harness/processes.js';

const admitted = (ns: string) => kubectl(['apply', '--dry-run=server', '-f', '-'], deployment(ns, 'web'));

t.test('a Sidecar and a namespace label created through kubectl are seen by the running webhook within a second', async (t) => {
  const ns = freshNamespace(t, 'live', MESH);
  t.equal(admitted(ns).code, 1, 'no Sidecar yet');
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  const seen = await eventually('the Sidecar reaches the webhook', () => admitted(ns).code === 0, 1000, 20);
  t.comment(`Sidecar seen ${seen.elapsedMs} ms after kubectl apply returned`);

  const other = freshNamespace(t, 'live-label', MESH);
  t.equal(admitted(other).code, 1);
  t.equal(kubectl(['label', 'namespace', other, 'sidecar-guard.io/mode=audit']).code, 0);
  const relabelled = await eventually('the namespace label reaches the webhook', () => admitted(other).code === 0, 1000, 20);
  t.comment(`namespace label seen ${relabelled.elapsedMs} ms after kubectl label returned`);
});

interface EtcdHeader {
  header: { revision: string };
}

// Watches served straight from etcd (no watch cache) that the API server ends cleanly every few
// seconds: a watch resumed after a compaction then gets 410 Gone, as after a long disconnect.
const GONE_PRONE = ['--watch-cache=false', '--min-request-timeout=3'];

async function restartApiserver(args?: (current: readonly string[]) => string[], between?: () => Promise<void>): Promise<void> {
  await restartProcess('kube-apiserver', { ...(args ? { args } : {}), ...(between ? { between } : {}) });
  await waitFor('kube-apiserver after restart', async () => kubectl(['get', '--raw', '/readyz']).code === 0, 90_000, '.e2e/logs/kube-apiserver.log');
}

t.test('after an etcd compaction the watch gets 410 Gone, re-lists, and no change is lost', async (t) => {
  const state = environment();
  const metrics = async () => (await webhookGet(`${state.webhookUrl}/metrics`, state.webhookCaPem)).body;
  await restartApiserver((current) => [...current.filter((a) => !GONE_PRONE.some((g) => a.startsWith(g.split('=')[0] ?? ''))), ...GONE_PRONE]);
  t.teardown(() => restartApiserver((current) => current.filter((a) => !GONE_PRONE.includes(a))));

  const ns = freshNamespace(t, 'compact', MESH);
  await eventually('the webhook is back on the restarted API server', () => admitted(ns).code === 1 || undefined, 30_000, 200);
  const goneBefore = counterSum(await metrics(), 'sidecar_guard_watch_restarts_total', { reason: 'gone' });

  const webhookPid = state.processes.find((p) => p.name === 'sidecar-guard')?.pid ?? 0;
  // Freeze the webhook so it misses the change below, then move etcd past its resourceVersion.
  process.kill(webhookPid, 'SIGSTOP');
  try {
    t.equal(kubectl(['label', 'namespace', ns, 'sidecar-guard.io/mode=audit']).code, 0);
    for (let i = 0; i < 5; i++) kubectl(['create', 'configmap', `filler-${i}`, '-n', ns]);
    const range = (await (await fetch(`${state.etcdUrl}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) })).json()) as EtcdHeader;
    const compacted = await fetch(`${state.etcdUrl}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: range.header.revision, physical: true }) });
    t.equal(compacted.status, 200, `etcd compacted at revision ${range.header.revision}`);
    // Let the API server end the frozen watch (min-request-timeout) while the webhook cannot read.
    await new Promise((resolve) => setTimeout(resolve, 7000));
  } finally {
    process.kill(webhookPid, 'SIGCONT');
  }

  const gone = await eventually('a watch restart for 410 Gone', async () => {
    const count = counterSum(await metrics(), 'sidecar_guard_watch_restarts_total', { reason: 'gone' });
    return count > goneBefore ? count : undefined;
  }, 20_000, 250);
  t.ok(gone.value > goneBefore, `the watch ended with 410 Gone and re-listed (gone restarts ${goneBefore} → ${gone.value})`);

  const recovered = await eventually('the webhook sees the label changed while it was frozen', () => {
    const result = admitted(ns);
    return result.code === 0 ? result : undefined;
  }, 10_000, 200);
  t.ok(warnings(recovered.value).some((w) => w.includes('[audit]')), 'the namespace is now in audit mode');

  const fresh = freshNamespace(t, 'compact-after', MESH);
  t.equal(kubectl(['apply', '-f', '-'], sidecar(fresh, 'default')).code, 0);
  await eventually('changes after the recovery are seen', () => admitted(fresh).code === 0, 5000, 50);
});
