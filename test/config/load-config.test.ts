import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigStore } from '../../src/config/config-store.js';
import { DEFAULT_CONFIG } from '../../src/config/defaults.js';
import { BUILT_IN_CONFIG, parseConfig, parseConfigWithNotices } from '../../src/config/load-config.js';

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
  ['unknown top-level key', 'modes: audit', /modes is not a known setting: check the spelling \(the settings are mode, defaultProfile, defaultRules, profiles, rules, scope, tenancy, exceptions, cluster, sizing\)$/],
  ['bad quantity', 'profiles: { a: { cpu: lots, cpuLimit: 1, memory: 1Mi, memoryLimit: 2Mi } }\ndefaultProfile: a\nrules: []', /profiles.a.cpu must be a Kubernetes quantity/],
  ['missing profile field', 'profiles: { a: { cpu: 1, cpuLimit: 1, memory: 1Mi } }\ndefaultProfile: a\nrules: []', /profiles.a.memoryLimit is required: add it$/],
  ['request above limit', 'profiles: { a: { cpu: 2, cpuLimit: 1, memory: 1Mi, memoryLimit: 2Mi } }\ndefaultProfile: a\nrules: []', /profiles.a.cpu \(2\) must not exceed cpuLimit \(1\): lower cpu or raise cpuLimit$/],
  ['limit above ceiling', 'profiles: { a: { cpu: 1, cpuLimit: 1, memory: 1Mi, memoryLimit: 2Gi, maxMemoryLimit: 1Gi } }\ndefaultProfile: a\nrules: []', /profiles.a.memoryLimit \(2Gi\) must not exceed maxMemoryLimit \(1Gi\)/],
  ['unknown default profile', 'defaultProfile: huge', /defaultProfile "huge" is not one of the profiles \(small, medium, large, gateway\): set defaultProfile to one of them, or add "huge" under profiles$/],
  ['rule to unknown profile', 'rules: [{ profile: huge, match: { gateway: true } }]', /rules\[0\].profile "huge" is not one of the profiles \(small, medium, large, gateway\): name one of them, or add "huge" under profiles$/],
  ['empty match', 'rules: [{ profile: small, match: {} }]', /rules\[0\].match must not be empty: give at least one entry, or leave the key out for the default$/],
  ['unknown match field', 'rules: [{ profile: small, match: { labels: { a: b } } }]', /rules\[0\].match.labels is not a known setting here: check the spelling and the indentation/],
  ['rules as a map', 'rules: { profile: small }', /rules must be a list \(\[a, b\] or one "- item" per line\)$/],
  ['bad allowOn', 'exceptions: { allowOn: [pods] }', /exceptions.allowOn\[0\] must be one of namespace, workload/],
  ['repeated allowOn', 'exceptions: { allowOn: [namespace, namespace] }', /exceptions.allowOn lists an item twice: remove the repeat$/],
  ['maxDays zero', 'exceptions: { maxDays: 0 }', /exceptions.maxDays must be at least 1$/],
  ['bad egress host', 'scope: { suggestedEgressHosts: ["reviews"] }', /scope.suggestedEgressHosts\[0\] must be a Sidecar egress host "<namespace>\/<dnsName>"/],
  ['no egress hosts', 'scope: { suggestedEgressHosts: [] }', /scope.suggestedEgressHosts must not be an empty list/],
  ['a suggested egress host that imports the mesh', 'scope: { suggestedEgressHosts: ["./*", "*/*"] }', /scope.suggestedEgressHosts\[1\] "\*\/\*" imports every service in the mesh, the very thing a Sidecar is for preventing: suggest hosts such as "\.\/\*" and "istio-system\/\*"$/],
  ['a suggested egress host with a mesh-wide suffix', 'scope: { suggestedEgressHosts: ["*/*.svc.cluster.local"] }', /scope.suggestedEgressHosts\[0\] .* imports every service/],
  ['a mesh-wide suffix of a custom cluster domain', 'scope: { clusterDomain: corp.internal, suggestedEgressHosts: ["*/*.svc.corp.internal"] }', /scope.suggestedEgressHosts\[0\] .* imports every service/],
  ['bad cluster domain', 'scope: { clusterDomain: "Cluster Local" }', /scope.clusterDomain must be a lowercase DNS domain/],
  ['a bad defaultServiceExportTo value', 'scope: { defaultServiceExportTo: ["Shop Floor"] }', /scope.defaultServiceExportTo\[0\] must be an exportTo value: "\*" \(every namespace\), "\." \(its own\), "~" \(none\) or a namespace name/],
  ['an empty defaultServiceExportTo', 'scope: { defaultServiceExportTo: [] }', /scope.defaultServiceExportTo must not be an empty list/],
  ['not YAML', 'mode: [', /not valid YAML: .*[^:]: fix the line it names/],
  ['not a map', '- a\n- b', /\(top level\) must be a map of settings \(mode, profiles, rules, …\), not a single value or a list$/],
  ['profiles without the default one', 'profiles: { tiny: { cpu: 10m, cpuLimit: 100m, memory: 32Mi, memoryLimit: 64Mi } }', /defaultProfile "medium" is not one of the profiles \(tiny\): set defaultProfile to one of them \(your profiles replace the built-in ones, so the built-in default "medium" is gone\)$/],
  ['profiles with a typo in a rule', 'profiles: { tiny: { cpu: 10m, cpuLimit: 100m, memory: 32Mi, memoryLimit: 64Mi } }\ndefaultProfile: tiny\nrules: [{ profile: tinny, match: { namespaces: [a] } }]', /rules\[0\].profile "tinny" is not one of the profiles \(tiny\)/],
];
for (const [name, text, message] of bad) {
  t.test(`rejects ${name}, naming the key and the fix`, async (t) => {
    t.throws(() => parseConfig(text, 'sidecar-guard.yaml'), { message: new RegExp(`^sidecar-guard.yaml: ${message.source}`) });
  });
}

