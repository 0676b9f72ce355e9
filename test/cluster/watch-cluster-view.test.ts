import t, { type Test } from 'tap';
import { Registry } from 'prom-client';
import { WatchClusterView } from '../../src/cluster/watch-cluster-view.js';
import { BUILT_IN_CONFIG, resolveConfig } from '../../src/config/load-config.js';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { NOW, injectedPod, namespace, pod, review, sidecar, type Json } from '../support/builders.js';
import { eventually, eventuallyAsync } from '../support/eventually.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { clusterViewContract } from './cluster-view-contract.js';

async function startServer(t: Test, objects: Json[] = [], options = {}) {
  const server = await new FakeApiServer(options).start();
  t.teardown(() => server.stop());
  for (const object of objects) server.put(object);
  return server;
}

async function startView(t: Test, server: FakeApiServer, options: Partial<Parameters<typeof WatchClusterView.start>[0]> = {}) {
  const view = await WatchClusterView.start({ kubeConfig: server.kubeConfig(), backoff: { initialMs: 20, maxMs: 200 }, ...options });
  t.teardown(() => view.close());
  return view;
}

t.test('contract: watch-backed view over the stand-in API server', async (t) => {
  clusterViewContract(t, async (t, objects) => {
    const server = await startServer(t, objects.filter((o) => o.kind !== 'ConfigMap'));
    const view = await startView(t, server);
    await view.waitForSync(10_000);
    return view;
  });
});

t.test('a change in the cluster reaches decisions', async (t) => {
  const server = await startServer(t, [namespace('shop', { 'istio-injection': 'enabled' })]);
  const view = await startView(t, server);
  await view.waitForSync();
  const app = buildApp({ config: () => BUILT_IN_CONFIG, view, metrics: createMetrics({ defaultMetrics: false }), now: () => NOW, readiness: () => ({ ready: view.isSynced() }) });
  const decide = async () => (await app.inject({ method: 'POST', url: '/validate', payload: review(pod({ name: 'web' })) })).json().response.allowed as boolean;
  t.equal(await decide(), false, 'no Sidecar yet');
  const added = server.put(sidecar('shop', 'default'));
  await eventually(() => view.sidecars('shop').length === 1, 'the Sidecar to arrive');
  t.equal(await decide(), true, 'the new Sidecar admits the pod');
  server.remove(added);
  await eventually(() => view.sidecars('shop').length === 0, 'the deletion to arrive');
  t.equal(await decide(), false);
  server.put(namespace('shop', { 'istio-injection': 'disabled' }));
  await eventually(() => view.namespace('shop')?.labels['istio-injection'] === 'disabled', 'the label change');
  t.equal(await decide(), true, 'out of the mesh now');
});

t.test('lists are paged and v1beta1 is used where v1 is not served', async (t) => {
  const objects = [...Array.from({ length: 7 }, (_, i) => namespace(`ns-${i}`)), sidecar('ns-1', 'default', { apiVersion: 'networking.istio.io/v1beta1' })];
  const server = await startServer(t, objects, { served: ['v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'] });
  const view = await startView(t, server, { pageSize: 3 });
  await view.waitForSync();
  t.equal(view.sidecarVersion, 'v1beta1');
  t.equal(view.namespace('ns-6')?.name, 'ns-6', 'every page read');
  t.equal(view.sidecars('ns-1').length, 1);
  t.ok(server.requests.some((r) => r.startsWith('GET /api/v1/namespaces?') && r.includes('continue=')), 'a continue token was followed');
  // Synced means listed: the watches that follow may not have reached the server yet.
  await eventually(() => server.requests.some((r) => r.includes('watch=true') && r.includes('allowWatchBookmarks=true')), 'watches ask for bookmarks');
});

t.test('the view survives a restart of the API server', async (t) => {
  const registry = new Registry();
  const server = await startServer(t, [namespace('shop')]);
  const view = await startView(t, server, { registry });
  await view.waitForSync();
  await server.stop();
  server.put(sidecar('shop', 'default'));
  await server.restart();
  await eventually(() => view.sidecars('shop').length === 1, 'the change made while it was down');
  server.put(namespace('tools'));
  await eventually(() => view.namespace('tools') !== undefined, 'a change after the restart');
  t.ok(view.isSynced());
  t.match(await registry.metrics(), /sidecar_guard_watch_restarts_total\{resource="(namespaces|sidecars)",reason="(error|list-error|closed)"\} [1-9]/);
});

