import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse, stringify } from 'yaml';
import type { AuditReport } from '../../src/audit/audit.js';
import { runCli } from '../support/run-cli.js';

const APPS = 'examples/audit/mesh-apps.yaml';

t.test('audit of realistic manifests: table, verdicts and exit code 1', async (t) => {
  const { code, stdout } = await runCli(['audit', '-f', APPS]);
  t.equal(code, 1, 'enforce would deny something');
  t.match(stdout, /bookinfo\s+Deployment\/productpage-v1\s+yes\s+DENY\s+medium\s+.*MISSING_SIDECAR/);
  t.match(stdout, /batch-reports\s+CronJob\/nightly-report\s+yes\s+DENY\s+small\s+.*SIDECAR_NOT_SCOPING/);
  t.match(stdout, /istio-ingress\s+Deployment\/istio-ingressgateway\s+yes\s+pass\s+gateway/);
  t.match(stdout, /tools\s+DaemonSet\/node-exporter\s+no\s+pass/);
  t.match(stdout, /4 namespaces \(3 in the mesh\), 6 workloads \(5 meshed\): 4 would be denied, 1 Sidecar problems/);
  t.notMatch(stdout, /\u001b\[/, 'no colour when not on a terminal');
});

t.test('-o json and -o yaml have the documented shape', async (t) => {
  const json = await runCli(['audit', '-f', APPS, '-o', 'json']);
  const report = JSON.parse(json.stdout) as AuditReport;
  t.same(Object.keys(report).sort(), ['namespaces', 'summary', 'workloads']);
  const reviews = report.workloads.find((w) => w.name === 'reviews-v1');
  t.same(reviews?.codes, ['MISSING_SIDECAR', 'ABOVE_CEILING']);
  t.same(reviews?.current, { memoryLimit: '1Gi' });
  t.equal(reviews?.currentSource, 'annotations');
  t.same(reviews?.target, { cpu: '100m', cpuLimit: '1000m', memory: '128Mi', memoryLimit: '1Gi' });
  const batch = report.namespaces.find((n) => n.name === 'batch-reports');
  t.same(batch?.problems.map((p) => p.code), ['SIDECAR_WILDCARD_EGRESS']);
  const yaml = await runCli(['audit', '-f', APPS, '-o', 'yaml']);
  t.same(parse(yaml.stdout), report, 'yaml carries the same report');
});

t.test('--fix prints Sidecars that make every scope finding pass', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-audit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fix = await runCli(['audit', '-f', APPS, '--fix']);
  const documents = fix.stdout.split(/^---$/m).map((d) => parse(d)).filter(Boolean) as { kind: string; metadata: { name: string; namespace: string } }[];
  t.same(documents.map((d) => `${d.kind}/${d.metadata.namespace}/${d.metadata.name}`), ['Sidecar/batch-reports/everything', 'Sidecar/bookinfo/default']);
  t.match(fix.stdout, /# not fixed by a Sidecar: bookinfo\/Deployment\/reviews-v1: ABOVE_CEILING/);
  const fixFile = join(dir, 'fix.yaml');
  await writeFile(fixFile, fix.stdout);
  const again = await runCli(['audit', '-f', APPS, '-f', fixFile, '-o', 'json']);
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
  const clean = await runCli(['audit', '-f', '-', '-n', 'team-a', '-o', 'json'], { stdin: JSON.stringify(list) });
  t.equal(clean.code, 0, clean.stderr);
  const report = JSON.parse(clean.stdout) as AuditReport;
  t.same(report.workloads.map((w) => [w.namespace, w.name, w.verdict]), [['team-a', 'api', 'pass']]);
  t.equal(report.namespaces[0]?.scopedBy, 'team-a/default');
  const unscoped = await runCli(['audit', '-f', '-', '-n', 'team-b'], { stdin: stringify(list.items[2]) });
  t.equal(unscoped.code, 0, 'team-b is unknown, so not in the mesh');
});

t.test('usage and input errors exit 2 with a message', async (t) => {
  const missing = await runCli(['audit', '-f', 'no/such/file.yaml']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /ENOENT|no such file/);
  const broken = await runCli(['audit', '-f', '-'], { stdin: 'kind: Pod\nmetadata: [\n' });
  t.equal(broken.code, 2);
  t.match(broken.stderr, /<stdin>:\d+/);
  const format = await runCli(['audit', '-f', APPS, '-o', 'xml']);
  t.equal(format.code, 2);
  t.match(format.stderr, /'-o, --output <format>' argument 'xml' is invalid\. Allowed choices are table, json, yaml/);
  const badConfig = await runCli(['audit', '-f', APPS, '--config', 'package.json']);
  t.equal(badConfig.code, 2);
  t.match(badConfig.stderr, /is not a known setting/);
  const unknownFlag = await runCli(['audit', '--frobnicate']);
  t.equal(unknownFlag.code, 2);
});
