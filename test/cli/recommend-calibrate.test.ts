import t from 'tap';
import { runRecommendCalibrate, type CalibrateCommandOptions, type RecommendIo } from '../../src/cli/recommend-command.js';
import { parseConfig } from '../../src/config/load-config.js';
import type { MemorySeries, ProxyClusters } from '../../src/recommend/observations.js';
import type { RecommendSource } from '../../src/recommend/sources/source.js';

const truth = { baseBytes: 40_000_000, perClusterBytes: 55_000 };
const CLUSTERS = [12, 40, 180, 600, 1500];

function source(bytes: (clusters: number) => number, signal: MemorySeries['signal'] = 'working_set'): RecommendSource {
  const series: MemorySeries[] = CLUSTERS.map((c, i) => ({ namespace: 'shop', pod: `p${i}`, signal, values: [bytes(c)] }));
  const proxies: ProxyClusters[] = CLUSTERS.map((c, i) => ({ namespace: 'shop', pod: `p${i}`, clusters: [], activeClusters: c }));
  return {
    warnings: [],
    memory: async () => ({ pods: [], series }),
    scope: async () => ({ pods: [], proxies }),
    cardinality: async () => {
      throw new Error('not read');
    },
  };
}

async function run(src: RecommendSource, output: CalibrateCommandOptions['output'], signal: CalibrateCommandOptions['signal'] = 'auto') {
  let stdout = '';
  const io: RecommendIo = { stdout: (text) => (stdout += text), stderr: () => undefined, source: src };
  await runRecommendCalibrate({ signal, endpointBytes: 3000, output } as CalibrateCommandOptions, io);
  return stdout;
}

t.test('prints the fitted model as sizing.model that serve --config loads, with the fit quality', async (t) => {
  const exact = source((c) => truth.baseBytes + truth.perClusterBytes * c);
  const yaml = await run(exact, 'yaml');
  t.match(yaml, /^# fitted by sidecar-guard recommend calibrate: 5 proxies, memory from .*RMSE 0 B/m);
  const config = parseConfig(yaml, 'calibrated.yaml');
  t.same(config.sizing.model, { baseBytes: truth.baseBytes, perClusterBytes: truth.perClusterBytes, perEndpointBytes: 3000 }, 'loaded as fitted');
  const json = JSON.parse(await run(exact, 'json')) as { model: unknown; samples: number; fittedEndpoints: boolean };
  t.same([json.samples, json.fittedEndpoints], [5, false]);
  t.match(await run(exact, 'table'), /perClusterBytes\s+55000 \(54 KiB\)/);
});

t.test('refuses a fit that would under-predict (memory falling with clusters) and a fit from nothing', async (t) => {
  const falling = source((c) => 200_000_000 - 60_000 * c);
  await t.rejects(run(falling, 'yaml'), { message: /no model printed: the fitted per-cluster cost is not positive/, exitCode: 2 });
  const flat = source(() => 50_000_000);
  await t.rejects(run(flat, 'yaml'), { message: /every proxy holds the same number of clusters|not positive/, exitCode: 2 });
  const envoyOnly = source((c) => truth.baseBytes + truth.perClusterBytes * c, 'allocated');
  await t.rejects(run(envoyOnly, 'yaml', 'working_set'), { message: /cannot calibrate from .*need at least 3 proxies/, exitCode: 2 });
  t.match(await run(envoyOnly, 'yaml'), /perClusterBytes: 55000/, 'auto falls back to the measure the input has');
});