t.test('a silent watch is restarted and catches up', async (t) => {
  const registry = new Registry();
  const server = await startServer(t, [namespace('shop')]);
  const view = await startView(t, server, { registry, staleAfterMs: 200 });
  await view.waitForSync();
  server.silence(true);
  server.put(sidecar('shop', 'default'));
  await eventually(() => view.sidecars('shop').length === 1, 'the restarted watch to deliver the missed event');
  // Under load the event may come in on a watch that was not yet silenced; the silenced one is
  // still restarted as stale, which is what this test is about.
  const stale = /sidecar_guard_watch_restarts_total\{resource="sidecars",reason="stale"\} [1-9]/;
  await eventuallyAsync(async () => stale.test(await registry.metrics()), 'a stale restart of the silenced watch');
  const metrics = await registry.metrics();
  t.match(metrics, stale);
  t.match(metrics, /sidecar_guard_cache_objects\{resource="namespaces"\} 1/);
  t.match(metrics, /sidecar_guard_cache_last_event_age_seconds\{resource="sidecars"\} [0-9.]+/);
});

t.test('410 Gone re-lists; dropped connections resume', async (t) => {
  const registry = new Registry();
  const server = await startServer(t, [namespace('shop'), sidecar('shop', 'old')]);
  const view = await startView(t, server, { registry });
  await view.waitForSync();
  server.dropWatches();
  server.put(sidecar('shop', 'after-drop'));
  await eventually(() => view.sidecars('shop').some((s) => s.name === 'after-drop'), 'an event after the drop');
  // Delete while the watches hear nothing, then lose the history: resuming from the old
  // resourceVersion gets 410 Gone, and only a re-list can notice the deletion.
  server.silence(true);
  server.remove(sidecar('shop', 'old'));
  server.silence(false);
  server.compact();
  server.endWatches();
  await eventually(() => !view.sidecars('shop').some((s) => s.name === 'old'), 'the re-list to drop what was deleted while history was lost');
  t.match(await registry.metrics(), /sidecar_guard_watch_restarts_total\{resource="sidecars",reason="gone"\} [1-9]/);
});

t.test('until synced, the view says so and decisions follow cluster.whenUnsynced', async (t) => {
  // Namespaces cannot be listed (core v1 not served): the view can never sync.
  const server = await startServer(t, [], { served: ['networking.istio.io/v1'] });
  const restarts: string[] = [];
  const view = await startView(t, server, { onRestart: (resource, reason) => restarts.push(`${resource}:${reason}`) });
  await eventually(() => restarts.includes('namespaces:list-error'), 'a failed list to be retried');
  t.equal(view.isSynced(), false);
  const app = buildApp({ config: () => BUILT_IN_CONFIG, view, metrics: createMetrics({ defaultMetrics: false }), now: () => NOW, readiness: () => ({ ready: view.isSynced() }) });
  t.equal((await app.inject('/readyz')).statusCode, 503);
  const allowed = (await app.inject({ method: 'POST', url: '/validate', payload: review(pod({})) })).json();
  t.equal(allowed.response.allowed, true);
  t.match(allowed.response.warnings.join(' '), /cluster view not synced.*whenUnsynced: allow/);
  const strict = resolveConfig({ cluster: { whenUnsynced: 'deny' } });
  const denyingApp = buildApp({ config: () => strict, view, metrics: createMetrics({ defaultMetrics: false }), now: () => NOW, readiness: () => ({ ready: false }) });
  const denied = (await denyingApp.inject({ method: 'POST', url: '/validate', payload: review(pod({})) })).json();
  t.same([denied.response.allowed, denied.response.status.code], [false, 403]);
});

