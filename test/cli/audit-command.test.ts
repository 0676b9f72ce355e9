import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import type { AuditReport } from '../../src/audit/audit.js';
import { runCli } from '../support/run-cli.js';
import { runInProcess } from '../support/run-in-process.js';

const APPS = 'examples/audit/mesh-apps.yaml';

t.test('audit of realistic manifests: table, verdicts and exit code 1 (from the real entry point)', async (t) => {
  const { code, stdout } = await runCli(['audit', '-f', APPS]);
  t.equal(code, 1, 'enforce would deny something');
  t.match(stdout, /bookinfo\s+Deployment\/productpage-v1\s+yes\s+DENY\s+medium\s+.*MISSING_SIDECAR/);
  t.match(stdout, /batch-reports\s+CronJob\/nightly-report\s+yes\s+DENY\s+small\s+.*SIDECAR_NOT_SCOPING/);
  t.match(stdout, /istio-ingress\s+Deployment\/istio-ingressgateway\s+yes\s+pass\s+gateway/);
  t.match(stdout, /tools\s+DaemonSet\/node-exporter\s+no\s+pass/);
  t.match(stdout, /4 namespaces \(3 in the mesh\), 6 workloads \(5 meshed\): 4 would be denied, 1 Sidecar problem$/m, 'plurals right: 1 Sidecar problem');
  t.notMatch(stdout, /\u001b\[/, 'no colour when not on a terminal');
});

t.test('-o json and -o yaml have the documented shape', async (t) => {
  const json = await runInProcess(['audit', '-f', APPS, '-o', 'json']);
  const report = JSON.parse(json.stdout) as AuditReport;
  t.same(Object.keys(report).sort(), ['namespaces', 'summary', 'workloads'], 'no Services in the inputs: no memory prediction, no scopingSavings');
  const reviews = report.workloads.find((w) => w.name === 'reviews-v1');
  t.same(reviews?.codes, ['MISSING_SIDECAR', 'ABOVE_CEILING']);
  t.same(reviews?.current, { memoryLimit: '1Gi' });
  t.equal(reviews?.currentSource, 'annotations');
  t.same(reviews?.target, { cpu: '100m', cpuLimit: '1000m', memory: '128Mi', memoryLimit: '1Gi' });
  const batch = report.namespaces.find((n) => n.name === 'batch-reports');
  t.same(batch?.problems.map((p) => p.code), ['SIDECAR_WILDCARD_EGRESS']);
  const yaml = await runInProcess(['audit', '-f', APPS, '-o', 'yaml']);
  t.same(parse(yaml.stdout), report, 'yaml carries the same report');
});

t.test('--fix prints Sidecars that make every scope finding pass', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-audit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fix = await runInProcess(['audit', '-f', APPS, '--fix']);
  const documents = fix.stdout.split(/^---$/m).map((d) => parse(d)).filter(Boolean) as { kind: string; metadata: { name: string; namespace: string } }[];
  t.same(documents.map((d) => `${d.kind}/${d.metadata.namespace}/${d.metadata.name}`), ['Sidecar/batch-reports/everything', 'Sidecar/bookinfo/default']);
  t.match(fix.stdout, /# not fixed by a Sidecar: bookinfo\/Deployment\/reviews-v1: ABOVE_CEILING/);
  const fixFile = join(dir, 'fix.yaml');
  await writeFile(fixFile, fix.stdout);
  const again = await runInProcess(['audit', '-f', APPS, '-f', fixFile, '-o', 'json']);
  const report = JSON.parse(again.stdout) as AuditReport;
  t.same(report.workloads.filter((w) => w.verdict === 'deny').map((w) => w.codes), [['ABOVE_CEILING']], 'only the non-scope finding is left');
  t.equal(report.summary.namespaceProblems, 0);
});

t.test('stdin, List objects and -n for documents without a namespace; clean input exits 0', async (t) => {
  const list = {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { 'istio-injection': 'enabled' } } },
      { apiVersion: 'networking.istio.io/v1beta1', kind: 'Sidecar', metadata: { name: 'default' }, spec: { egress: [{ hosts: ['./*'] }] } },
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' }, spec: { template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'api:1' }] } } } },
    ],
  };
  const clean = await runInProcess(['audit', '-f', '-', '-n', 'team-a', '-o', 'json'], { stdin: JSON.stringify(list) });
  t.equal(clean.code, 0, clean.stderr);
  const report = JSON.parse(clean.stdout) as AuditReport;
  t.same(report.workloads.map((w) => [w.namespace, w.name, w.verdict]), [['team-a', 'api', 'pass']]);
  t.equal(report.namespaces[0]?.scopedBy, 'team-a/default');
});

