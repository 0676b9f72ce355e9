import { fileURLToPath } from 'node:url';
import t from 'tap';
import { recommendProfiles } from '../../src/recommend/recommend-profiles.js';
import { readStatsFiles } from '../../src/recommend/sources/files.js';
import { snapshotSource } from '../../src/recommend/sources/source.js';

const MI = 2 ** 20;
const fixtures = fileURLToPath(new URL('../fixtures/synthetic-stats/', import.meta.url));
const bookinfo = `${fixtures}bookinfo`;
const podsFile = `${fixtures}bookinfo-pods.yaml`;

t.test('Bookinfo dumps + pod list → sizes, profiles, rules and savings', async (t) => {
  const evidence = await snapshotSource(() => readStatsFiles([bookinfo], { podsFile })).memory();
  const rec = recommendProfiles(evidence);
  const byName = new Map(rec.workloads.map((w) => [w.workload, w]));
  // Container = pilot-agent RSS (36Mi in every scrape) + envoy_server_memory_physical_size, per scrape
  // (two scrapes per pod), P90 nearest rank, × 1.15, clean:
  //   details-v1     36+[30, 34]          → P90 70  → 80.5  → 96Mi  (steps of 16 in (64, 128])
  //   ratings-v1     36+[28, 30]          → P90 66  → 75.9  → 80Mi
  //   productpage-v1 36+[60, 64]          → P90 100 → 115   → 128Mi
  //   reviews-v1     36+[50, 52, 54, 56]  → P90 92 (rank ceil(3.6) = 4) → 105.8 → 112Mi  (2 pods pooled)
  //   reviews-v2     36+[90, 100]         → P90 136 → 156.4 → 160Mi (steps of 32 in (128, 256])
  //   reviews-v3     36+[110, 120]        → P90 156 → 179.4 → 192Mi, but OOMKilled at a 128Mi limit:
  //                  max(128 × 1.2 = 153.6, 128 + 100 = 228) = 228 → 256Mi
  const expected: [string, number, number, number][] = [
    ['details-v1', 70, 96, 1],
    ['ratings-v1', 66, 80, 1],
    ['productpage-v1', 100, 128, 1],
    ['reviews-v1', 92, 112, 2],
    ['reviews-v2', 136, 160, 1],
    ['reviews-v3', 156, 256, 1],
  ];
  for (const [name, p90, recommended, pods] of expected) {
    const w = byName.get(name);
    t.same(w?.signals, ['agent_physical'], `${name} sized from agent RSS + Envoy physical, never Envoy alone`);
    t.equal(w?.p90, p90 * MI, `${name} P90`);
    t.equal(w?.recommended, recommended * MI, `${name} recommended`);
    t.equal(w?.pods, pods, `${name} pods`);
  }
  t.equal(byName.get('reviews-v3')?.oomKills, 1);
  // Levels, pod-weighted, three of 80×1, 96×1, 112×2, 128×1, 160×1, 256×1 (the largest always kept):
  //   {112, 160, 256} wastes 32 + 16 + 32 = 80, the least (choose-levels.test.ts has the search).
  // Limits: max(2 × level, clean(peak × 1.15) of members): small max(224, 112) = 224Mi; medium
  // max(320, 160) = 320Mi; large max(512, 192) = 512Mi.
  t.same(rec.profiles, {
    small: { cpu: '100m', cpuLimit: '1000m', memory: '112Mi', memoryLimit: '224Mi' },
    medium: { cpu: '100m', cpuLimit: '1000m', memory: '160Mi', memoryLimit: '320Mi' },
    large: { cpu: '100m', cpuLimit: '1000m', memory: '256Mi', memoryLimit: '512Mi' },
  });
  // small is the most common need (details, ratings, reviews-v1): the namespace fallback.
  t.same(rec.rules, [
    { profile: 'medium', match: { namespaces: ['bookinfo'], podLabels: { app: 'productpage' } } },
    { profile: 'medium', match: { namespaces: ['bookinfo'], podLabels: { app: 'reviews', version: 'v2' } } },
    { profile: 'large', match: { namespaces: ['bookinfo'], podLabels: { app: 'reviews', version: 'v3' } } },
    { profile: 'small', match: { namespaces: ['bookinfo'] } },
  ]);
  // Savings × pods against today's 128Mi/1Gi (reviews-v3: 64Mi/128Mi):
  //   reviews-v1: (128 − 112) × 2 = 32Mi, (1024 − 224) × 2 = 1600Mi
  //   reviews-v3: 64 − 256 = −192Mi, 128 − 512 = −384Mi (it needs more)
  t.equal(byName.get('reviews-v1')?.savedRequest, 32 * MI);
  t.equal(byName.get('reviews-v1')?.savedLimit, 1600 * MI);
  t.equal(byName.get('reviews-v3')?.savedRequest, -192 * MI);
  t.equal(byName.get('reviews-v3')?.savedLimit, -384 * MI);
  t.equal(byName.get('details-v1')?.profile, 'small');
});

