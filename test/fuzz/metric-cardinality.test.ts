/**
 * Abuse: requests from many namespaces (each with an honoured exemption) must not mint metric
 * series. Every label value comes from a fixed set, so the series count stays flat as the number
 * of namespaces grows.
 */
import t from 'tap';
import { BUILT_IN_CONFIG } from '../../src/config/load-config.js';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { NOW, pod, review, type Json } from '../support/builders.js';
import { MemoryView } from '../support/memory-view.js';

function exemptNamespace(name: string): Json {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: { 'istio-injection': 'enabled' },
      annotations: { 'sidecar-guard.io/exempt': 'all', 'sidecar-guard.io/exempt-reason': 'abuse test' },
    },
  };
}

async function seriesAfter(namespaces: number): Promise<number> {
  const names = Array.from({ length: namespaces }, (_, i) => `tenant-${i}`);
  const metrics = createMetrics({ defaultMetrics: false });
  const app = buildApp({ config: () => BUILT_IN_CONFIG, view: new MemoryView(names.map(exemptNamespace)), metrics, now: () => NOW, readiness: () => ({ ready: true }) });
  for (const namespace of names) {
    for (const url of ['/validate', '/mutate']) {
      const res = await app.inject({ method: 'POST', url, payload: JSON.stringify(review(pod({ name: 'web' }), { namespace })), headers: { 'content-type': 'application/json' } });
      if (res.statusCode !== 200 || res.json().response.allowed !== true) throw new Error(`unexpected answer for ${namespace}: ${res.body}`);
    }
  }
  const text = await metrics.registry.metrics();
  await app.close();
  return text.split('\n').filter((line) => line.startsWith('sidecar_guard_') && !line.includes('_bucket{')).length;
}

t.test('metric series do not grow with the number of namespaces sending requests', async (t) => {
  const few = await seriesAfter(3);
  const many = await seriesAfter(300);
  t.ok(few > 0, `some series exist (${few})`);
  t.equal(many, few, `300 exempt namespaces leave the series count where 3 left it (${few})`);
});