t.test('usage and input errors exit 2 with a message', async (t) => {
  const missing = await runInProcess(['audit', '-f', 'no/such/file.yaml']);
  t.equal(missing.code, 2);
  t.equal(missing.stderr, 'sidecar-guard audit: no/such/file.yaml: no such file or directory: check the path\n');
  const broken = await runInProcess(['audit', '-f', '-'], { stdin: 'kind: Pod\nmetadata: [\n' });
  t.equal(broken.code, 2);
  t.match(broken.stderr, /<stdin>:\d+/);
  const format = await runInProcess(['audit', '-f', APPS, '-o', 'xml']);
  t.equal(format.code, 2);
  t.match(format.stderr, /'-o, --output <format>' argument 'xml' is invalid\. Allowed choices are table, json, yaml/);
  const badConfig = await runInProcess(['audit', '-f', APPS, '--config', 'package.json']);
  t.equal(badConfig.code, 2);
  t.match(badConfig.stderr, /is not a known setting/);
  const unknownFlag = await runInProcess(['audit', '--frobnicate']);
  t.equal(unknownFlag.code, 2);
});

t.test("what loading --config decided on the user's behalf is a note on stderr (audit and explain), as serve logs it", async (t) => {
  const dir = t.testdir({ 'sg.yaml': 'profiles: { a: { cpu: 100m, cpuLimit: 1, memory: 64Mi, memoryLimit: 128Mi } }\ndefaultProfile: a\n' });
  for (const command of ['audit', 'explain']) {
    const result = await runInProcess([command, '-f', APPS, '--config', join(dir, 'sg.yaml')]);
    t.match(result.stderr, /note: .*sg\.yaml: built-in rule \{ profile: gateway, .*\} left out: profiles has no "gateway"/, command);
    t.equal(result.code, 1, `${command}: a note changes no exit code`);
  }
});

const DEPLOYMENT = stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' }, spec: { template: { metadata: { labels: { app: 'api' } }, spec: { containers: [{ name: 'api', image: 'api:1' }] } } } });

