import { fileURLToPath } from 'node:url';
import t from 'tap';
import { recommendProfiles } from '../../src/recommend/recommend-profiles.js';
import { readStatsFiles } from '../../src/recommend/sources/files.js';
import { snapshotSource } from '../../src/recommend/sources/source.js';

const MI = 2 ** 20;
const fixtures = fileURLToPath(new URL('../fixtures/envoy-stats/', import.meta.url));
const bookinfo = `${fixtures}bookinfo`;
const podsFile = `${fixtures}bookinfo-pods.yaml`;

t.test('Bookinfo dumps + pod list → sizes, profiles, rules and savings', async (t) => {
  const evidence = await snapshotSource(() => readStatsFiles([bookinfo], { podsFile })).memory();
  const rec = recommendProfiles(evidence);
  const byName = new Map(rec.workloads.map((w) => [w.workload, w]));
  // envoy_server_memory_physical_size per scrape (two scrapes per pod), P90 nearest rank, × 1.15, clean:
  //   details-v1     [30, 34]          → P90 34  → 39.1  → 40Mi  (steps of 8 in (32, 64])
  //   ratings-v1     [28, 30]          → P90 30  → 34.5  → 40Mi
  //   productpage-v1 [60, 64]          → P90 64  → 73.6  → 80Mi  (steps of 16 in (64, 128])
  //   reviews-v1     [50, 52, 54, 56]  → P90 56 (rank ceil(3.6) = 4) → 64.4 → 80Mi  (2 pods pooled)
  //   reviews-v2     [90, 100]         → P90 100 → 115   → 128Mi
  //   reviews-v3     [110, 120]        → P90 120 → 138   → 160Mi, but OOMKilled at a 128Mi limit:
  //                  max(128 × 1.2 = 153.6, 128 + 100 = 228) = 228 → 256Mi
  const expected: [string, number, number, number][] = [
    ['details-v1', 34, 40, 1],
    ['ratings-v1', 30, 40, 1],
    ['productpage-v1', 64, 80, 1],
    ['reviews-v1', 56, 80, 2],
    ['reviews-v2', 100, 128, 1],
    ['reviews-v3', 120, 256, 1],
  ];
  for (const [name, p90, recommended, pods] of expected) {
    const w = byName.get(name);
    t.equal(w?.signal, 'physical', `${name} sized from physical_size, preferred to heap and allocated`);
    t.equal(w?.p90, p90 * MI, `${name} P90`);
    t.equal(w?.recommended, recommended * MI, `${name} recommended`);
    t.equal(w?.pods, pods, `${name} pods`);
  }
  t.equal(byName.get('reviews-v3')?.oomKills, 1);
  // Levels, pod-weighted (see choose-levels.test.ts): 40×2, 80×3, 128×1, 256×1 into 3 → {80, 128, 256}.
  // Limits: max(2 × level, clean(peak × 1.15) of members): small max(160, 80) = 160Mi; medium
  // max(256, 128) = 256Mi; large max(512, clean(138) = 160) = 512Mi.
  t.same(rec.profiles, {
    small: { cpu: '100m', cpuLimit: '1000m', memory: '80Mi', memoryLimit: '160Mi' },
    medium: { cpu: '100m', cpuLimit: '1000m', memory: '128Mi', memoryLimit: '256Mi' },
    large: { cpu: '100m', cpuLimit: '1000m', memory: '256Mi', memoryLimit: '512Mi' },
  });
  t.same(rec.rules, [
    { profile: 'medium', match: { namespaces: ['bookinfo'], podLabels: { app: 'reviews', version: 'v2' } } },
    { profile: 'large', match: { namespaces: ['bookinfo'], podLabels: { app: 'reviews', version: 'v3' } } },
    { profile: 'small', match: { namespaces: ['bookinfo'] } },
  ]);
  // Savings × pods against today's 128Mi/1Gi (reviews-v3: 64Mi/128Mi):
  //   reviews-v1: (128 − 80) × 2 = 96Mi, (1024 − 160) × 2 = 1728Mi
  //   reviews-v3: 64 − 256 = −192Mi, 128 − 512 = −384Mi (it needs more)
  t.equal(byName.get('reviews-v1')?.savedRequest, 96 * MI);
  t.equal(byName.get('reviews-v1')?.savedLimit, 1728 * MI);
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
    maxProfiles: 3,
    limitRatio: 2,
    cpu: '50m',
    cpuLimit: '500m',
  });
  // No OOM known, so reviews-v3 is 160Mi: levels {40, 80, 128, 160} into 3, weights 2/3/1/1:
  //   {80, 128, 160}: 2×40 = 80; {40, 128, 160}: 3×48 = 144; {40, 80, 160}: 1×32 = 32 ← least
  t.same(Object.fromEntries(Object.entries(rec.profiles).map(([k, v]) => [k, v.memory])), { small: '40Mi', medium: '80Mi', large: '160Mi' });
  // No labels to select on: the namespace gets the largest profile any workload needs.
  t.same(rec.rules, [{ profile: 'large', match: { namespaces: ['bookinfo'] } }]);
  t.ok(rec.workloads.every((w) => w.profile === 'large' && w.savedRequest === undefined));
  t.equal(rec.profiles['large']?.cpu, '50m');
});

t.test('gateways and pods without memory stats are skipped, with the reason', async (t) => {
  const rec = recommendProfiles({
    pods: [
      { namespace: 'istio-system', pod: 'gw-0', workload: 'gw', workloadKind: 'StatefulSet', labels: {}, oomKills: 0, gateway: true },
      { namespace: 'a', pod: 'quiet', workload: 'quiet', workloadKind: 'Pod', labels: {}, oomKills: 0, gateway: false },
      { namespace: 'a', pod: 'busy', workload: 'busy', workloadKind: 'Pod', labels: {}, oomKills: 1, gateway: false },
    ],
    series: [
      { namespace: 'istio-system', pod: 'gw-0', signal: 'working_set', values: [300 * MI] },
      { namespace: 'a', pod: 'busy', signal: 'allocated', values: [20 * MI] },
    ],
  });
  t.same(rec.skipped, [
    { namespace: 'a', workload: 'quiet', reason: 'NO_MEMORY_STATS' },
    { namespace: 'istio-system', workload: 'gw', reason: 'GATEWAY' },
  ]);
  // OOM with no known limit: bump from the peak, max(20 × 1.2, 20 + 100) = 120 → 128Mi.
  t.equal(rec.workloads[0]?.recommended, 128 * MI);
  t.same(rec.profiles, { standard: { cpu: '100m', cpuLimit: '1000m', memory: '128Mi', memoryLimit: '256Mi' } });
});
