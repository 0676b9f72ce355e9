import t from 'tap';
import { CalibrationError, calibrationSamples, fitMemoryModel, fitWarnings } from '../../src/recommend/calibrate-model.js';

const truth = { baseBytes: 40_000_000, perClusterBytes: 55_000, perEndpointBytes: 2_500 };
const weigh = (clusters: number, endpoints: number) => truth.baseBytes + truth.perClusterBytes * clusters + truth.perEndpointBytes * endpoints;

t.test('recovers known coefficients from synthetic stats', async (t) => {
  const samples = [
    [10, 20],
    [50, 300],
    [400, 900],
    [1200, 2000],
    [3100, 12000],
    [80, 80],
  ].map(([c = 0, e = 0]) => ({ clusters: c, endpoints: e, bytes: weigh(c, e) }));
  const fit = fitMemoryModel(samples, 3000);
  t.same(fit.model, truth);
  t.equal(fit.fittedEndpoints, true);
  t.ok(fit.rmseBytes < 1);
  t.equal(Math.round((fit.r2 ?? 0) * 1e6) / 1e6, 1);
  t.same(fitWarnings(fit), []);
});

t.test('with noise the fit is close and the error says how close', async (t) => {
  // Deterministic ±2% noise.
  const samples = Array.from({ length: 40 }, (_, i) => {
    const clusters = 20 + i * 75;
    const endpoints = (i * 397) % 5000;
    return { clusters, endpoints, bytes: weigh(clusters, endpoints) * (1 + (((i * 7) % 9) - 4) / 200) };
  });
  const fit = fitMemoryModel(samples, 3000);
  t.ok(Math.abs(fit.model.perClusterBytes - truth.perClusterBytes) / truth.perClusterBytes < 0.1, `perCluster ${fit.model.perClusterBytes}`);
  t.ok(fit.maxRelativeError < 0.05, `max error ${fit.maxRelativeError}`);
  t.ok(fit.rmseBytes > 0);
});

t.test('without endpoint counts the per-endpoint cost is held fixed', async (t) => {
  const samples = [10, 200, 900, 2500].map((clusters) => ({ clusters, bytes: truth.baseBytes + truth.perClusterBytes * clusters }));
  const fit = fitMemoryModel(samples, 1234);
  t.same(fit.model, { baseBytes: truth.baseBytes, perClusterBytes: truth.perClusterBytes, perEndpointBytes: 1234 });
  t.equal(fit.fittedEndpoints, false);
});

t.test('refuses what cannot be fitted, and flags what should not be used', async (t) => {
  t.throws(() => fitMemoryModel([{ clusters: 1, bytes: 1e7 }, { clusters: 2, bytes: 2e7 }], 3000), { message: /at least 3 proxies/ });
  t.ok(catches(() => fitMemoryModel([], 3000)) instanceof CalibrationError, 'its own error class');
  t.throws(() => fitMemoryModel([1, 2, 3, 4].map(() => ({ clusters: 300, bytes: 9e7 })), 3000), { message: /same number of clusters/ });
  const inverted = fitMemoryModel([10, 200, 900, 2500].map((clusters) => ({ clusters, bytes: 2e8 - 50_000 * clusters })), 0);
  t.match(fitWarnings(inverted).join('\n'), /per-cluster cost is not positive/);
});

function catches(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

t.test('samples come from the memory series and active cluster counts recommend reads', async (t) => {
  const series = [
    { namespace: 'a', pod: 'p1', signal: 'allocated' as const, values: [30, 10, 20] },
    { namespace: 'a', pod: 'p1', signal: 'working_set' as const, values: [99] },
    { namespace: 'a', pod: 'p2', signal: 'allocated' as const, values: [5] },
    { namespace: 'b', pod: 'p3', signal: 'allocated' as const, values: [7] },
  ];
  const clusters = [
    { namespace: 'a', pod: 'p1', clusters: [], activeClusters: 12 },
    { namespace: 'a', pod: 'p2', clusters: [] },
    { namespace: 'b', pod: 'p3', clusters: [], activeClusters: 3 },
  ];
  t.same(calibrationSamples(series, clusters, 'allocated'), [
    { bytes: 20, clusters: 12 },
    { bytes: 7, clusters: 3 },
  ], 'the median per proxy; proxies without a cluster count left out');
});
