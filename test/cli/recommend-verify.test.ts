import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runRecommendScope, type ScopeCommandOptions } from '../../src/cli/recommend-command.js';
import { CliError, EXIT } from '../../src/cli/exit-codes.js';
import { scopeOptions } from '../support/recommend-options.js';
import { runCli } from '../support/run-cli.js';

// `recommend scope` verifies each Sidecar against the traffic its proxies were seen to use, and refuses (exit 1) one
// that would cut it unless --allow-cuts. The synthetic Bookinfo scrapes, plus an access log for productpage.
const synthetic = fileURLToPath(new URL('../fixtures/synthetic-stats/', import.meta.url));
const options = (extra: Partial<ScopeCommandOptions> = {}): ScopeCommandOptions => scopeOptions([`${synthetic}bookinfo`], { pods: `${synthetic}bookinfo-pods.yaml`, ...extra });
const capture = () => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, io: { stdout: (s: string) => stdout.push(s), stderr: (s: string) => stderr.push(s) } };
};

/** productpage's istio-proxy output: one call to httpbin in sandbox (not in its stats), one TLS call passed through. */
async function accessLog(dir: string): Promise<string> {
  await mkdir(join(dir, 'bookinfo'), { recursive: true });
  const file = join(dir, 'bookinfo', 'productpage-v1-5f7d8c9b6d-x2kqp.log');
  await writeFile(
    file,
    [
      '2026-11-30T08:00:00.000000Z\tinfo\tEnvoy proxy is ready',
      '[2026-11-30T08:00:01.000Z] "GET /headers HTTP/1.1" 200 - via_upstream - "-" 0 120 4 3 "-" "python-requests" "a1" "httpbin.sandbox:8000" "10.4.0.9:80" outbound|8000||httpbin.sandbox.svc.cluster.local 10.4.1.2:40000 10.96.3.4:8000 10.4.1.2:39999 - default',
      '[2026-11-30T09:00:01.000Z] "- - -" 0 - - - "-" 812 4096 120 - "-" "-" "-" "-" "140.82.112.3:443" PassthroughCluster 10.4.1.2:51234 140.82.112.3:443 10.4.1.2:51230 api.github.com -',
    ].join('\n'),
  );
  return file;
}