t.test('no Kubernetes objects to check is a failure of its own (4), unless --allow-empty', async (t) => {
  const dir = t.testdir({ empty: {}, 'comments.yaml': '# rendered nothing\n---\n', 'values.yaml': 'replicas: 2\n', 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' });
  const cases: [string, RegExp][] = [
    ['empty', /no Kubernetes objects in .*empty: no \.yaml, \.yml or \.json file under/],
    ['comments.yaml', /no Kubernetes objects in .*comments\.yaml: the input is empty or holds only comments/],
    ['values.yaml', /no Kubernetes objects in .*values\.yaml: 1 document, none with apiVersion and kind/],
    ['cm.yaml', /nothing to check in .*cm\.yaml: 1 object \(ConfigMap\), none a Pod, workload controller, Namespace or Sidecar/],
  ];
  for (const [name, message] of cases) {
    const result = await runInProcess(['audit', '-f', join(dir, name)]);
    t.equal(result.code, 4, name);
    t.match(result.stderr, message, name);
    t.match(result.stderr, /pass --allow-empty when an empty input is expected/, name);
    t.equal(result.stdout, '', `${name}: no report that could read as clean`);
  }
  const stdin = await runInProcess(['audit', '-f', '-'], { stdin: '' });
  t.equal(stdin.code, 4, 'an empty helm render on stdin');
  const allowed = await runInProcess(['audit', '-f', join(dir, 'empty'), '--allow-empty', '-o', 'json']);
  t.equal(allowed.code, 0, allowed.stderr);
  t.equal((JSON.parse(allowed.stdout) as AuditReport).summary.workloads, 0);
});

t.test('a namespace not among the inputs: mesh "unknown" (exit 4), said on stderr, and stated with --namespace-label', async (t) => {
  const unknown = await runInProcess(['audit', '-f', '-', '-n', 'team-b', '-o', 'json'], { stdin: DEPLOYMENT });
  t.equal(unknown.code, 4, 'not a pass: nothing is known about team-b');
  const report = JSON.parse(unknown.stdout) as AuditReport;
  t.same(report.workloads.map((w) => [w.name, w.meshed, w.verdict, w.codes]), [['api', 'unknown', 'unknown', ['UNKNOWN_NAMESPACE']]]);
  t.same(report.namespaces.map((n) => [n.name, n.inMesh]), [['team-b', 'unknown']]);
  t.equal(report.summary.unknown, 1);
  t.match(unknown.stderr, /note: 1 workload without metadata\.namespace audited in namespace "team-b"/);
  t.match(unknown.stderr, /nothing is known about namespace team-b .*--namespace-label team-b=istio-injection=enabled .*--cluster/);
  const table = await runInProcess(['audit', '-f', '-', '-n', 'team-b'], { stdin: DEPLOYMENT });
  t.match(table.stdout, /team-b\s+Deployment\/api\s+unknown\s+unknown\s/);
  t.match(table.stdout, /^1 namespace \(0 in the mesh\), 1 workload \(0 meshed, 1 unknown\): 0 would be denied, 0 Sidecar problems$/m);

  const meshed = await runInProcess(['audit', '-f', '-', '-n', 'team-b', '--namespace-label', 'team-b=istio-injection=enabled', '-o', 'json'], { stdin: DEPLOYMENT });
  t.equal(meshed.code, 1, 'stated in the mesh: the missing Sidecar is found');
  t.same((JSON.parse(meshed.stdout) as AuditReport).workloads[0]?.codes, ['MISSING_SIDECAR']);
  const outside = await runInProcess(['audit', '-f', '-', '-n', 'team-b', '--namespace-label', 'team-b=istio-injection=disabled'], { stdin: DEPLOYMENT });
  t.equal(outside.code, 0, 'stated outside the mesh: clean');
  t.notMatch(outside.stderr, /nothing is known/);
  const revision = await runInProcess(['audit', '-f', '-', '-n', 'team-b', '--namespace-label', 'team-b=istio.io/rev=canary'], { stdin: DEPLOYMENT });
  t.equal(revision.code, 1, 'a revision label is membership too');
  const badLabel = await runInProcess(['audit', '-f', '-', '--namespace-label', 'team-b=istio-injection'], { stdin: DEPLOYMENT });
  t.equal(badLabel.code, 2);
  t.match(badLabel.stderr, /expected NAMESPACE=KEY=VALUE/);
});

t.test('a Sidecar whose Namespace is not among the inputs is still checked (it passed silently, exit 0, "0 namespaces")', async (t) => {
  const wide = 'apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: everything, namespace: shop}\nspec: {egress: [{hosts: ["*/*"]}]}\n';
  const result = await runInProcess(['audit', '-f', '-', '-o', 'json'], { stdin: wide });
  t.equal(result.code, 1, 'enforce would deny it');
  const report = JSON.parse(result.stdout) as AuditReport;
  t.same(report.namespaces.map((n) => [n.name, n.inMesh, n.problems.map((p) => p.code)]), [['shop', 'unknown', ['SIDECAR_WILDCARD_EGRESS']]]);
  const scoped = await runInProcess(['audit', '-f', '-', '-n', 'shop'], { stdin: wide.replace('namespace: shop', '').replace('*/*', './*') });
  t.equal(scoped.code, 0, scoped.stderr);
  t.match(scoped.stdout, /^1 namespace \(0 in the mesh\), 0 workloads \(0 meshed\): 0 would be denied, 0 Sidecar problems$/m, 'a -n default namespace counts too');
});

t.test('a pod that settles membership itself is judged even in an unknown namespace', async (t) => {
  const pods = [
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'out', labels: { 'sidecar.istio.io/inject': 'false' } }, spec: { containers: [{ name: 'x', image: 'x' }] } },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'host', namespace: 'kube-system' }, spec: { containers: [{ name: 'x', image: 'x' }] } },
  ];
  const result = await runInProcess(['audit', '-f', '-', '-n', 'nowhere', '-o', 'json'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods }) });
  t.equal(result.code, 0, result.stderr);
  t.same((JSON.parse(result.stdout) as AuditReport).workloads.map((w) => [w.name, w.meshed, w.membership]), [
    ['host', false, 'IGNORED_NAMESPACE'],
    ['out', false, 'POD_OPTED_OUT'],
  ]);
});

t.test('flags that would be ignored in a combination are usage errors', async (t) => {
  const cases: [string[], RegExp][] = [
    [['-f', APPS, '--fix', '-o', 'json'], /-o does not apply to --fix/],
    [['-f', APPS, '--kubeconfig', 'kc.yaml'], /--kubeconfig is for a live audit \(no -f\) or with --cluster/],
    [['-f', APPS, '--page-size', '10'], /--page-size is for a live audit/],
    [['--namespace-label', 'a=b=c'], /--namespace-label applies to -f input/],
    [['--cluster-state', 'examples/cluster'], /--cluster-state applies to -f input/],
    [['-A', '-n', 'shop'], /-A is for a live audit, and not with -n/],
    [['-f', APPS, '-A'], /-A is for a live audit/],
    [['-f', APPS, '--context', 'prod'], /--context is for a live audit \(no -f\) or with --cluster/],
    [['--allow-empty'], /--allow-empty applies to -f input/],
    [['--cluster'], /--cluster adds the live cluster to -f input/],
  ];
  for (const [args, message] of cases) {
    const result = await runInProcess(['audit', ...args]);
    t.equal(result.code, 2, args.join(' '));
    t.match(result.stderr, message, args.join(' '));
  }
});
