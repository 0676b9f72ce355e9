import fc from 'fast-check';
import t from 'tap';
import { findEffectiveSidecar, isMeshWideHost, selectorMatches } from '../../src/policy/sidecar-scope.js';
import type { ClusterFacts, Labels, SidecarFacts } from '../../src/policy/types.js';

// Istio's precedence, written the slow obvious way: sort by age then name, first matching selector.
function reference(podLabels: Labels, sidecars: readonly SidecarFacts[]): string | undefined {
  const sorted = [...sidecars].sort((a, b) => ((a.creationTimestamp ?? '') === (b.creationTimestamp ?? '') ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : (a.creationTimestamp ?? '') < (b.creationTimestamp ?? '') ? -1 : 1));
  return (sorted.find((s) => s.workloadSelector !== undefined && selectorMatches(s.workloadSelector, podLabels)) ?? sorted.find((s) => s.workloadSelector === undefined))?.name;
}

const labels = fc.dictionary(fc.constantFrom('app', 'version', 'tier'), fc.constantFrom('a', 'b', 'c'), { maxKeys: 3 });
const sidecarList = fc.uniqueArray(
  fc.record({
    name: fc.constantFrom('s1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'),
    selector: fc.option(labels, { nil: undefined }),
    minute: fc.integer({ min: 0, max: 3 }),
  }),
  { selector: (s) => s.name, maxLength: 8 },
);

t.test('the indexed lookup picks the Sidecar Istio picks (against a sort-and-scan reference)', async (t) => {
  fc.assert(
    fc.property(sidecarList, labels, (list, podLabels) => {
      const sidecars: SidecarFacts[] = list.map((s) => ({
        namespace: 'shop',
        name: s.name,
        egressHosts: ['./*'],
        hasEgress: true,
        creationTimestamp: `2026-01-01T00:0${s.minute}:00Z`,
        ...(s.selector !== undefined ? { workloadSelector: s.selector } : {}),
      }));
      const facts = { sidecars, rootSidecars: [] } as unknown as ClusterFacts;
      const first = findEffectiveSidecar(podLabels, facts)?.sidecar.name;
      const again = findEffectiveSidecar(podLabels, facts)?.sidecar.name;
      return first === reference(podLabels, sidecars) && again === first;
    }),
    { seed: 20261202, numRuns: 2000 },
  );
  t.pass('2000 random namespaces agree');
});

t.test('mesh-wide egress hosts', async (t) => {
  const wide = ['*/*', '*/*.svc.cluster.local', '*/*.cluster.local', '*/*.local', '*/*.Cluster.Local', '*/*.svc.cluster.local.'];
  const narrow = ['./*', 'istio-system/*', '*/*.example.com', '*/reviews.shop.svc.cluster.local', '*/*.shop.svc.cluster.local', '*/*.svc', 'shop/*', '~/*', '*'];
  for (const host of wide) t.ok(isMeshWideHost(host), `${host} imports the mesh`);
  for (const host of narrow) t.notOk(isMeshWideHost(host), `${host} does not`);
  t.ok(isMeshWideHost('*/*.corp.internal', 'corp.internal'));
  t.notOk(isMeshWideHost('*/*.corp.internal'), 'only for the configured domain');
});
