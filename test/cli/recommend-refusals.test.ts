import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runRecommendProfiles, runRecommendScope, sourceFlagProblem, type ProfilesCommandOptions, type ScopeCommandOptions, type SourceOptions } from '../../src/cli/recommend-command.js';
import { DEFAULT_PROFILE_OPTIONS } from '../../src/recommend/recommend-profiles.js';
import { SOURCE_DEFAULTS, scopeOptions } from '../support/recommend-options.js';
import { runCli } from '../support/run-cli.js';

// What recommend refuses to print, and how it says so. The CLI turns a thrown input error into exit 2
// (src/cli/main.ts): one spawned run checks that; the rest run the action functions in process.
const real = fileURLToPath(new URL('../fixtures/istio-1.11-merged/', import.meta.url));

function capture(): { stdout: string[]; stderr: string[]; io: { stdout: (s: string) => void; stderr: (s: string) => void } } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, io: { stdout: (s) => stdout.push(s), stderr: (s) => stderr.push(s) } };
}

t.test('profiles: Envoy-only stats are refused, the agent shares the container', async (t) => {
  // The real 1.11 scrape without pilot-agent's lines is what Envoy's own port (15090) serves.
  const merged = readFileSync(join(real, 'default/reviews-v1.txt'), 'utf8');
  const dir = join(t.testdir(), 'default');
  await mkdir(dir);
  await writeFile(join(dir, 'reviews-v1.txt'), merged.split('\n').filter((line) => !line.includes('istio_agent_')).join('\n'));
  const out = capture();
  const options: ProfilesCommandOptions = { ...DEFAULT_PROFILE_OPTIONS, ...SOURCE_DEFAULTS, output: 'yaml', fromFiles: [dir] };
  await t.rejects(runRecommendProfiles(options, out.io), {
    message: /no istio-proxy container memory for default\/reviews-v1 \(Envoy physical only, Envoy heap only, Envoy allocated only\).*container_memory_working_set_bytes\{container="istio-proxy"\}.*port 15020/,
  });
  t.same(out.stdout, [], 'nothing to redirect into a config file');
  // The same file with the agent's lines is sized.
  await runRecommendProfiles({ ...options, fromFiles: [real] }, out.io);
  t.match(out.stdout.join(''), /default\/reviews-v1 → standard: .* of agent RSS \+ Envoy physical/);
});

t.test('scope: exit 2 and nothing on stdout when the stats cannot show the destinations (real 1.11 scrape)', async (t) => {
  const result = await runCli(['recommend', 'scope', '--from-files', real, '-o', 'yaml']);
  t.equal(result.code, 2, 'an input error in the exit-code contract: the input cannot support a safe scope');
  t.equal(result.stdout, '', 'nothing for -o yaml > file to apply');
  t.match(result.stderr, /no Sidecar written: the stats do not show which services default\/reviews-v1 call/);
  t.match(result.stderr, /proxyStatsMatcher: \{inclusionPrefixes: \["cluster\.outbound"\]\}/);
});

t.test('scope: one proxy without outbound counters refuses the whole run', async (t) => {
  const synthetic = fileURLToPath(new URL('../fixtures/synthetic-stats/bookinfo', import.meta.url));
  const out = capture();
  await t.rejects(runRecommendScope(scopeOptions([synthetic, real]), out.io), { message: /services default\/reviews-v1 call/ });
  t.same(out.stdout, []);
});

t.test('scope: a selector-less Sidecar in the root namespace is refused unless asked for', async (t) => {
  const calls = [{ cluster: 'outbound|9080||productpage.bookinfo.svc.cluster.local', requests: 5, connections: 1, counted: true }];
  const inventory = { pods: [], completeIn: ['*'], from: 'the test' };
  const evidence = { pods: [], inventory, proxies: ['istio-ingressgateway-7c6b5d9f8c-r9nwm', 'kiali-6d9f7c8b5b-tq4zx'].map((pod) => ({ namespace: 'istio-system', pod, clusters: calls })) };
  const source = { warnings: [], memory: async () => ({ pods: [], series: [] }), scope: async () => evidence, cardinality: async () => ({ pods: [], proxies: [] }) };
  const refused = capture();
  await t.rejects(runRecommendScope(scopeOptions([]), { ...refused.io, source }), {
    message: /selector-less Sidecar in istio-system, the root namespace, which would be the mesh-wide default.*--mesh-wide-default/,
  });
  t.same(refused.stdout, []);
  t.match(refused.stderr.join(''), /note: istio-system\/istio-ingressgateway is a gateway: Sidecars do not apply to gateways/);
  const asked = capture();
  await runRecommendScope(scopeOptions([], { meshWideDefault: true }), { ...asked.io, source });
  t.match(asked.stdout.join(''), /namespace: istio-system/);
});

