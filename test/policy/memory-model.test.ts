import t from 'tap';
import { DEFAULT_CONFIG } from '../../src/config/defaults.js';
import { DEFAULT_MEMORY_MODEL, formatBytes, formatCount, predictMemoryBytes } from '../../src/policy/memory-model.js';

t.test('the model is base + perCluster × clusters + perEndpoint × endpoints', async (t) => {
  const model = { baseBytes: 1000, perClusterBytes: 10, perEndpointBytes: 2 };
  t.equal(predictMemoryBytes({ clusters: 0, endpoints: 0 }, model), 1000);
  t.equal(predictMemoryBytes({ clusters: 7, endpoints: 0 }, model), 1070);
  t.equal(predictMemoryBytes({ clusters: 7, endpoints: 100 }, model), 1270);
});

t.test('the defaults are the published figures (docs/memory-model.md)', async (t) => {
  t.same(DEFAULT_MEMORY_MODEL, { baseBytes: 36 * 2 ** 20, perClusterBytes: 42_000, perEndpointBytes: 3_000 });
  t.same(DEFAULT_CONFIG.sizing.model, DEFAULT_MEMORY_MODEL, 'the config default is the same model');
  // istio/istio#18954: 325 clusters, 50,992,288 bytes allocated; the base was derived from it.
  const predicted = predictMemoryBytes({ clusters: 325, endpoints: 0 }, DEFAULT_MEMORY_MODEL);
  t.ok(Math.abs(predicted - 50_992_288) / 50_992_288 < 0.02, `reproduces the measurement it was derived from within 2% (${predicted})`);
  // 1,000 services of 1 port with 2 endpoints each, unscoped:
  t.equal(predictMemoryBytes({ clusters: 1007, endpoints: 2000 }, DEFAULT_MEMORY_MODEL), 36 * 2 ** 20 + 1007 * 42_000 + 2000 * 3_000);
});

t.test('numbers for people', async (t) => {
  t.equal(formatBytes(410 * 2 ** 20), '410 MiB');
  t.equal(formatBytes(3.1 * 2 ** 30), '3.1 GiB');
  t.equal(formatBytes(2 * 2 ** 30), '2 GiB');
  t.equal(formatBytes(512), '512 B');
  t.equal(formatBytes(-5 * 2 ** 20), '-5 MiB');
  t.equal(formatCount(1240), '1,240');
});
