import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { chooseProfile } from '../../src/policy/profiles.js';
import { parseQuantity } from '../../src/policy/quantity.js';
import { runRecommendProfiles, type ProfilesCommandOptions } from '../../src/cli/recommend-command.js';
import type { MemoryEvidence, PodFacts } from '../../src/recommend/observations.js';
import { DEFAULT_PROFILE_OPTIONS, recommendProfiles, type ProfileRecommendation } from '../../src/recommend/recommend-profiles.js';
import { profilesYaml } from '../../src/recommend/render-recommendations.js';
import type { WorkloadSizing } from '../../src/recommend/size-workloads.js';

const MI = 2 ** 20;

/** `count` workloads in two namespaces, each needing a different size, and optionally a gateway. */
function evidence(count: number, gatewayMi?: number): MemoryEvidence {
  const pods: PodFacts[] = [];
  const series: MemoryEvidence['series'][number][] = [];
  for (let i = 1; i <= count; i += 1) {
    const namespace = i % 2 === 0 ? 'even' : 'odd';
    pods.push({ namespace, pod: `w${i}-0`, workload: `w${i}`, workloadKind: 'StatefulSet', labels: { app: `w${i}` }, oomKills: 0, gateway: false });
    series.push({ namespace, pod: `w${i}-0`, signal: 'working_set', values: [i * 100 * MI, i * 110 * MI] });
  }
  if (gatewayMi !== undefined) {
    const gw = { namespace: 'istio-system', pod: 'istio-ingressgateway-7c6b5d9f8c-r9nwm', workload: 'istio-ingressgateway' };
    pods.push({ ...gw, workloadKind: 'Deployment', labels: { istio: 'ingressgateway', app: 'istio-ingressgateway' }, oomKills: 0, gateway: true });
    series.push({ namespace: gw.namespace, pod: gw.pod, signal: 'agent_physical', values: [gatewayMi * MI] });
  }
  return { pods, series };
}

/** What the webhook gives a workload under a loaded config. */
function profileUnder(config: Config, w: WorkloadSizing, gateway: boolean) {
  const pod = { labels: w.labels, annotations: {}, hostNetwork: false, containers: [], initContainers: [] };
  return chooseProfile({ pod, namespace: w.namespace, namespaceLabels: {}, namespaceAnnotations: {}, gateway }, config);
}

function assertLoadsAndCovers(t: Test, rec: ProfileRecommendation): Config {
  const config = parseConfig(profilesYaml(rec), 'recommend output');
  t.ok(Object.hasOwn(config.profiles, config.defaultProfile), `defaultProfile ${config.defaultProfile} is emitted`);
  for (const w of rec.workloads) {
    const chosen = profileUnder(config, w, false);
    t.ok((parseQuantity(chosen.profile.memory) ?? 0) >= w.recommended, `${w.workload}: ${chosen.name} request covers its need`);
    t.ok((parseQuantity(chosen.profile.memoryLimit) ?? 0) >= w.limitFloor, `${w.workload}: ${chosen.name} limit covers its peak + headroom`);
  }
  for (const g of rec.gateways) {
    const chosen = profileUnder(config, g, true);
    t.equal(chosen.name, 'gateway', `${g.workload} gets the gateway profile`);
    t.ok((parseQuantity(chosen.profile.memoryLimit) ?? 0) >= g.limitFloor, `${g.workload}: gateway limit covers its peak + headroom`);
  }
  return config;
}

t.test('the YAML loads in serve --config for every profile count, gateway profile and rules kept', async (t) => {
  for (const count of [1, 2, 3, 4, 5, 6]) {
    await t.test(`${count} profile(s)`, async (t) => {
      const rec = recommendProfiles(evidence(count), { ...DEFAULT_PROFILE_OPTIONS, maxProfiles: count });
      t.equal(Object.keys(rec.profiles).length, count);
      const config = assertLoadsAndCovers(t, rec);
      const workloadProfiles = Object.keys(rec.profiles);
      t.equal(config.defaultProfile, workloadProfiles[workloadProfiles.length - 1], 'the default is the largest workload profile');
      t.same(config.profiles['gateway'], { cpu: '500m', cpuLimit: '4000m', memory: '512Mi', memoryLimit: '2Gi' }, 'built-in gateway profile');
      t.same(
        config.rules.slice(0, 2).map((r) => r.profile),
        ['gateway', 'gateway'],
        'the built-in gateway rules come first',
      );
    });
  }
});

t.test('observed gateways raise the gateway profile; a profile above a built-in ceiling raises that ceiling', async (t) => {
  // The gateway's container peaks at 1800Mi → 2070Mi → 2560Mi request; a workload needs 11 × 110 = 1210 → 1391.5 → 1536Mi.
  const rec = recommendProfiles(evidence(11, 1800), { ...DEFAULT_PROFILE_OPTIONS, maxProfiles: 3 });
  const config = assertLoadsAndCovers(t, rec);
  t.equal(config.profiles['gateway']?.memory, '2560Mi');
  t.equal(config.profiles['gateway']?.memoryLimit, '5Gi', 'request × limit ratio 2');
  t.equal(config.tenancy.ceilings.maxMemoryLimit, '5Gi');
  t.equal(config.tenancy.ceilings.maxMemory, '2560Mi');
  t.equal(config.tenancy.ceilings.maxCpu, '2000m', 'untouched ceilings keep their built-in value');
  t.match(profilesYaml(rec), /^# tenancy\.ceilings\.maxMemoryLimit raised from 2Gi to 5Gi: /m);
});

t.test('the command, in process, on the Bookinfo dumps: every --max-profiles loads', async (t) => {
  const fixtures = fileURLToPath(new URL('../fixtures/synthetic-stats/', import.meta.url));
  for (const maxProfiles of [1, 2, 3, 4]) {
    const out: string[] = [];
    const options: ProfilesCommandOptions = {
      ...DEFAULT_PROFILE_OPTIONS,
      fromFiles: [`${fixtures}bookinfo`],
      pods: `${fixtures}bookinfo-pods.yaml`,
      output: 'yaml',
      maxProfiles,
      window: '7d',
      step: '5m',
      samples: 1,
      interval: '30s',
      namespaceLabel: 'namespace',
      podLabel: 'pod',
    };
    await runRecommendProfiles(options, { stdout: (s) => out.push(s), stderr: () => undefined });
    const config = parseConfig(out.join(''), `--max-profiles ${maxProfiles}`);
    t.ok(Object.hasOwn(config.profiles, config.defaultProfile), `--max-profiles ${maxProfiles}: defaultProfile ${config.defaultProfile}`);
    t.ok(Object.hasOwn(config.profiles, 'gateway'), `--max-profiles ${maxProfiles}: gateway profile`);
  }
});
