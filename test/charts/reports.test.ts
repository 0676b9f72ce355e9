/** The report mode in the chart: on by default, its flags, CRDs only when asked (kept on uninstall), timings checked. */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { all, asArray, asRecord, one, render, template, type K8sObject } from './helm.js';

const args = (objects: K8sObject[]) => asArray(asRecord(asArray(asRecord(asRecord(asRecord(one(objects, 'Deployment')['spec'])['template'])['spec'])['containers'])[0])['args']).map(String);

t.test('on by default: every replica runs serve --reports with the values as flags; no CRD is installed', async (t) => {
  const objects = render();
  const flags = args(objects);
  for (const flag of [
    '--reports',
    '--reports-api=wgpolicyk8s',
    '--reports-lease-name=sidecar-guard-reports',
    '--reports-lease-duration-seconds=15',
    '--reports-renew-deadline-seconds=10',
    '--reports-retry-period-seconds=2',
    '--reports-debounce-seconds=2',
    '--reports-resync-seconds=60',
    '--reports-writes-per-second=5',
    '--reports-max-results=1000',
  ]) {
    t.ok(flags.includes(flag), flag);
  }
  t.same(all(objects, 'CustomResourceDefinition'), [], 'CRDs only when asked');
  t.notOk(args(render({ values: { reports: { enabled: false } } })).some((a) => a.startsWith('--reports')), 'reports.enabled=false: no flag');
});

t.test('reports.installCRDs renders the vendored CRDs of the chosen API as they are, kept on uninstall', async (t) => {
  for (const [api, file, names] of [
    ['wgpolicyk8s', 'wgpolicyk8s.io', ['policyreports.wgpolicyk8s.io', 'clusterpolicyreports.wgpolicyk8s.io']],
    ['openreports', 'openreports.io', ['reports.openreports.io', 'clusterreports.openreports.io']],
  ] as const) {
    const crds = all(render({ values: { reports: { api, installCRDs: true } } }), 'CustomResourceDefinition');
    t.same(crds.map((c) => c.metadata.name), names, `${api}: its two CRDs`);
    const vendored = parseAllDocuments(readFileSync(`charts/sidecar-guard/files/crds/${file}.yaml`, 'utf8')).map((d) => d.toJS() as K8sObject);
    for (const crd of crds) {
      const source = vendored.find((v) => v.metadata.name === crd.metadata.name);
      t.same(crd['spec'], source?.['spec'], `${crd.metadata.name}: the spec as vendored`);
      t.same(crd.metadata.annotations, { 'helm.sh/resource-policy': 'keep' }, 'helm uninstall keeps it (other tools write reports there too)');
    }
  }
  t.same(all(render({ values: { reports: { enabled: false, installCRDs: true } } }), 'CustomResourceDefinition'), [], 'no reports, no CRDs');
});

t.test("lease timings client-go would refuse fail the render with the rule", async (t) => {
  const long = template({ values: { reports: { renewDeadlineSeconds: 15 } } });
  t.not(long.code, 0);
  t.match(long.stderr, 'reports.leaseDurationSeconds (15) must be longer than reports.renewDeadlineSeconds (15)');
  const retry = template({ values: { reports: { retryPeriodSeconds: 9 } } });
  t.not(retry.code, 0);
  t.match(retry.stderr, 'reports.renewDeadlineSeconds (10) must be longer than 1.2 x reports.retryPeriodSeconds (9)');
  t.equal(template({ values: { reports: { enabled: false, renewDeadlineSeconds: 15 } } }).code, 0, 'not checked when reports are off');
});