t.test('without the pod list: workloads from pod names, one namespace rule, no savings', async (t) => {
  const rec = recommendProfiles(await snapshotSource(() => readStatsFiles([bookinfo])).memory(), {
    percentile: 90,
    headroom: 0.15,
    oomBumpRatio: 1.2,
    oomMinBump: 100 * MI,
    maxProfiles: 6,
    limitRatio: 2,
    cpu: '50m',
    cpuLimit: '500m',
  });
  // No OOM known, so reviews-v3 is 192Mi: six distinct needs, six levels, nothing rounded up.
  t.same(Object.values(rec.profiles).map((p) => p.memory), ['80Mi', '96Mi', '112Mi', '128Mi', '160Mi', '192Mi']);
  // No labels to select on: the namespace gets the largest profile any workload needs.
  t.same(rec.rules, [{ profile: 'size-6', match: { namespaces: ['bookinfo'] } }]);
  t.ok(rec.workloads.every((w) => w.profile === 'size-6' && w.savedRequest === undefined));
  t.equal(rec.profiles['size-6']?.cpu, '50m');
});

t.test('gateways, and pods without the container memory, are skipped with the reason and what was found', async (t) => {
  const rec = recommendProfiles({
    pods: [
      { namespace: 'istio-system', pod: 'gw-0', workload: 'gw', workloadKind: 'StatefulSet', labels: {}, oomKills: 0, gateway: true },
      { namespace: 'a', pod: 'quiet', workload: 'quiet', workloadKind: 'Pod', labels: {}, oomKills: 0, gateway: false },
      { namespace: 'a', pod: 'busy', workload: 'busy', workloadKind: 'Pod', labels: {}, oomKills: 1, gateway: false },
      { namespace: 'a', pod: 'envoy', workload: 'envoy', workloadKind: 'Pod', labels: {}, oomKills: 0, gateway: false },
    ],
    series: [
      { namespace: 'istio-system', pod: 'gw-0', signal: 'working_set', values: [300 * MI] },
      { namespace: 'a', pod: 'busy', signal: 'agent_heap', values: [20 * MI] },
      { namespace: 'a', pod: 'envoy', signal: 'physical', values: [20 * MI] },
      { namespace: 'a', pod: 'envoy', signal: 'allocated', values: [10 * MI] },
    ],
  });
  t.same(rec.skipped, [
    { namespace: 'a', workload: 'envoy', reason: 'NO_CONTAINER_MEMORY', found: ['physical', 'allocated'] },
    { namespace: 'a', workload: 'quiet', reason: 'NO_CONTAINER_MEMORY', found: [] },
    { namespace: 'istio-system', workload: 'gw', reason: 'GATEWAY', found: [] },
  ]);
  // OOM with no known limit: bump from the peak, max(20 × 1.2, 20 + 100) = 120 → 128Mi.
  t.equal(rec.workloads[0]?.recommended, 128 * MI);
  t.same(rec.profiles, { standard: { cpu: '100m', cpuLimit: '1000m', memory: '128Mi', memoryLimit: '256Mi' } });
});

t.test('a real Istio 1.11.4 merged scrape: the container is sized, not Envoy alone', async (t) => {
  // test/fixtures/istio-1.11-merged/PROVENANCE.md: Envoy physical 17,301,504 B; pilot-agent RSS 46,538,752 B.
  const real = fileURLToPath(new URL('../fixtures/istio-1.11-merged/', import.meta.url));
  const evidence = await snapshotSource(() => readStatsFiles([real])).memory();
  const envoy = evidence.series.find((s) => s.signal === 'physical')?.values[0] as number;
  const container = evidence.series.find((s) => s.signal === 'agent_physical')?.values[0] as number;
  t.equal(container - envoy, 46_538_752, "the agent's RSS is added to Envoy's");
  const rec = recommendProfiles(evidence);
  const [workload] = rec.workloads;
  t.same(workload?.signals, ['agent_physical']);
  t.equal(workload?.peak, container);
  // 60.9Mi × 1.15 = 70.0Mi → 80Mi; never below the container's peak plus headroom.
  t.equal(workload?.recommended, 80 * MI);
  t.ok((workload?.profileMemory ?? 0) >= container * 1.15, 'request covers the container peak plus headroom');
  t.ok((workload?.profileMemoryLimit ?? 0) >= container * 1.15, 'limit covers the container peak plus headroom');
  t.ok((workload?.profileMemory ?? 0) > 46_538_752 + envoy, 'above the agent and Envoy together');
});
