import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { runCli } from '../support/run-cli.js';
import { startFakePodProxy } from '../support/fake-pod-proxy.js';
import { startFakePrometheus } from '../support/fake-prometheus.js';
import { runRecommendProfiles, type ProfilesCommandOptions } from '../../src/cli/recommend-command.js';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

// End to end: each command runs as a child process on the sources (test/support/run-cli.ts, tsx), no build step.
const fixtures = fileURLToPath(new URL('../fixtures/synthetic-stats/', import.meta.url));
const files = ['--from-files', `${fixtures}bookinfo`, '--pods', `${fixtures}bookinfo-pods.yaml`];

t.test('recommend profiles -o yaml prints a profiles/rules block the config accepts', async (t) => {
  const result = await runCli(['recommend', 'profiles', ...files, '-o', 'yaml']);
  t.equal(result.code, 0, result.stderr);
  const config = parse(result.stdout) as { profiles: Record<string, { memory: string; memoryLimit: string }>; rules: unknown[] };
  // Hand-computed in recommend-profiles.test.ts.
  t.same(Object.keys(config.profiles), ['small', 'medium', 'large', 'gateway']);
  t.equal(config.profiles['large']?.memory, '256Mi');
  t.equal(config.rules.length, 2 + 4, 'the two built-in gateway rules, then the four recommended');
  // The file says which measure each workload's numbers came from.
  t.match(result.stdout, /^# bookinfo\/reviews-v1 → small: P90 92\.0Mi, peak 92\.0Mi of agent RSS \+ Envoy physical \(4 samples\)$/m);
});

t.test('recommend profiles (table) shows workload, current, peak, profile and saving, then the YAML', async (t) => {
  const result = await runCli(['recommend', 'profiles', ...files, '--max-profiles', '2']);
  t.equal(result.code, 0, result.stderr);
  // Two levels over 80, 96, 112×2, 128, 160, 256 (recommend-profiles.test.ts): {128, 256} wastes
  // 48 + 32 + 2×16 + 96 = 208, the least. small limit max(2 × 128, floors ≤ 128) = 256Mi.
  t.match(result.stdout, /WORKLOAD\s+PODS\s+MEASURED AS\s+CURRENT REQ\/LIMIT\s+P90\s+PEAK\s+OOM\s+RECOMMENDED\s+PROFILE \(REQ\/LIMIT\)\s+SAVED/);
  t.match(result.stdout, /bookinfo\/reviews-v1\s+2\s+agent RSS \+ Envoy physical\s+128\.0Mi\/1024\.0Mi\s+92\.0Mi\s+92\.0Mi\s+0\s+112\.0Mi\s+small \(128\.0Mi\/256\.0Mi\)\s+0\.0Mi\/1536\.0Mi/);
  t.match(result.stdout, /bookinfo\/reviews-v2 .* large \(256\.0Mi\/512\.0Mi\)/);
  t.match(result.stdout, /\nprofiles:\n {2}small:/);
});

t.test('recommend scope against a stand-in Prometheus prints the Sidecars', async (t) => {
  const ref = { namespace: 'shop', pod: 'cart-7c6b5d9f8c-r9nwm' };
  const prom = await startFakePrometheus({
    canned: {
      'increase(envoy_cluster_upstream_rq_total[86400s])': [
        { metric: { ...ref, cluster_name: 'outbound|8080||checkout.shop.svc.cluster.local' }, value: 3 },
        { metric: { ...ref, cluster_name: 'outbound|80||web.other.svc.cluster.local' }, value: 0 },
      ],
      // kube-state-metrics' list of the pods running istio-proxy: every one in shop was observed.
      'kube_pod_container_info{container="istio-proxy"}': [{ metric: { ...ref, container: 'istio-proxy' }, value: 1 }],
    },
  });
  t.teardown(() => prom.close());
  const result = await runCli(['recommend', 'scope', '--prometheus', prom.url, '--window', '1d', '-o', 'yaml']);
  t.equal(result.code, 0, result.stderr);
  const [sidecar] = parseAllDocuments(result.stdout).map((d) => d.toJS() as { metadata: { namespace: string }; spec: { egress: { hosts: string[] }[] } });
  t.equal(sidecar?.metadata.namespace, 'shop');
  t.same(sidecar?.spec.egress[0]?.hosts, ['shop/checkout.shop.svc.cluster.local', 'istio-system/*']);
  t.match(result.stderr, /no kube-state-metrics/);
});

t.test('recommend scope --pod-proxy reads a kubeconfig and prints the before/after table', async (t) => {
  const pods = (parse(readFileSync(`${fixtures}bookinfo-pods.yaml`, 'utf8')) as { items: { metadata: { name: string; namespace: string } }[] }).items;
  const server = await startFakePodProxy({ pods, stats: (ns, pod) => readFileSync(`${fixtures}${ns}/${pod}@2.txt`, 'utf8'), token: 'tok' });
  t.teardown(() => server.close());
  const kubeconfig = join(t.testdir(), 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: fake, cluster: {server: "${server.url}", insecure-skip-tls-verify: true}}]\nusers: [{name: me, user: {token: tok}}]\ncontexts: [{name: fake, context: {cluster: fake, user: me}}]\ncurrent-context: fake\n`,
  );
  const args = ['recommend', 'scope', '--pod-proxy', '--kubeconfig', kubeconfig, '-n', 'bookinfo', '--per', 'workload'];
  const result = await runCli(args);
  // ratings' proxy reports 200 requests from productpage-v1 (reporter="destination"), which productpage's own
  // cluster stats do not show: its per-workload Sidecar would cut them, so it is refused (exit 1, violations).
  t.equal(result.code, 1, result.stderr);
  t.match(result.stderr, /bookinfo\/productpage-v1 cuts ratings\.bookinfo\.svc\.cluster\.local: 200 calls from bookinfo\/productpage-v1 \(request metrics\) would hit PassthroughCluster/);
  // One scrape (@2): productpage keeps details and reviews: 26 − 8 = 18 (recommend-scope.test.ts).
  t.match(result.stdout, /bookinfo\/productpage-v1\s+app=productpage\s+1\s+3\s+26\s+18\s+31%\s+cluster stats\s+1 \(refused\)/);
  t.match(result.stdout, /# NOT WRITTEN: bookinfo\/productpage-v1 would cut observed traffic/);
  t.notMatch(result.stdout, /name: productpage-v1\n/, 'no manifest for the refused Sidecar');
  t.match(result.stdout, /kind: Sidecar/, 'the others are written');
  const allowed = await runCli([...args, '--allow-cuts']);
  t.equal(allowed.code, 0, allowed.stderr);
  t.match(allowed.stdout, /# --allow-cuts: this Sidecar cuts the destinations below\n(# .*\n)*# cut: ratings\.bookinfo\.svc\.cluster\.local: 200 calls[^\n]*\n(# .*\n)*apiVersion: networking\.istio\.io\/v1\nkind: Sidecar\nmetadata:\n  name: productpage-v1/);
});

t.test('recommend cardinality names the host-header fallback and prints the Telemetry fix', async (t) => {
  const result = await runCli(['recommend', 'cardinality', '--from-files', `${fixtures}shop`, '--labels', 'destination_service']);
  t.equal(result.code, 0, result.stderr);
  t.match(result.stdout, /shop\/web-frontend-6d9f7c8b5b-tq4zx\s+web-frontend\s+144\s+140/);
  t.match(result.stdout, /144 distinct destination_service values: host-header fallback \(140 values with destination_service_namespace="unknown", reporter source/);
  t.match(result.stdout, /kind: Telemetry[\s\S]*mode: CLIENT[\s\S]*destination_service:\n\s+operation: REMOVE/);
});

t.test('recommend scopes (the plural) is the same command as recommend scope', async (t) => {
  const singular = await runCli(['recommend', 'scope', ...files, '-o', 'yaml']);
  const plural = await runCli(['recommend', 'scopes', ...files, '-o', 'yaml']);
  t.equal(plural.code, singular.code);
  t.equal(plural.stdout, singular.stdout);
  t.match(plural.stdout, /kind: Sidecar/);
});

t.test('recommend scope --config predicts before/after memory with the configured sizing.model', async (t) => {
  const dir = t.testdir();
  const model = { baseBytes: 100 * 2 ** 20, perClusterBytes: 100_000, perEndpointBytes: 5_000 };
  await writeFile(join(dir, 'config.yaml'), `sizing:\n  model:\n    baseBytes: ${model.baseBytes}\n    perClusterBytes: ${model.perClusterBytes}\n    perEndpointBytes: ${model.perEndpointBytes}\n`);
  const calibrated = await runCli(['recommend', 'scope', ...files, '--allow-cuts', '--config', join(dir, 'config.yaml')]);
  const defaults = await runCli(['recommend', 'scope', ...files, '--allow-cuts']);
  t.equal(calibrated.code, 0, calibrated.stderr);
  const held = /(\d+) → (\d+) clusters held/.exec(calibrated.stdout);
  t.ok(held, calibrated.stdout);
  const [before, after] = [Number(held?.[1]), Number(held?.[2])];
  const mib = (clusters: number) => ((model.baseBytes + model.perClusterBytes * clusters) / 2 ** 20).toFixed(1);
  t.match(calibrated.stdout, `predicted memory (busiest proxy): ${mib(before)} MiB → ${mib(after)} MiB`);
  t.notMatch(defaults.stdout, `${mib(before)} MiB →`, 'the built-in model predicts other numbers');
  const missing = await runCli(['recommend', 'scope', ...files, '--config', join(dir, 'nope.yaml')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /nope\.yaml: no such file/);
  t.equal(missing.stdout, '');
});

t.test('usage errors', async (t) => {
  const none = await runCli(['recommend', 'profiles']);
  t.equal(none.code, 2, 'a usage error, as in every command (src/cli/exit-codes.ts)');
  t.match(none.stderr, /give exactly one source/);
  const badCpu = await runCli(['recommend', 'profiles', ...files, '--cpu', '2', '--cpu-limit', '1']);
  t.match(badCpu.stderr, /--cpu 2 is above --cpu-limit 1/);
  const badFormat = await runCli(['recommend', 'scope', ...files, '-o', 'xml']);
  t.equal(badFormat.code, 2);
});

t.test('recommend --pod-proxy without a usable cluster: exit 3 (src/cli/exit-codes.ts), naming what was tried, nothing on stdout', async (t) => {
  const dir = t.testdir();
  const missing = await runCli(['recommend', 'scope', '--pod-proxy', '--kubeconfig', join(dir, 'nope')]);
  t.equal(missing.code, 3, missing.stderr);
  t.match(missing.stderr, /^sidecar-guard: --kubeconfig \S+nope: no such file/);
  // A server that is not there: a port just freed.
  const { createServer } = await import('node:net');
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: gone, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\nusers: [{name: me, user: {token: tok}}]\ncontexts: [{name: gone, context: {cluster: gone, user: me}}]\ncurrent-context: gone\n`,
  );
  const unreachable = await runCli(['recommend', 'profiles', '--pod-proxy', '--kubeconfig', kubeconfig]);
  t.equal(unreachable.code, 3, unreachable.stderr);
  t.match(unreachable.stderr, new RegExp(`cannot reach the Kubernetes API server https://127\\.0\\.0\\.1:${port} \\(from --kubeconfig `));
  t.equal(unreachable.stdout, '');
  t.notMatch(unreachable.stderr, /\n\s+at /, 'no stack trace');
});

