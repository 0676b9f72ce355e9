import t from 'tap';
import { BUILT_IN_CONFIG, resolveConfig } from '../../src/config/load-config.js';
import { parseExemptUntil, readExemption } from '../../src/policy/exemptions.js';
import { applyMode } from '../../src/policy/enforcement.js';
import { evaluateMutation } from '../../src/policy/mutate.js';
import { evaluateValidation } from '../../src/policy/validate.js';
import { NOW, controller, facts, input, namespace, pod, sidecar } from '../support/builders.js';

const exceptions = BUILT_IN_CONFIG.exceptions;
const both = { ...exceptions, allowOn: ['namespace', 'workload'] as ('namespace' | 'workload')[] };
const exempt = (value: string, reason?: string, until?: string) => ({
  'sidecar-guard.io/exempt': value,
  ...(reason !== undefined ? { 'sidecar-guard.io/exempt-reason': reason } : {}),
  ...(until !== undefined ? { 'sidecar-guard.io/exempt-until': until } : {}),
});

const readings: { name: string; annotations: Record<string, string>; target?: 'namespace' | 'workload'; config?: typeof exceptions; status: string; code?: string; kinds?: string[] }[] = [
  { name: 'no annotation', annotations: {}, status: 'none' },
  { name: 'scope with a reason', annotations: exempt('scope', 'legacy app, migrating in Q1'), status: 'honoured', kinds: ['scope'] },
  { name: 'all means scope and resources', annotations: exempt('all', 'load test'), status: 'honoured', kinds: ['scope', 'resources'] },
  { name: 'a comma list', annotations: exempt('resources, scope', 'load test'), status: 'honoured', kinds: ['resources', 'scope'] },
  { name: 'missing reason', annotations: exempt('scope'), status: 'refused', code: 'EXEMPTION_NO_REASON' },
  { name: 'blank reason', annotations: exempt('scope', '   '), status: 'refused', code: 'EXEMPTION_NO_REASON' },
  { name: 'unknown kind', annotations: exempt('everything', 'x'), status: 'refused', code: 'EXEMPTION_INVALID' },
  { name: 'empty kind', annotations: exempt('', 'x'), status: 'refused', code: 'EXEMPTION_INVALID' },
  ...['toString', 'constructor', '__proto__', 'hasOwnProperty', 'scope,valueOf'].map((word) => ({
    name: `an Object.prototype name (${word}) is not a kind`,
    annotations: exempt(word, 'x'),
    status: 'refused',
    code: 'EXEMPTION_INVALID',
  })),
  { name: 'expired date', annotations: exempt('scope', 'x', '2026-11-22'), status: 'refused', code: 'EXEMPTION_EXPIRED' },
  { name: 'today is still valid (until the end of the day)', annotations: exempt('scope', 'x', '2026-11-23'), status: 'honoured', kinds: ['scope'] },
  { name: 'RFC 3339 in the past', annotations: exempt('scope', 'x', '2026-11-23T11:59:59Z'), status: 'refused', code: 'EXEMPTION_EXPIRED' },
  { name: 'RFC 3339 in the future', annotations: exempt('scope', 'x', '2026-12-01T00:00:00+02:00'), status: 'honoured', kinds: ['scope'] },
  { name: 'not a date', annotations: exempt('scope', 'x', 'next tuesday'), status: 'refused', code: 'EXEMPTION_INVALID' },
  { name: 'impossible date', annotations: exempt('scope', 'x', '2026-02-30'), status: 'refused', code: 'EXEMPTION_INVALID' },
  { name: 'longer than maxDays', annotations: exempt('scope', 'x', '2027-06-01'), status: 'refused', code: 'EXEMPTION_TOO_LONG' },
  { name: 'exactly maxDays from now', annotations: exempt('scope', 'x', '2027-02-21T12:00:00Z'), status: 'honoured', kinds: ['scope'] },
  { name: 'no expiry when requireExpiry', annotations: exempt('scope', 'x'), config: { ...exceptions, requireExpiry: true }, status: 'refused', code: 'EXEMPTION_NO_EXPIRY' },
  { name: 'workload exemptions need allowOn: workload', annotations: exempt('scope', 'x'), target: 'workload', status: 'refused', code: 'EXEMPTION_NOT_ALLOWED' },
  { name: 'workload exemption allowed', annotations: exempt('scope', 'x'), target: 'workload', config: both, status: 'honoured', kinds: ['scope'] },
];

