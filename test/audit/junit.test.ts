import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { validateXML } from 'xmllint-wasm';
import { UNJUDGED_AND_OUTSIDE } from '../support/audit-manifests.js';
import { runInProcess } from '../support/run-in-process.js';

// Jenkins/Ant JUnit schema (test/fixtures/schemas/PROVENANCE.md), checked by libxml2's xmllint compiled to WebAssembly.
async function validateJunit(xml: string): Promise<{ valid: boolean; errors: string[] }> {
  const schema = await readFile('test/fixtures/schemas/junit-10.xsd', 'utf8');
  const result = await validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], schema: [{ fileName: 'junit-10.xsd', contents: schema }] });
  return { valid: result.valid, errors: result.errors.map((e) => e.rawMessage) };
}

const MANIFESTS = `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: tools}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {sidecar.istio.io/proxyMemory: "1Gi<&\\"'"}
    spec: {containers: [{name: web, image: web}]}
---
${UNJUDGED_AND_OUTSIDE}---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: wide, namespace: shop}
spec:
  workloadSelector: {labels: {app: other}}
  egress: [{hosts: ["*/*"]}]
`;

interface Case {
  classname: string;
  name: string;
  body: string;
}

function cases(xml: string): Case[] {
  return [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => ({ classname: m[1] ?? '', name: m[2] ?? '', body: m[3] ?? '' }));
}

t.test('-o junit: valid against the JUnit schema, a test case per workload and Sidecar, failures for violations', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-junit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'm'));
  const file = join(dir, 'm', 'all.yaml');
  await writeFile(file, MANIFESTS);
  const { code, stdout } = await runInProcess(['audit', '-f', file, '-o', 'junit']);
  t.equal(code, 1, 'exit code as for the table');
  const check = await validateJunit(stdout);
  t.ok(check.valid, `valid: ${check.errors.join('; ')}`);

  const all = cases(stdout);
  t.same(all.map((c) => `${c.classname} ${c.name}`).sort(), ['elsewhere/Deployment cache', 'shop/Deployment web', 'shop/Sidecar wide', 'tools/Pod probe']);
  const web = all.find((c) => c.name === 'web');
  t.match(web?.body, /<failure type="MISSING_SIDECAR" message="MISSING_SIDECAR: /);
  t.match(web?.body, /<failure type="INVALID_QUANTITY"/, 'every violation its own failure');
  t.match(web?.body, /1Gi&lt;&amp;&quot;&apos;/, 'hostile annotation text is escaped');
  t.match(web?.body, /What to do: /, 'the README action in the failure text');
  t.match(web?.body, new RegExp(`source: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:9`), 'file and line of the object');
  t.match(all.find((c) => c.name === 'wide')?.body, /<failure type="SIDECAR_WILDCARD_EGRESS"/);
  t.match(all.find((c) => c.name === 'cache')?.body, /<error type="UNKNOWN_NAMESPACE"/, 'not judged: an error, not a failure');
  t.match(all.find((c) => c.name === 'probe')?.body, /<skipped message="not in the mesh \(NOT_IN_MESH\)"\/>/);
  t.match(stdout, /<testsuite name="shop" tests="2" failures="2" errors="0" skipped="0"/);
  t.match(stdout, /<testsuite name="tools" tests="1" failures="0" errors="0" skipped="1"/);
  t.match(stdout, /<testsuites name="sidecar-guard audit" tests="4" failures="2" errors="1">/);
});

t.test('a clean audit is a passing suite', async (t) => {
  const { code, stdout } = await runInProcess(['audit', '-f', '-', '-o', 'junit'], { stdin: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: tools}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: tools}\nspec: {containers: [{name: c, image: c}]}\n' });
  t.equal(code, 0);
  t.ok((await validateJunit(stdout)).valid);
  t.match(stdout, /tests="1" failures="0" errors="0"/);
  t.notMatch(stdout, /source:/, 'stdin is no file to name');
});

t.test('the schema check is live: a test case without a name is refused', async (t) => {
  const check = await validateJunit('<?xml version="1.0"?><testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase classname="x"/></testsuite></testsuites>');
  t.notOk(check.valid);
});
