import t from 'tap';
import { parse } from 'yaml';
import { renderFix } from '../../src/audit/fix.js';
import { toManifestYaml } from '../../src/kube/manifest-yaml.js';

// What kubectl reads (YAML 1.1) must be what we meant: every string stays a string.
const tricky = ['yes', 'no', 'on', 'off', 'y', 'n', 'Yes', 'NO', 'true', 'null', '~', '0x1f', '1e3', '012', '2026-01-01', '1_000'];

t.test('strings that YAML 1.1 would read as booleans, numbers, dates or null come back as strings', async (t) => {
  const labels = Object.fromEntries(tricky.map((v, i) => [`k${i}`, v]));
  const text = toManifestYaml({ metadata: { labels } });
  t.same(parse(text, { version: '1.1' }), { metadata: { labels } }, 'read as kubectl reads it');
  t.same(parse(text), { metadata: { labels } }, 'and as YAML 1.2');
  t.notMatch(text, /%YAML/, 'no directive that kubectl would have to understand');
});

t.test('audit --fix keeps a workload selector label "on" a string', async (t) => {
  const report = { workloads: [], namespaces: [] } as unknown as Parameters<typeof renderFix>[1];
  const text = renderFix([{ apiVersion: 'networking.istio.io/v1', kind: 'Sidecar', metadata: { name: 'web', namespace: 'shop' }, spec: { workloadSelector: { labels: { canary: 'on' } }, egress: [{ hosts: ['./*'] }] } }], report);
  const doc = parse(text.split('---\n')[1] ?? '', { version: '1.1' }) as { spec: { workloadSelector: { labels: Record<string, unknown> } } };
  t.equal(doc.spec.workloadSelector.labels.canary, 'on');
});
