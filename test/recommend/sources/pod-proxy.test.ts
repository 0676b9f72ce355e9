import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import t from 'tap';
import { parse } from 'yaml';
import { recommendProfiles } from '../../../src/recommend/recommend-profiles.js';
import { recommendScopes } from '../../../src/recommend/recommend-scope.js';
import { scrapePodProxies, statsPath } from '../../../src/recommend/sources/pod-proxy.js';
import { readStatsFiles } from '../../../src/recommend/sources/files.js';
import { snapshotSource } from '../../../src/recommend/sources/source.js';
import { startFakePodProxy } from '../../support/fake-pod-proxy.js';

const MI = 2 ** 20;
const fixtures = fileURLToPath(new URL('../../fixtures/synthetic-stats/', import.meta.url));
const podList = parse(readFileSync(`${fixtures}bookinfo-pods.yaml`, 'utf8')) as { items: { metadata: { name: string; namespace: string } }[] };
const stats = (namespace: string, pod: string, scrape: number): string | undefined => {
  try {
    return readFileSync(`${fixtures}${namespace}/${pod}@${scrape}.txt`, 'utf8');
  } catch {
    return undefined;
  }
};
const notRunning = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'old-job-x2kqp', namespace: 'bookinfo' }, spec: { containers: [{ name: 'istio-proxy' }] }, status: { phase: 'Succeeded' } };
const unmeshed = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'plain', namespace: 'bookinfo' }, spec: { containers: [{ name: 'app' }] }, status: { phase: 'Running' } };

t.test('the pod-proxy path', async (t) => {
  t.equal(statsPath('bookinfo', 'ratings-v1-7bd5c8f96c-m5vxr'), '/api/v1/namespaces/bookinfo/pods/ratings-v1-7bd5c8f96c-m5vxr:15020/proxy/stats/prometheus');
});

t.test('two scrapes through the API server give the same answers as the saved dumps', async (t) => {
  const server = await startFakePodProxy({ pods: [...podList.items, notRunning, unmeshed], stats, token: 's3cret' });
  t.teardown(() => server.close());
  const slept: number[] = [];
  const warnings: string[] = [];
  const source = snapshotSource(
    () => scrapePodProxies({ kubeConfig: server.kubeConfig(), namespace: 'bookinfo', samples: 2, intervalMs: 30_000, sleep: async (ms) => void slept.push(ms) }, warnings),
    warnings,
  );
  const rec = recommendProfiles(await source.memory());
  // The pod list comes from the API, the stats from the proxies: the same answer as from the saved dumps.
  const saved = recommendProfiles(await snapshotSource(() => readStatsFiles([`${fixtures}bookinfo`], { podsFile: `${fixtures}bookinfo-pods.yaml` })).memory());
  t.same(rec.profiles, saved.profiles);
  t.same(rec.rules, saved.rules);
  t.ok(rec.workloads.every((w) => w.signals.includes('agent_physical')), "the merged scrape carries the agent's memory");
  t.equal(rec.workloads.find((w) => w.workload === 'reviews-v3')?.recommended, 256 * MI, 'OOMKilled status read from the API');
  const [scope] = recommendScopes(await source.scope());
  t.equal(scope?.clustersBefore, 26);
  t.equal(scope?.clustersAfter, 20);
  t.same(slept, [30_000], 'one pause between the two rounds');
  t.same(warnings, []);
  const scraped = server.requests.filter((p) => p.endsWith('/stats/prometheus'));
  t.equal(scraped.length, 14, '7 running meshed pods × 2 scrapes; the finished and the unmeshed pod are not scraped');
  t.ok(server.requests.includes('/api/v1/namespaces/bookinfo/pods'));
});

t.test('one scrape counts counters since proxy start; unreachable proxies are warnings', async (t) => {
  const server = await startFakePodProxy({
    pods: podList.items,
    stats: (ns, pod, scrape) => (pod.startsWith('details') ? undefined : stats(ns, pod, scrape)),
  });
  t.teardown(() => server.close());
  const warnings: string[] = [];
  const source = snapshotSource(() => scrapePodProxies({ kubeConfig: server.kubeConfig() }, warnings), warnings);
  const [scope] = recommendScopes(await source.scope());
  // With a single scrape reviews-v1's old 17 requests to ratings count; details (and its stripe calls) is missing.
  t.notOk(scope?.hosts.includes('*/api.stripe.com'));
  t.ok(scope?.hosts.includes('bookinfo/ratings.bookinfo.svc.cluster.local'));
  t.equal(scope?.proxies, 6);
  t.match(warnings.join('\n'), /details-v1-6c8b9d7f4b-q7wzt: GET .* HTTP 503 upstream connect error/);
  t.ok(server.requests.includes('/api/v1/pods'), 'all namespaces when none is given');
});

t.test('an API server that refuses the credentials fails the listing', async (t) => {
  const server = await startFakePodProxy({ pods: podList.items, stats, token: 'expected' });
  t.teardown(() => server.close());
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: server.url, skipTLSVerify: true }],
    users: [{ name: 'wrong', token: 'guessed' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'wrong' }],
    currentContext: 'fake',
  });
  await t.rejects(scrapePodProxies({ kubeConfig }), /401|Unauthorized/);
});