for (const c of readings) {
  t.test(`exemption: ${c.name}`, async (t) => {
    const reading = readExemption(c.annotations, c.target ?? 'namespace', c.config ?? exceptions, NOW);
    t.equal(reading.status, c.status);
    if (reading.status === 'refused') t.equal(reading.refusal.code, c.code);
    if (reading.status === 'honoured') t.same(reading.exemption.kinds, c.kinds);
  });
}

t.test('parseExemptUntil', async (t) => {
  t.equal(parseExemptUntil('2026-12-31')?.toISOString(), '2027-01-01T00:00:00.000Z');
  t.equal(parseExemptUntil('2026-12-31T10:00:00Z')?.toISOString(), '2026-12-31T10:00:00.000Z');
  t.equal(parseExemptUntil('31/12/2026'), undefined);
});

const exemptNs = (annotations: Record<string, string>) =>
  facts({ namespace: namespace('shop', { 'istio-injection': 'enabled' }, annotations) });

t.test('an honoured namespace exemption lets an unscoped pod in, visibly', async (t) => {
  const outcome = applyMode(evaluateValidation(input(pod({ name: 'web' })), exemptNs(exempt('scope', 'migrating to ambient', '2026-12-15')), BUILT_IN_CONFIG, NOW));
  t.equal(outcome.allowed, true);
  t.equal(outcome.code, 'EXEMPT');
  t.match(outcome.warnings.join('\n'), /scope check skipped: namespace exemption from scope until 2026-12-15: migrating to ambient/);
  t.match(outcome.auditAnnotations.exemption, /migrating to ambient/);
});

t.test('a refused exemption is not honoured and the answer says why', async (t) => {
  const outcome = applyMode(evaluateValidation(input(pod({ name: 'web' })), exemptNs(exempt('scope')), BUILT_IN_CONFIG, NOW));
  t.equal(outcome.allowed, false);
  t.equal(outcome.code, 'MISSING_SIDECAR');
  t.match(outcome.warnings.join('\n'), /exemption not honoured: namespace exemption has no sidecar-guard.io\/exempt-reason/);
  t.match(outcome.auditAnnotations['exemption-refused'], /exempt-reason/);
});

t.test('workload exemptions honoured only where allowed', async (t) => {
  const workload = controller('Deployment', 'web', pod({ annotations: exempt('scope', 'vendor chart') }));
  const f = facts({ namespace: namespace('shop', { 'istio-injection': 'enabled' }) });
  t.equal(applyMode(evaluateValidation(input(workload), f, BUILT_IN_CONFIG, NOW)).allowed, false);
  const allowing = resolveConfig({ exceptions: { allowOn: ['namespace', 'workload'] } });
  const outcome = applyMode(evaluateValidation(input(workload), f, allowing, NOW));
  t.equal(outcome.allowed, true);
  t.match(outcome.warnings.join('\n'), /workload exemption from scope \(no expiry\): vendor chart/);
});

t.test('a resources exemption skips sizing; a scope exemption does not', async (t) => {
  const resources = applyMode(evaluateMutation(input(pod({})), exemptNs(exempt('resources', 'sized by VPA')), BUILT_IN_CONFIG, NOW));
  t.same([resources.verdict, resources.code], ['allowed', 'EXEMPT']);
  const scopeOnly = applyMode(evaluateMutation(input(pod({})), exemptNs(exempt('scope', 'x')), BUILT_IN_CONFIG, NOW));
  t.equal(scopeOnly.verdict, 'patched');
});

t.test('a scope exemption on the namespace also covers its Sidecar objects', async (t) => {
  const wide = sidecar('shop', 'default', { hosts: ['*/*'] });
  const outcome = applyMode(evaluateValidation(input(wide), exemptNs(exempt('scope', 'shared gateway namespace')), BUILT_IN_CONFIG, NOW));
  t.same([outcome.allowed, outcome.code], [true, 'EXEMPT']);
});