const TINY = 'profiles:\n  tiny: { cpu: 10m, cpuLimit: 100m, memory: 32Mi, memoryLimit: 64Mi }\n  gateway: { cpu: 500m, cpuLimit: 4000m, memory: 512Mi, memoryLimit: 2Gi }\ndefaultProfile: tiny\n';

t.test('rules: the file\'s own come first, then the built-in ones; defaultRules: false keeps only the file\'s', async (t) => {
  const one = parseConfigWithNotices('rules: [{ profile: large, match: { namespaces: [search] } }]');
  t.same(one.config.rules, [{ profile: 'large', match: { namespaces: ['search'] } }, ...DEFAULT_CONFIG.rules], 'the gateway rules are kept, after the user rule');
  t.same(one.notices, []);
  const only = parseConfig('defaultRules: false\nrules: [{ profile: large, match: { namespaces: [search] } }]');
  t.same(only.rules, [{ profile: 'large', match: { namespaces: ['search'] } }]);
  t.same(parseConfig('rules: [{ profile: gateway, match: { gateway: true } }]').rules, DEFAULT_CONFIG.rules, 'a rule the file repeats from the defaults is not doubled');
});

t.test('profiles without rules: the built-in rules whose profile is missing are left out, with a notice', async (t) => {
  const loaded = parseConfigWithNotices(TINY);
  t.same(loaded.config.rules, DEFAULT_CONFIG.rules.filter((r) => r.profile === 'gateway'), 'the gateway rules stay (their profile is there); batch-* → small goes');
  t.same(loaded.notices, [
    'built-in rule { profile: small, match: {namespaces:[batch-*]} } left out: profiles has no "small" (add a "small" profile to keep it, or set defaultRules: false to use only your rules)',
  ]);
  t.same(parseConfigWithNotices(`${TINY}defaultRules: false\n`).notices, [], 'no notice when the built-in rules are turned off');
});

t.test('the store passes notices on, at load and on reload', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'config.yaml');
  await writeFile(file, TINY);
  const notices: string[] = [];
  const store = await ConfigStore.open(file, { onNotice: (n) => notices.push(n) });
  t.equal(notices.length, 1);
  t.match(notices[0], /left out: profiles has no "small"/);
  await writeFile(file, `${TINY}defaultRules: false\n`);
  t.equal(await store.reload(), true);
  t.equal(notices.length, 1, 'none for the new file');
});

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