t.test('scope --per workload: workloads no label singles out are refused, not folded into a namespace default', async (t) => {
  const calls = [{ cluster: 'outbound|80||web.ns.svc.cluster.local', requests: 1, connections: 1, counted: true }];
  const pods = ['a', 'b'].map((w) => ({ namespace: 'ns', pod: `${w}-0`, workload: w, workloadKind: 'StatefulSet' as const, labels: { app: 'x' }, oomKills: 0, gateway: false }));
  const evidence = { pods, inventory: { pods, completeIn: ['ns'], from: 'the test' }, proxies: pods.map((p) => ({ namespace: p.namespace, pod: p.pod, clusters: calls })) };
  const source = { warnings: [], memory: async () => ({ pods: [], series: [] }), scope: async () => evidence, cardinality: async () => ({ pods: [], proxies: [] }) };
  const out = capture();
  await t.rejects(runRecommendScope(scopeOptions([], { per: 'workload' }), { ...out.io, source }), {
    message: /--per workload cannot single out ns\/a, ns\/b by its labels.*--pods FILE.*--per namespace/,
  });
  t.same(out.stdout, []);
  await runRecommendScope(scopeOptions([], { per: 'namespace' }), { ...out.io, source });
  t.match(out.stdout.join(''), /name: default/, 'per namespace, the same evidence is a namespace Sidecar by request');
});

t.test('-n works with --from-files: only that namespace is read', async (t) => {
  const synthetic = fileURLToPath(new URL('../fixtures/synthetic-stats/bookinfo', import.meta.url));
  const out = capture();
  // The real scrape (namespace default) would refuse the run; -n bookinfo leaves it out.
  const pods = fileURLToPath(new URL('../fixtures/synthetic-stats/bookinfo-pods.yaml', import.meta.url));
  await runRecommendScope(scopeOptions([synthetic, real], { namespace: 'bookinfo', pods }), out.io);
  t.match(out.stdout.join(''), /namespace: bookinfo/);
  t.notMatch(out.stdout.join(''), /namespace: default/);
  await t.rejects(runRecommendScope(scopeOptions([synthetic, real], { namespace: 'nope' }), capture().io), {
    message: /no stats for namespace nope in .* \(namespaces there: bookinfo, default\)/,
  });
});

t.test('a flag the chosen source would ignore is an error naming the source it belongs to', async (t) => {
  const files: SourceOptions = { ...SOURCE_DEFAULTS, output: 'table', fromFiles: ['d'] };
  t.equal(sourceFlagProblem(files, new Set(['window'])), '--window only works with --prometheus, not --from-files: drop it or use --prometheus');
  t.match(sourceFlagProblem({ ...files, fromFiles: undefined, prometheus: 'http://p' }, new Set(['selector'])), /--selector only works with --pod-proxy/);
  t.match(sourceFlagProblem({ ...files, fromFiles: undefined, podProxy: true }, new Set(['pods'])), /--pods only works with --from-files/);
  t.equal(sourceFlagProblem(files, new Set(['namespace', 'pods', 'output'])), undefined, '-n works everywhere; --pods with files');
  const result = await runCli(['recommend', 'cardinality', '--from-files', real, '--window', '1d']);
  t.equal(result.code, 2, 'a usage error');
  t.match(result.stderr, /--window only works with --prometheus, not --from-files/);
  t.equal(result.stdout, '');
});

