import t from 'tap';
import { podTemplateOf } from '../../src/policy/workload-view.js';

const deployment = (annotations: unknown, labels: unknown) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  spec: { template: { metadata: { annotations, labels }, spec: { containers: [{ name: 'app' }] } } },
});

t.test('label and annotation maps keep string values only', async (t) => {
  const view = podTemplateOf({ group: 'apps', kind: 'Deployment' }, deployment({ 'sidecar-guard.io/profile': 'small', odd: 5, nested: { a: 'b' }, nothing: null }, { app: 'web', n: 1 }));
  t.same(view?.annotations, { 'sidecar-guard.io/profile': 'small' });
  t.same(view?.labels, { app: 'web' });
  t.equal(view?.annotations.odd, undefined);
});

t.test('all-string maps read every entry, and non-maps read as empty', async (t) => {
  const annotations = Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`example.com/a${i}`, `v${i}`]));
  const view = podTemplateOf({ group: 'apps', kind: 'Deployment' }, deployment(annotations, ['app=web']));
  t.same(view?.annotations, annotations);
  t.same(view?.labels, {});
  t.same(podTemplateOf({ group: 'apps', kind: 'Deployment' }, deployment('x', null))?.annotations, {});
});
