import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import AjvDraft04 from 'ajv-draft-04';
import formats from 'ajv-formats';
import t from 'tap';
import { reasonFor } from '../../src/audit/reason-catalog.js';
import { UNJUDGED_AND_OUTSIDE } from '../support/audit-manifests.js';
import { runInProcess } from '../support/run-in-process.js';

// The SARIF 2.1.0 schema is draft-04 (test/fixtures/schemas/PROVENANCE.md). Its language pattern
// is not a valid unicode-mode regular expression, so patterns are compiled without the u flag.
async function sarifValidator() {
  const schema = JSON.parse(await readFile('test/fixtures/schemas/sarif-schema-2.1.0-rtm.5.json', 'utf8')) as object;
  const ajv = new AjvDraft04.default({ allErrors: true, strict: false, unicodeRegExp: false });
  formats.default(ajv);
  return ajv.compile(schema);
}

interface SarifResult {
  ruleId: string;
  ruleIndex?: number;
  level: string;
  message: { text: string };
  locations: { physicalLocation?: { artifactLocation: { uri: string; uriBaseId?: string }; region: { startLine: number } }; logicalLocations: { fullyQualifiedName: string }[] }[];
  relatedLocations?: { physicalLocation?: { region: { startLine: number } } }[];
  partialFingerprints: Record<string, string>;
}
interface SarifLog {
  version: string;
  runs: { tool: { driver: { name: string; rules: { id: string; help: { text: string }; defaultConfiguration: { level: string } }[] } }; originalUriBaseIds: Record<string, { uri: string }>; results: SarifResult[] }[];
}

const NAMESPACES = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: v1
kind: Namespace
metadata:
  name: tools
`;

const APPS = `# the shop's workloads
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
---
${UNJUDGED_AND_OUTSIDE}`;

const SIDECARS = `apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: a, namespace: shop}
spec:
  egress: [{hosts: ["*/*"]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: b, namespace: shop}
spec:
  egress: [{hosts: ["./*"]}]
`;

async function workspace(t: { teardown: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-sarif-'));
  await mkdir(join(dir, 'manifests'));
  await writeFile(join(dir, 'manifests', 'namespaces.yaml'), NAMESPACES);
  await writeFile(join(dir, 'manifests', 'apps.yaml'), APPS);
  await writeFile(join(dir, 'manifests', 'sidecars.yaml'), SIDECARS);
  const before = process.cwd();
  process.chdir(dir);
  t.teardown(async () => {
    process.chdir(before);
    await rm(dir, { recursive: true, force: true });
  });
  return dir;
}

t.test('-o sarif: valid SARIF 2.1.0, one rule per reason code, results at the file and line of their object', async (t) => {
  const validate = await sarifValidator();
  const dir = await workspace(t);
  const { code, stdout } = await runInProcess(['audit', '-f', 'manifests', '-o', 'sarif']);
  t.equal(code, 1, 'exit code as for the table: enforce would deny');
  const log = JSON.parse(stdout) as SarifLog;
  t.ok(validate(log), `valid against the SARIF 2.1.0 schema: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  t.equal(log.version, '2.1.0');
  const run = log.runs[0];
  if (!run) throw new Error('no run');
  t.equal(run.tool.driver.name, 'sidecar-guard');
  const ids = run.tool.driver.rules.map((r) => r.id);
  t.equal(new Set(ids).size, ids.length, 'rule ids are unique');
  for (const code of ['MISSING_SIDECAR', 'SIDECAR_WILDCARD_EGRESS', 'DUPLICATE_NAMESPACE_SIDECAR', 'UNKNOWN_NAMESPACE', 'EXEMPTION_EXPIRED', 'HOST_NETWORK']) t.ok(ids.includes(code), `rule ${code}`);
  const missing = run.tool.driver.rules.find((r) => r.id === 'MISSING_SIDECAR');
  t.equal(missing?.help.text, `What to do: ${reasonFor('MISSING_SIDECAR')?.action}`, 'help is the README "what to do"');
  t.equal(missing?.defaultConfiguration.level, 'error');
  t.equal(run.originalUriBaseIds['%SRCROOT%']?.uri, pathToFileURL(dir).href + '/', 'URIs are relative to the working directory');
  for (const result of run.results) {
    t.equal(ids[result.ruleIndex ?? -1], result.ruleId, `${result.ruleId}: ruleIndex points at its rule`);
    // SARIF 2.1.0 errata 01 requires a region to say where it starts; this schema revision does not check it.
    t.ok((result.locations[0]?.physicalLocation?.region.startLine ?? 0) >= 1, `${result.ruleId}: a start line`);
  }

  const at = (rule: string) => run.results.filter((r) => r.ruleId === rule);
  const wildcard = at('SIDECAR_WILDCARD_EGRESS');
  t.equal(wildcard.length, 1);
  t.match(wildcard[0]?.locations[0], { physicalLocation: { artifactLocation: { uri: 'manifests/sidecars.yaml', uriBaseId: '%SRCROOT%' }, region: { startLine: 1 } } });
  t.equal(wildcard[0]?.level, 'error');
  const duplicate = at('DUPLICATE_NAMESPACE_SIDECAR')[0];
  t.match(duplicate?.locations[0]?.physicalLocation, { region: { startLine: 1 } }, 'the first of the duplicates');
  t.match(duplicate?.relatedLocations?.[0]?.physicalLocation, { region: { startLine: 7 } }, 'the other one as a related location');
  const unknown = at('UNKNOWN_NAMESPACE');
  t.equal(unknown.length, 1);
  t.equal(unknown[0]?.level, 'warning', 'not judged: a warning, not an error');
  t.match(unknown[0]?.locations[0], { physicalLocation: { artifactLocation: { uri: 'manifests/apps.yaml' }, region: { startLine: 13 } }, logicalLocations: [{ fullyQualifiedName: 'elsewhere/Deployment/cache' }] });
  t.notOk(run.results.some((r) => r.locations[0]?.logicalLocations[0]?.fullyQualifiedName === 'tools/Pod/probe'), 'a pass outside the mesh is no result');
  const web = run.results.filter((r) => r.locations[0]?.logicalLocations[0]?.fullyQualifiedName === 'shop/Deployment/web');
  t.ok(web.length > 0, 'the shop web deployment is reported');
  for (const r of web) t.match(r.locations[0]?.physicalLocation, { artifactLocation: { uri: 'manifests/apps.yaml' }, region: { startLine: 2 } });
  const prints = run.results.map((r) => `${r.ruleId}|${r.partialFingerprints['sidecarGuardObject/v1']}`);
  t.equal(new Set(prints).size, prints.length, 'fingerprints tell results apart');

  const again = JSON.parse((await runInProcess(['audit', '-f', 'manifests', '-o', 'sarif'])).stdout) as SarifLog;
  t.same(again, log, 'the same input gives the same log (stable fingerprints for code scanning)');
});

