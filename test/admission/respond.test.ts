import fc from 'fast-check';
import t from 'tap';
import { encodeAdmissionReview, toAdmissionReview, type AdmissionReviewResponse } from '../../src/admission/respond.js';
import type { AuditAnnotations, Outcome } from '../../src/policy/enforcement.js';

// Any text a tenant can put where the answer echoes it: unicode, control characters, lone surrogates.
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('\ud800', 'a\udc00b', '"\\\u2028\u0000', 'x'.repeat(300)));

const AUDIT_KEYS = ['decision', 'reason', 'mode', 'profile', 'predicted-memory', 'exemption', 'exemption-refused', 'would-deny', 'would-patch', 'patched'] as const;

/** Any subset of the audit annotations with the three required ones, set in the order applyMode sets them. */
function auditAnnotations(): fc.Arbitrary<AuditAnnotations> {
  return fc.tuple(text, text, text, fc.array(fc.option(text, { nil: undefined }), { minLength: 7, maxLength: 7 })).map(([decision, reason, mode, rest]) => {
    const annotations: AuditAnnotations = { decision, reason, mode };
    AUDIT_KEYS.slice(3).forEach((key, i) => {
      const value = rest[i];
      if (value !== undefined) annotations[key] = value;
    });
    return annotations;
  });
}

const outcome: fc.Arbitrary<Outcome> = fc.record({
  allowed: fc.boolean(),
  verdict: fc.constantFrom('allowed', 'patched', 'denied', 'audit_violation'),
  code: text,
  status: fc.option(fc.record({ code: fc.integer({ min: 400, max: 599 }), reason: text, message: text }), { nil: undefined }),
  warnings: fc.array(text, { maxLength: 4 }),
  auditAnnotations: auditAnnotations(),
}).map((o) => {
  const { status, ...rest } = o;
  return (status === undefined ? rest : { ...rest, status }) as Outcome;
});

const patch = fc.array(fc.record({ op: fc.constantFrom('add' as const, 'replace' as const), path: text, value: fc.oneof(text, fc.dictionary(text, text)) }), { maxLength: 5 });

t.test('the compiled encoder writes exactly what JSON.stringify writes, for every answer', async (t) => {
  let checked = 0;
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), outcome, patch, (uid, o, p) => {
      const review = toAdmissionReview(uid, o, p);
      checked++;
      return encodeAdmissionReview(review) === JSON.stringify(review);
    }),
    { seed: 42, numRuns: 2000 },
  );
  t.equal(checked, 2000);
});

t.test('every field of a denial and of a patch survives the encoder', async (t) => {
  const review: AdmissionReviewResponse = toAdmissionReview('u1', { allowed: false, verdict: 'denied', code: 'X', status: { code: 403, reason: 'Forbidden', message: 'no' }, warnings: ['w'], auditAnnotations: Object.fromEntries(AUDIT_KEYS.map((key) => [key, `${key} value`])) as unknown as AuditAnnotations }, []);
  const decoded = JSON.parse(encodeAdmissionReview(review)) as AdmissionReviewResponse;
  t.same(decoded, review, 'every field of a denial survives');
  t.same(Object.keys(decoded.response.auditAnnotations ?? {}), AUDIT_KEYS, 'every audit annotation, in order');
  const patched = toAdmissionReview('u2', { allowed: true, verdict: 'patched', code: 'SIZED', warnings: [], auditAnnotations: { decision: 'patched', reason: 'SIZED', mode: 'enforce' } }, [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }]);
  t.same(JSON.parse(encodeAdmissionReview(patched)), patched, 'patch and patchType survive');
  t.equal(Buffer.from(patched.response.patch ?? '', 'base64').toString(), '[{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]');
});
