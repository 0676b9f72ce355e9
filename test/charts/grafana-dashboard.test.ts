import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { generateCertificateAuthority, generateServingCertificate } from '../../src/certs/generate.js';
import { WatchClusterView } from '../../src/cluster/watch-cluster-view.js';
import { trackCertificateExpiry } from '../../src/observability/certificate-expiry.js';
import { registerMemoryGauges } from '../../src/observability/memory-gauges.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { BUILT_IN_CONFIG } from '../../src/config/load-config.js';
import { FakeApiServer } from '../support/fake-apiserver.js';
import { CHART, render } from './helm.js';

interface Panel {
  title: string;
  type: string;
  targets: { expr: string; refId: string }[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query: string | { query: string } }[] };
}

const FILE = join(CHART, 'dashboards', 'sidecar-guard.json');
const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;

/** Metric names and label names the server registers: the webhook's own and the watch-backed cluster view's. */
async function exportedMetrics(t: { teardown: (fn: () => unknown) => void }): Promise<Map<string, { type: string; labels: Set<string> }>> {
  const api = await new FakeApiServer().start();
  t.teardown(() => api.stop());
  const metrics = createMetrics();
  const view = await WatchClusterView.start({ kubeConfig: api.kubeConfig(), registry: metrics.registry });
  t.teardown(() => view.close());
  // As serve does: the expiry of the certificate it presents (test/cli/serve-command.test.ts scrapes it from a running server).
  const ca = generateCertificateAuthority();
  trackCertificateExpiry(metrics.registry, () => generateServingCertificate({ ca }).cert);
  registerMemoryGauges(metrics.registry, view, () => BUILT_IN_CONFIG);
  const found = new Map<string, { type: string; labels: Set<string> }>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    const labels = new Set<string>(((metric as unknown as { labelNames?: string[] }).labelNames ?? []));
    const known = metrics.registry.getSingleMetric(metric.name) as unknown as { labelNames?: string[] } | undefined;
    for (const label of known?.labelNames ?? []) labels.add(label);
    found.set(metric.name, { type: String(metric.type), labels });
  }
  return found;
}

// Labels Prometheus itself adds when it scrapes (ServiceMonitor target labels), and a histogram's le.
const TARGET_LABELS = new Set(['job', 'namespace', 'instance', 'pod', 'service', 'container', 'endpoint', 'le']);

function queries(): { where: string; expr: string }[] {
  const fromPanels = dashboard.panels.flatMap((p) => p.targets.map((target) => ({ where: `${p.title} ${target.refId}`, expr: target.expr })));
  const fromVariables = dashboard.templating.list
    .filter((v) => typeof v.query === 'object')
    .map((v) => ({ where: `variable ${v.name}`, expr: (v.query as { query: string }).query }));
  return [...fromPanels, ...fromVariables];
}

t.test('every dashboard query reads only metrics (and labels) the server exports', async (t) => {
  const exported = await exportedMetrics(t);
  t.ok(exported.has('sidecar_guard_decisions_total') && exported.has('sidecar_guard_cache_last_event_age_seconds'), 'the registry was read');
  const all = queries();
  t.ok(all.length >= 10, `${all.length} queries`);
  for (const { where, expr } of all) {
    const names = [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{|label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,/g)].map((m) => m[1] ?? m[2] ?? '');
    t.ok(names.length > 0, `${where}: reads a metric`);
    for (const name of names) {
      const base = name.replace(/_(bucket|sum|count)$/, '');
      const metric = exported.get(name) ?? (exported.get(base)?.type === 'histogram' ? exported.get(base) : undefined);
      t.ok(metric, `${where}: ${name} is exported`);
      for (const m of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
        for (const label of (m[1] ?? '').split(',').map((l) => l.trim()).filter(Boolean)) {
          t.ok(metric?.labels.has(label) || TARGET_LABELS.has(label), `${where}: ${name} has label ${label}`);
        }
      }
      for (const m of expr.matchAll(/\{([^}]*)\}/g)) {
        for (const label of [...(m[1] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1] ?? '')) {
          t.ok(metric?.labels.has(label) || TARGET_LABELS.has(label), `${where}: ${name} has label ${label} (selector)`);
        }
      }
    }
  }
});

t.test('the panels the issue asks for are there', async (t) => {
  const exprs = dashboard.panels.map((p) => `${p.title}: ${p.targets.map((x) => x.expr).join(' ')}`);
  t.ok(exprs.some((e) => /sum by \(verdict\).*sidecar_guard_decisions_total/.test(e)), 'decisions by verdict');
  t.ok(exprs.some((e) => /sum by \(reason\).*sidecar_guard_decisions_total/.test(e)), 'decisions by reason');
  for (const q of ['0.5', '0.9', '0.99']) t.ok(exprs.some((e) => e.includes(`histogram_quantile(${q},`) && e.includes('sidecar_guard_decision_duration_seconds_bucket')), `latency p${q}`);
  t.ok(exprs.some((e) => e.includes('sidecar_guard_cache_last_event_age_seconds')), 'cache sync state');
  t.ok(exprs.some((e) => e.includes('sidecar_guard_serving_certificate_expiry_timestamp_seconds')), 'certificate expiry');
});

t.test('the chart ships it as an optional ConfigMap for Grafana\'s sidecar', async (t) => {
  t.notOk(render().some((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard')), 'off by default');
  const objects = render({ values: { metrics: { grafanaDashboard: { enabled: true, annotations: { grafana_folder: 'Istio' } } } } });
  const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sidecar-guard-dashboard');
  t.ok(map, 'rendered when enabled');
  t.equal(map?.metadata.labels?.grafana_dashboard, '1', 'the label Grafana\'s dashboard sidecar looks for');
  t.equal(map?.metadata.annotations?.grafana_folder, 'Istio');
  t.equal(map?.metadata.namespace, 'sidecar-guard');
  const data = (map as unknown as { data: Record<string, string> }).data;
  t.same(JSON.parse(data['sidecar-guard.json'] ?? ''), dashboard, 'the dashboard JSON, intact');
  const elsewhere = render({ values: { metrics: { grafanaDashboard: { enabled: true, namespace: 'monitoring', labels: { grafana_dashboard: 'mesh' } } } } });
  const moved = elsewhere.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'sidecar-guard-dashboard');
  t.equal(moved?.metadata.namespace, 'monitoring');
  t.equal(moved?.metadata.labels?.grafana_dashboard, 'mesh');
});