t.test('opted-in pods: one label-selected watch per opt-in label; a pod leaves the view only when it drops both keys', async (t) => {
  const registry = new Registry();
  const server = await startServer(t, [namespace('tools'), sidecar('tools', 'default')]);
  const view = await startView(t, server, { registry });
  await view.waitForSync();
  const app = buildApp({ config: () => BUILT_IN_CONFIG, view, metrics: createMetrics({ defaultMetrics: false }), now: () => NOW, readiness: () => ({ ready: true }) });
  const deleteDefault = async () =>
    (await app.inject({ method: 'POST', url: '/validate', payload: review(null, { operation: 'DELETE', oldObject: sidecar('tools', 'default'), namespace: 'tools' }) })).json().response;
  t.equal((await deleteDefault()).allowed, true, 'no opted-in pod yet: the Sidecar may go');

  const labels = { app: 'web', 'sidecar.istio.io/inject': 'true', 'istio.io/rev': 'canary' };
  server.put(injectedPod({ name: 'web-1', namespace: 'tools', labels }));
  server.put(injectedPod({ name: 'plain', namespace: 'tools', labels: { app: 'plain' } }));
  await eventually(() => view.optedInPods('tools').length === 1, 'the opted-in pod to arrive');
  const denied = await deleteDefault();
  t.same([denied.allowed, denied.status.message.includes('Pod "web-1"')], [false, true], 'now deleting it would unscope the pod');
  t.ok(server.requests.some((r) => r.startsWith('GET /api/v1/pods?') && r.includes('labelSelector=sidecar.istio.io%2Finject') && r.includes('watch=true')), 'watched by label');
  t.ok(server.requests.some((r) => r.startsWith('GET /api/v1/pods?') && r.includes('labelSelector=istio.io%2Frev') && !r.includes('watch=true')), 'listed by label');
  t.match(await registry.metrics(), /sidecar_guard_cache_objects\{resource="pods"\} 1\n/, 'one pod, counted once though both watches hold it');

  server.put(injectedPod({ name: 'web-1', namespace: 'tools', labels: { app: 'web', 'istio.io/rev': 'canary' } }));
  await eventually(() => view.optedInPods('tools')[0]?.labels['sidecar.istio.io/inject'] === undefined, 'the relabel to arrive');
  t.equal(view.optedInPods('tools').length, 1, 'still held by the istio.io/rev watch');
  server.put(injectedPod({ name: 'web-1', namespace: 'tools', labels: { app: 'web' } }));
  await eventually(() => view.optedInPods('tools').length === 0, 'the pod to leave the view with its last opt-in key');
  server.put(injectedPod({ name: 'web-1', namespace: 'tools', labels: { app: 'web', 'istio.io/rev': 'stable' } }));
  await eventually(() => view.optedInPods('tools').length === 1, 'a pod entering a selector is added');
  server.remove(injectedPod({ name: 'web-1', namespace: 'tools' }));
  await eventually(() => view.optedInPods('tools').length === 0, 'the deletion to arrive');
  t.equal((await deleteDefault()).allowed, true);
});

t.test('startRetrying: an API server that comes up late, then Istio CRDs applied late, ends synced', async (t) => {
  // Take a free port, then leave it empty: connection refused until the server starts on it.
  const server = new FakeApiServer({ served: ['v1'] });
  await server.start();
  const kubeConfig = server.kubeConfig();
  await server.stop();
  server.put(namespace('shop', { 'istio-injection': 'enabled' }));
  server.put(sidecar('shop', 'default'));
  const errors: string[] = [];
  let started: string | undefined;
  const view = WatchClusterView.startRetrying({
    kubeConfig,
    backoff: { initialMs: 20, maxMs: 100 },
    onDiscoveryError: (error) => errors.push(String((error as Error).message)),
    onStarted: (version) => (started = version),
  });
  t.teardown(() => view.close());
  await eventually(() => errors.length >= 2, 'the probe to fail and be retried');
  t.equal(view.isSynced(), false, 'not synced while the API server is down');
  t.equal(view.sidecarVersion, undefined);

  await server.start(); // on the same port as before
  t.teardown(() => server.stop());
  const refused = errors.length;
  await eventually(() => errors.length > refused && /neither networking\.istio\.io\/v1 nor v1beta1/.test(errors.at(-1) ?? ''), 'a 404 for the Sidecar CRD, retried');
  t.equal(view.isSynced(), false, 'not synced while Istio CRDs are missing');

  server.serveVersion('networking.istio.io/v1');
  await view.waitForSync(10_000);
  t.equal(started, 'v1');
  t.equal(view.sidecars('shop').length, 1, 'the Sidecar was listed');
});

t.test('startRetrying: close() ends the retry loop', async (t) => {
  const server = new FakeApiServer();
  await server.start();
  const kubeConfig = server.kubeConfig();
  await server.stop();
  let attempts = 0;
  const view = WatchClusterView.startRetrying({ kubeConfig, backoff: { initialMs: 10, maxMs: 10 }, onDiscoveryError: () => (attempts += 1) });
  await eventually(() => attempts >= 1, 'a first attempt');
  await view.close();
  const after = attempts;
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.ok(attempts <= after + 1, 'no retries after close');
  t.equal(view.isSynced(), false);
});