t.test('nothing cut: the Sidecar is printed with its verification and predicted memory as comments', async (t) => {
  const out = capture();
  await runRecommendScope(options(), out.io);
  const yaml = out.stdout.join('');
  t.match(yaml, /^# bookinfo\/default: cuts no observed traffic \(4 kept\); window 1d: counters since the proxies started \(shortest uptime 1d\); confidence medium: 1d and 1,669 calls/);
  t.match(yaml, /# predicted memory \(busiest proxy\): 37\.0 MiB → 36\.8 MiB \(-0\.2 MiB\), model on the observed cluster counts: 26 → 20 clusters held/);
  t.match(yaml, /kind: Sidecar/);
});

t.test('a cut from the access log: refused with exit 1, the reason and the destinations on stderr and stdout, no manifest', async (t) => {
  const log = await accessLog(t.testdir());
  const out = capture();
  const error = await runRecommendScope(options({ accessLog: [log] }), out.io).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.ok(error instanceof CliError);
  t.equal((error as CliError).exitCode, EXIT.VIOLATIONS);
  t.match((error as CliError).message, /a Sidecar not written \(bookinfo\/default\): it would cut traffic its proxies were seen to use: bookinfo\/default cuts httpbin\.sandbox\.svc\.cluster\.local:8000: 1 call from bookinfo\/productpage-v1-5f7d8c9b6d-x2kqp \(access log\) would hit PassthroughCluster; keep it with egress host sandbox\/httpbin\.sandbox\.svc\.cluster\.local.*--allow-cuts/);
  const yaml = out.stdout.join('');
  t.notMatch(yaml, /kind: Sidecar/, 'nothing for -o yaml > file to apply');
  t.match(yaml, /^# NOT WRITTEN: bookinfo\/default would cut observed traffic/);
  t.match(yaml, /# cut: httpbin\.sandbox\.svc\.cluster\.local:8000: 1 call/);
  t.match(yaml, /# outside the registry: api\.github\.com via PassthroughCluster: 1 call from bookinfo\/productpage-v1-5f7d8c9b6d-x2kqp \(access log\): already outside Istio's registry/);
  // The access log spans an hour, the counters a day: the longer one is the window.
  t.match(yaml, /window 1d: counters since the proxies started/);

  const json = capture();
  const jsonError = await runRecommendScope(options({ accessLog: [log], output: 'json' }), json.io).catch((e: unknown) => e);
  t.equal((jsonError as CliError).exitCode, EXIT.VIOLATIONS);
  const [item] = JSON.parse(json.stdout.join('')) as [{ refused: boolean; manifest?: unknown; verification: { cuts: { host: string }[] } }];
  t.equal(item.refused, true);
  t.notOk('manifest' in item, 'JSON carries no manifest for a refused Sidecar');
  t.same(item.verification.cuts.map((c) => c.host), ['httpbin.sandbox.svc.cluster.local']);

  const strict = capture();
  await t.rejects(runRecommendScope(options({ accessLog: [log], outboundTrafficPolicy: 'REGISTRY_ONLY' }), strict.io), { message: /would hit BlackHoleCluster/ });
});

t.test('--allow-cuts prints the Sidecar, the cuts as YAML comments above it, exit 0', async (t) => {
  const log = await accessLog(t.testdir());
  const out = capture();
  await runRecommendScope(options({ accessLog: [log], allowCuts: true }), out.io);
  t.match(out.stdout.join(''), /^# --allow-cuts: this Sidecar cuts the destinations below\n# bookinfo\/default: CUTS 1 observed destination \(4 kept\)[^\n]*\n# cut: httpbin\.sandbox[^\n]*\n(# [^\n]*\n)+apiVersion: networking\.istio\.io\/v1\nkind: Sidecar/);
});

t.test('the CLI: exit 1, the reason on stderr; an access log of a proxy no Sidecar covers is a warning', async (t) => {
  const dir = t.testdir();
  const log = await accessLog(dir);
  await mkdir(join(dir, 'shop'));
  await writeFile(join(dir, 'shop', 'cart-0.log'), '[2026-11-30T08:00:01.000Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 1 1 1 "-" "-" "-" "x:80" "10.0.0.1:80" outbound|80||x.shop.svc.cluster.local - - - - default\n');
  const result = await runCli(['recommend', 'scope', '--from-files', `${synthetic}bookinfo`, '--pods', `${synthetic}bookinfo-pods.yaml`, '--access-log', log, join(dir, 'shop', 'cart-0.log')]);
  t.equal(result.code, 1, result.stderr);
  t.match(result.stderr, /warning: --access-log lines of shop\/cart-0: no Sidecar here applies to that proxy/);
  t.match(result.stderr, /sidecar-guard: a Sidecar not written \(bookinfo\/default\): it would cut traffic/);
  t.match(result.stdout, /bookinfo\/default\s+\(namespace\)\s+7\s+5\s+26\s+20\s+23%\s+cluster stats\s+1 \(refused\)\s+medium\s+37\.0 MiB → 36\.8 MiB/);
  const bad = await runCli(['recommend', 'scope', '--from-files', `${synthetic}bookinfo`, '--pods', `${synthetic}bookinfo-pods.yaml`, '--access-log', join(dir, 'nope.log')]);
  t.equal(bad.code, 2, 'an unreadable --access-log is an input error');
  t.match(bad.stderr, /--access-log \S+nope\.log/);
});

t.test('--cluster-state: predicted memory from the imports the catalog gives', async (t) => {
  const dir = t.testdir();
  const services = ['productpage', 'details', 'reviews', 'ratings']
    .map((name) => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: bookinfo}\nspec: {ports: [{port: 9080}]}\n`)
    .concat(Array.from({ length: 30 }, (_, i) => `apiVersion: v1\nkind: Service\nmetadata: {name: svc-${i}, namespace: other}\nspec: {ports: [{port: 80}]}\n`));
  await writeFile(join(dir, 'services.yaml'), services.join('---\n'));
  const out = capture();
  await runRecommendScope(options({ clusterState: dir }), out.io);
  // Today no Sidecar: 34 services + 7 fixed clusters; the proposal keeps details, ratings, reviews (api.stripe.com is not in the catalog).
  t.match(out.stdout.join(''), /model on the --cluster-state catalog: no Sidecar today: imports 34 services \/ 41 clusters \/ 0 endpoints; predicted [^→]+ → imports 3 services \/ 10 clusters/);

  const missing = join(dir, 'missing');
  const result = await runCli(['recommend', 'scope', '--from-files', `${synthetic}bookinfo`, '--pods', `${synthetic}bookinfo-pods.yaml`, '--cluster-state', missing]);
  t.equal(result.code, 2, 'a missing --cluster-state is an input error');
  t.equal(result.stdout, '', 'and nothing is printed as a proposal');
  t.equal(result.stderr, `sidecar-guard: --cluster-state: ${missing}: no such file or directory: check the path\n`, 'the flag and the path, each named once');
});