t.test('the schema check is live: a wrong level is refused', async (t) => {
  const validate = await sarifValidator();
  await workspace(t);
  const log = JSON.parse((await runInProcess(['audit', '-f', 'manifests', '-o', 'sarif'])).stdout) as SarifLog;
  const result = log.runs[0]?.results[0];
  if (result) result.level = 'fatal';
  t.notOk(validate(log));
});

t.test('stdin has no file to point at: results keep their logical location and stay valid', async (t) => {
  const validate = await sarifValidator();
  const { code, stdout } = await runInProcess(['audit', '-f', '-', '-o', 'sarif'], { stdin: NAMESPACES + '---\n' + APPS });
  t.equal(code, 1);
  const log = JSON.parse(stdout) as SarifLog;
  t.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)));
  const results = log.runs[0]?.results ?? [];
  t.ok(results.length > 0);
  for (const r of results) {
    t.equal(r.locations[0]?.physicalLocation, undefined, `${r.ruleId}: no physical location`);
    t.ok(r.locations[0]?.logicalLocations[0]?.fullyQualifiedName, 'a logical one');
  }
});

t.test('a file outside the working directory gets an absolute file: URI', async (t) => {
  const validate = await sarifValidator();
  const dir = await mkdtemp(join(tmpdir(), 'sg-sarif-out-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'all.yaml'), NAMESPACES + '---\n' + SIDECARS);
  const log = JSON.parse((await runInProcess(['audit', '-f', join(dir, 'all.yaml'), '-o', 'sarif'])).stdout) as SarifLog;
  t.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)));
  const uri = log.runs[0]?.results[0]?.locations[0]?.physicalLocation?.artifactLocation;
  t.same(uri, { uri: pathToFileURL(join(dir, 'all.yaml')).href });
});