t.test('scope: a failed --pod-proxy scrape leaves a workload unobserved: no namespace Sidecar, per workload only the observed ones', async (t) => {
  const { startFakePodProxy } = await import('../support/fake-pod-proxy.js');
  const { parse } = await import('yaml');
  const fixtures = fileURLToPath(new URL('../fixtures/synthetic-stats/', import.meta.url));
  const pods = (parse(readFileSync(`${fixtures}bookinfo-pods.yaml`, 'utf8')) as { items: { metadata: { name: string; namespace: string } }[] }).items;
  // ratings' proxy does not answer (503, as an unready proxy): only a warning for the scrape.
  const server = await startFakePodProxy({
    pods,
    stats: (ns, pod) => (pod.startsWith('ratings') ? undefined : readFileSync(`${fixtures}${ns}/${pod}@2.txt`, 'utf8')),
  });
  t.teardown(() => server.close());
  const kubeconfig = join(t.testdir(), 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: "${server.url}", insecure-skip-tls-verify: true}}]\nusers: [{name: me, user: {}}]\ncontexts: [{name: fake, context: {cluster: fake, user: me}}]\ncurrent-context: fake\n`,
  );
  const live = (extra: Partial<ScopeCommandOptions>): ScopeCommandOptions => ({ ...scopeOptions([]), fromFiles: undefined, podProxy: true, kubeconfig, namespace: 'bookinfo', ...extra });
  const refused = capture();
  await t.rejects(runRecommendScope(live({}), refused.io), {
    message: /no Sidecar written: a namespace-wide Sidecar would also apply to bookinfo\/ratings-v1, which the API server's pod list lists as running but the source has no stats for.*--per workload/,
    exitCode: 2,
  });
  t.same(refused.stdout, [], 'nothing for -o yaml > file to apply');
  t.match(refused.stderr.join(''), /warning: bookinfo\/ratings-v1-7bd5c8f96c-m5vxr: /, 'the failed scrape is named');

  const perWorkload = capture();
  await runRecommendScope(live({ per: 'workload' }), perWorkload.io);
  const names = perWorkload.stdout.join('').match(/^ {2}name: .*$/gm);
  t.same(names, ['  name: details-v1', '  name: productpage-v1', '  name: reviews-v1', '  name: reviews-v2', '  name: reviews-v3'], 'no Sidecar selects ratings');
  t.notMatch(perWorkload.stdout.join(''), /app: ratings/);
  t.match(perWorkload.stderr.join(''), /note: no Sidecar for bookinfo\/ratings-v1: listed as running, but the source has no stats for it/);

  // -l narrows the listing: the namespace's other pods are unknown, so nothing is written.
  await t.rejects(runRecommendScope(live({ selector: 'app=reviews' }), capture().io), { message: /does not list the pods there.*drop -l\/--selector/ });
});

t.test('scope: saved dumps need the namespace pod list, and every listed workload needs its dump', async (t) => {
  const synthetic = fileURLToPath(new URL('../fixtures/synthetic-stats/bookinfo', import.meta.url));
  const pods = fileURLToPath(new URL('../fixtures/synthetic-stats/bookinfo-pods.yaml', import.meta.url));
  await t.rejects(runRecommendScope(scopeOptions([synthetic]), capture().io), {
    message: /a Sidecar in bookinfo also applies to .*does not list the pods there.*--pods FILE.*kubectl get pods -n bookinfo -o yaml/,
    exitCode: 2,
  });
  // details' dumps left out: details-v1 is in the pod list with no stats.
  const dir = join(t.testdir(), 'bookinfo');
  await mkdir(dir);
  for (const file of ['productpage-v1-5f7d8c9b6d-x2kqp', 'ratings-v1-7bd5c8f96c-m5vxr', 'reviews-v1-7d4b9c8f6d-h4k2n', 'reviews-v1-7d4b9c8f6d-z8rtc', 'reviews-v2-5c9d7b6f8d-w6j9s', 'reviews-v3-6f9c8d7b5c-k2vbn']) {
    for (const n of [1, 2]) await writeFile(join(dir, `${file}@${n}.txt`), readFileSync(join(synthetic, `${file}@${n}.txt`)));
  }
  const out = capture();
  await t.rejects(runRecommendScope(scopeOptions([dir], { pods }), out.io), { message: /would also apply to bookinfo\/details-v1, which the pod list .* lists as running/ });
  t.same(out.stdout, []);
  const all = capture();
  await runRecommendScope(scopeOptions([synthetic], { pods }), all.io);
  t.match(all.stdout.join(''), /name: default/, 'with every dump and the pod list, the namespace Sidecar is written');
});

t.test('profiles: --limit-ratio below 1 is refused: the limits would be below the requests', async (t) => {
  const options: ProfilesCommandOptions = { ...DEFAULT_PROFILE_OPTIONS, ...SOURCE_DEFAULTS, output: 'yaml', fromFiles: [real], limitRatio: 0.5 };
  const out = capture();
  await t.rejects(runRecommendProfiles(options, out.io), { message: /--limit-ratio 0\.5 would put memory limits below the requests.*give 1 or more/, exitCode: 2 });
  t.same(out.stdout, []);
});