t.test('--prometheus must be an http(s) URL: a usage error naming it', async (t) => {
  const options = { output: 'table', maxProfiles: 3, percentile: 90, headroom: 0.15, limitRatio: 2, cpu: '100m', cpuLimit: '1000m' } as ProfilesCommandOptions;
  const io = { stdout: () => undefined, stderr: () => undefined };
  for (const url of ['notaurl', 'prometheus:9090']) {
    await t.rejects(runRecommendProfiles({ ...options, prometheus: url, window: '1h', step: '5m' }, io), { message: `--prometheus ${url}: not an http:// or https:// URL: give the server's address, e.g. http://prometheus.monitoring:9090`, exitCode: 2 }, url);
  }
});

t.test('a bad --window or --step is a usage error naming the flag', async (t) => {
  const options = { output: 'table', maxProfiles: 3, percentile: 90, headroom: 0.15, limitRatio: 2, cpu: '100m', cpuLimit: '1000m', prometheus: 'http://prometheus:9090' } as ProfilesCommandOptions;
  const io = { stdout: () => undefined, stderr: () => undefined };
  await t.rejects(runRecommendProfiles({ ...options, window: 'a week', step: '5m' }, io), { message: /^--window: not a duration: "a week"/, exitCode: 2 });
  await t.rejects(runRecommendProfiles({ ...options, window: '7d', step: '0s' }, io), { message: '--step 0s: must be above zero', exitCode: 2 });
});

t.test('the action function, in process, with an injected source', async (t) => {
  const out: string[] = [];
  const options = { output: 'json', maxProfiles: 3, percentile: 90, headroom: 0.15, limitRatio: 2, cpu: '100m', cpuLimit: '1000m' } as ProfilesCommandOptions;
  const source = { warnings: ['w1'], memory: async () => ({ pods: [], series: [] }), scope: async () => ({ pods: [], proxies: [] }), cardinality: async () => ({ pods: [], proxies: [] }) };
  await t.rejects(runRecommendProfiles(options, { stdout: (s) => out.push(s), stderr: (s) => out.push(s), source }), /no istio-proxy memory stats/);
  t.same(out, ['warning: w1\n']);
});
