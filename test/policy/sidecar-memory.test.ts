import t from 'tap';
import { resolveConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/types.js';
import { applyMode } from '../../src/policy/enforcement.js';
import { evaluateValidation } from '../../src/policy/validate.js';
import type { ClusterFacts } from '../../src/policy/types.js';
import { MESH_NS, NOW, facts, input, namespace, sidecar, type Json } from '../support/builders.js';
import { catalogOf, service } from '../support/catalog-builders.js';

const MiB = 2 ** 20;
const config = (sizing: Json = {}, rest: Json = {}): Config =>
  resolveConfig({ sizing: { marginPercent: 0, model: { baseBytes: 0, perClusterBytes: MiB, perEndpointBytes: 0 }, ...sizing }, ...rest });

function meshFacts(count: number, sidecars: Json[] = [], ns: Json = MESH_NS): ClusterFacts {
  const objects = [service('shop', 'web')];
  for (let i = 0; i < count; i++) objects.push(service('other', `svc-${i}`));
  return { ...facts({ namespace: ns, sidecars }), catalog: catalogOf(objects) };
}

const narrow = sidecar('shop', 'default', { hosts: ['./*'] });
const wide = sidecar('shop', 'default', { hosts: ['./*', 'other/*'] });
const run = (object: Json, options: Json, f: ClusterFacts, c: Config) => applyMode(evaluateValidation(input(object, options), f, c, NOW));

t.test('an update that widens imports warns with the predicted change per proxy', async (t) => {
  const outcome = run(sidecar('shop', 'default', { hosts: ['./*', 'other/*'] }), { operation: 'UPDATE', oldObject: narrow }, meshFacts(100, [narrow]), config());
  t.equal(outcome.allowed, true);
  t.ok(
    outcome.warnings.includes('sidecar-guard: widens imports: 1 → 101 services, 8 → 108 clusters, 0 → 0 endpoints; predicted per proxy 8 MiB → 108 MiB (+100 MiB)'),
    outcome.warnings.join('\n'),
  );
  t.match(outcome.auditAnnotations['predicted-memory'] ?? '', /8 MiB → 108 MiB/);
});

t.test('narrowing or keeping the scope says nothing', async (t) => {
  const narrowed = run(narrow, { operation: 'UPDATE', oldObject: wide }, meshFacts(100, [wide]), config());
  t.notOk(narrowed.warnings.some((w) => w.includes('widens')));
  const same = run(narrow, { operation: 'UPDATE', oldObject: narrow }, meshFacts(100, [narrow]), config());
  t.notOk(same.warnings.some((w) => w.includes('widens')));
});

t.test('a new selector Sidecar is compared with the namespace Sidecar its workloads have now', async (t) => {
  const selected = sidecar('shop', 'api', { hosts: ['./*', 'other/*'], selector: { app: 'api' } });
  const outcome = run(selected, {}, meshFacts(10, [narrow]), config());
  t.ok(outcome.warnings.some((w) => w.includes('1 → 11 services')), outcome.warnings.join('\n'));
});

t.test('above the default profile limit: a warning, or a denial in enforce with onSidecarOverLimit: deny', async (t) => {
  // 300 other services: 308 MiB > medium 256Mi.
  const widened = sidecar('shop', 'default', { hosts: ['./*', 'other/*'] });
  const options = { operation: 'UPDATE', oldObject: narrow };
  const warned = run(widened, options, meshFacts(300, [narrow]), config());
  t.equal(warned.allowed, true);
  t.ok(warned.warnings.some((w) => w.includes("above profile medium's 256 MiB limit")), warned.warnings.join('\n'));
  const denied = run(widened, options, meshFacts(300, [narrow]), config({ onSidecarOverLimit: 'deny' }));
  t.equal(denied.allowed, false);
  t.equal(denied.code, 'SIDECAR_PREDICTED_ABOVE_LIMIT');
  t.match(denied.status?.message ?? '', /predicted at 308 MiB per proxy/);
  const audit = run(widened, options, meshFacts(300, [narrow]), config({ onSidecarOverLimit: 'deny' }, { mode: 'audit' }));
  t.equal(audit.allowed, true, 'audit mode reports what enforce would deny');
  t.match(audit.auditAnnotations['would-deny'] ?? '', /SIDECAR_PREDICTED_ABOVE_LIMIT/);
  // batch-* gets profile small (128Mi) by rule: 130 other services = 137 MiB is above it, though it fits medium.
  const batchNs = namespace('batch-1', { 'istio-injection': 'enabled' });
  const batchNarrow = sidecar('batch-1', 'default', { hosts: ['./*'] });
  const batch = run(
    sidecar('batch-1', 'default', { hosts: ['./*', 'other/*'] }),
    { namespace: 'batch-1', operation: 'UPDATE', oldObject: batchNarrow },
    meshFacts(130, [batchNarrow], batchNs),
    config({ onSidecarOverLimit: 'deny' }),
  );
  t.equal(batch.allowed, false, 'the profile the namespace gets by rule is the limit');
  t.match(batch.status?.message ?? '', /profile small/);
  const fromNothing = run(sidecar('batch-1', 'default', { hosts: ['./*', 'other/*'] }), { namespace: 'batch-1' }, meshFacts(130, [], batchNs), config({ onSidecarOverLimit: 'deny' }));
  t.equal(fromNothing.allowed, true, 'a first Sidecar narrows what an unscoped namespace imports: not a widening');
});
