import t from 'tap';
import type { Placement } from '../../src/recommend/write-profile-rules.js';
import { effectiveProfile, writeProfileRules } from '../../src/recommend/write-profile-rules.js';
import type { Workload } from '../../src/recommend/workloads.js';

const ORDER = ['small', 'medium', 'large'];
const workload = (namespace: string, name: string, labels: Record<string, string> = {}): Workload => ({
  namespace,
  name,
  kind: 'Deployment',
  labels,
  pods: [],
});
const place = (w: Workload, profile: string): Placement => ({ workload: w, profile, rank: ORDER.indexOf(profile) });

t.test('uniform namespaces share one namespace rule per profile', async (t) => {
  const rules = writeProfileRules(
    [place(workload('batch-a', 'job'), 'small'), place(workload('batch-b', 'job'), 'small'), place(workload('data', 'db'), 'large')],
    ORDER,
  );
  t.same(rules, [
    { profile: 'small', match: { namespaces: ['batch-a', 'batch-b'] } },
    { profile: 'large', match: { namespaces: ['data'] } },
  ]);
});

t.test('mixed namespace: app/version rules, then the most common profile for the namespace', async (t) => {
  const v1 = workload('bookinfo', 'reviews-v1', { app: 'reviews', version: 'v1' });
  const v2 = workload('bookinfo', 'reviews-v2', { app: 'reviews', version: 'v2' });
  const ratings = workload('bookinfo', 'ratings-v1', { app: 'ratings', version: 'v1' });
  const details = workload('bookinfo', 'details-v1', { 'app.kubernetes.io/name': 'details' });
  const placements = [place(v1, 'small'), place(v2, 'medium'), place(ratings, 'large'), place(details, 'small')];
  const rules = writeProfileRules(placements, ORDER);
  t.same(rules, [
    { profile: 'large', match: { namespaces: ['bookinfo'], podLabels: { app: 'ratings' } } },
    { profile: 'medium', match: { namespaces: ['bookinfo'], podLabels: { app: 'reviews', version: 'v2' } } },
    { profile: 'small', match: { namespaces: ['bookinfo'] } },
  ]);
  for (const p of placements) t.equal(effectiveProfile(rules, p.workload), p.profile, p.workload.name);
});

t.test('a workload without an app label makes its profile (the largest such) the namespace fallback', async (t) => {
  const bare = workload('shop', 'legacy');
  const web = workload('shop', 'web', { app: 'web' });
  const api = workload('shop', 'api', { app: 'api' });
  const rules = writeProfileRules([place(bare, 'medium'), place(web, 'small'), place(api, 'large')], ORDER);
  t.same(rules, [
    { profile: 'large', match: { namespaces: ['shop'], podLabels: { app: 'api' } } },
    { profile: 'small', match: { namespaces: ['shop'], podLabels: { app: 'web' } } },
    { profile: 'medium', match: { namespaces: ['shop'] } },
  ]);
});

t.test('labels that cannot tell workloads apart get the largest profile they need', async (t) => {
  const a = workload('ns', 'a', { app: 'same' });
  const b = workload('ns', 'b', { app: 'same' });
  const c = workload('ns', 'c', { app: 'other' });
  const d = workload('ns', 'd', { app: 'other2' });
  const rules = writeProfileRules([place(a, 'large'), place(b, 'medium'), place(c, 'small'), place(d, 'small')], ORDER);
  t.same(rules, [
    { profile: 'large', match: { namespaces: ['ns'], podLabels: { app: 'same' } } },
    { profile: 'small', match: { namespaces: ['ns'] } },
  ]);
  t.equal(effectiveProfile(rules, b), 'large', 'b needs medium and gets large: never less than it needs');
  t.equal(effectiveProfile(rules, workload('elsewhere', 'x')), undefined);
});
