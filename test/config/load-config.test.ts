import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigStore } from '../../src/config/config-store.js';
import { DEFAULT_CONFIG } from '../../src/config/defaults.js';
import { BUILT_IN_CONFIG, parseConfig } from '../../src/config/load-config.js';

const CONTRACT = `
mode: enforce
defaultProfile: medium
profiles:
  small:   { cpu: 50m,  cpuLimit: 500m,  memory: 64Mi,  memoryLimit: 128Mi }
  medium:  { cpu: 100m, cpuLimit: 1000m, memory: 128Mi, memoryLimit: 256Mi, maxMemoryLimit: 512Mi }
  large:   { cpu: 200m, cpuLimit: 2000m, memory: 256Mi, memoryLimit: 1Gi }
  gateway: { cpu: 500m, cpuLimit: 4000m, memory: 512Mi, memoryLimit: 2Gi }
rules:                      # first match wins; all given fields must match
  - { profile: gateway, match: { gateway: true } }
  - { profile: gateway, match: { podLabels: { istio: ingressgateway }, namespaces: [istio-system, istio-ingress, istio-egress] } }
  - { profile: small,   match: { namespaces: ["batch-*"] } }
tenancy:
  gatewayNamespaces: [istio-system, istio-ingress, istio-egress]
  ceilings: { maxCpu: 2000m, maxCpuLimit: 4000m, maxMemory: 2Gi, maxMemoryLimit: 2Gi }
scope:
  acceptRootNamespaceDefault: false
  rootNamespace: istio-system
  suggestedEgressHosts: ["./*", "istio-system/*"]
exceptions:
  allowOn: [namespace]
  maxDays: 90
`;

t.test('the documented contract parses and equals the built-in defaults', async (t) => {
  t.same(parseConfig(CONTRACT), BUILT_IN_CONFIG);
  t.same(BUILT_IN_CONFIG, DEFAULT_CONFIG);
  t.ok(Object.isFrozen(BUILT_IN_CONFIG.profiles.medium), 'deep-frozen');
});

t.test('numeric quantities read as Kubernetes does', async (t) => {
  const config = parseConfig('profiles: { a: { cpu: 1, cpuLimit: 2, memory: 1Mi, memoryLimit: 2Mi } }\ndefaultProfile: a\nrules: []');
  t.same(config.profiles.a, { cpu: '1', cpuLimit: '2', memory: '1Mi', memoryLimit: '2Mi' });
});

t.test('missing sections take the defaults', async (t) => {
  const config = parseConfig('mode: audit\nscope: { acceptRootNamespaceDefault: true }');
  t.equal(config.mode, 'audit');
  t.equal(config.scope.acceptRootNamespaceDefault, true);
  t.equal(config.scope.rootNamespace, 'istio-system');
  t.same(config.profiles, DEFAULT_CONFIG.profiles);
  t.same(parseConfig(''), BUILT_IN_CONFIG, 'an empty file is the defaults');
});

const bad: [string, string, RegExp][] = [
  ['unknown mode', 'mode: strict', /mode must be one of enforce, audit, off/],
  ['unknown top-level key', 'modes: audit', /modes is not a known setting/],
  ['bad quantity', 'profiles: { a: { cpu: lots, cpuLimit: 1, memory: 1Mi, memoryLimit: 2Mi } }\ndefaultProfile: a\nrules: []', /profiles.a.cpu must be a Kubernetes quantity/],
  ['missing profile field', 'profiles: { a: { cpu: 1, cpuLimit: 1, memory: 1Mi } }\ndefaultProfile: a\nrules: []', /profiles.a.memoryLimit is required/],
  ['request above limit', 'profiles: { a: { cpu: 2, cpuLimit: 1, memory: 1Mi, memoryLimit: 2Mi } }\ndefaultProfile: a\nrules: []', /profiles.a.cpu \(2\) must not exceed cpuLimit \(1\)/],
  ['limit above ceiling', 'profiles: { a: { cpu: 1, cpuLimit: 1, memory: 1Mi, memoryLimit: 2Gi, maxMemoryLimit: 1Gi } }\ndefaultProfile: a\nrules: []', /memoryLimit \(2Gi\) must not exceed maxMemoryLimit \(1Gi\)/],
  ['unknown default profile', 'defaultProfile: huge', /defaultProfile "huge" is not one of the profiles/],
  ['rule to unknown profile', 'rules: [{ profile: huge, match: { gateway: true } }]', /rules\[0\].profile "huge"/],
  ['empty match', 'rules: [{ profile: small, match: {} }]', /rules.0.match must NOT have fewer than 1 properties/],
  ['unknown match field', 'rules: [{ profile: small, match: { labels: { a: b } } }]', /rules.0.match.labels is not a known setting/],
  ['bad allowOn', 'exceptions: { allowOn: [pods] }', /exceptions.allowOn.0 must be one of namespace, workload/],
  ['bad egress host', 'scope: { suggestedEgressHosts: ["reviews"] }', /scope.suggestedEgressHosts.0 must be a Sidecar egress host "<namespace>\/<dnsName>"/],
  ['a suggested egress host that imports the mesh', 'scope: { suggestedEgressHosts: ["./*", "*/*"] }', /scope.suggestedEgressHosts\[1\] "\*\/\*" imports every service in the mesh/],
  ['a suggested egress host with a mesh-wide suffix', 'scope: { suggestedEgressHosts: ["*/*.svc.cluster.local"] }', /scope.suggestedEgressHosts\[0\] .* imports every service/],
  ['bad cluster domain', 'scope: { clusterDomain: "Cluster Local" }', /scope.clusterDomain must be a lowercase DNS domain/],
  ['not YAML', 'mode: [', /not valid YAML/],
  ['not a map', '- a\n- b', /must be object/],
];
for (const [name, text, message] of bad) {
  t.test(`rejects ${name}, naming the field`, async (t) => {
    t.throws(() => parseConfig(text, 'sidecar-guard.yaml'), { message: new RegExp(`^sidecar-guard.yaml: .*${message.source}`) });
  });
}

t.test('the store reloads a changed file and keeps the last good config on a bad one', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  await writeFile(file, 'mode: audit\n');
  const rejected: string[] = [];
  const reloaded: string[] = [];
  const store = await ConfigStore.open(file, { onReload: (c) => reloaded.push(c.mode), onReject: (e) => rejected.push(e.message) });
  t.teardown(() => store.close());
  t.equal(store.current().mode, 'audit');
  await writeFile(file, 'mode: enforce\n');
  t.equal(await store.reload(), true);
  t.equal(store.current().mode, 'enforce');
  await writeFile(file, 'mode: sometimes\n');
  t.equal(await store.reload(), false);
  t.equal(store.current().mode, 'enforce', 'last good config stays');
  t.match(rejected[0], /mode must be one of/);
  t.same(reloaded, ['enforce']);
  await t.rejects(ConfigStore.open(join(dir, 'missing.yaml')), { message: `configuration file ${join(dir, 'missing.yaml')}: no such file or directory: check the path` }, 'the file and what to do, not ENOENT');
});

t.test('the store notices a change on disk by itself', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  await writeFile(file, 'mode: audit\n');
  const store = await ConfigStore.open(file);
  const changed = new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (store.current().mode === 'off') {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });
  store.watch(25);
  t.teardown(() => store.close());
  await writeFile(file, 'mode: off\ndefaultProfile: small\n');
  await changed;
  t.equal(store.current().defaultProfile, 'small');
});
