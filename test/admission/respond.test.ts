import fc from 'fast-check';
import t from 'tap';
import { encodeAdmissionReview, toAdmissionReview, type AdmissionReviewResponse } from '../../src/admission/respond.js';
import type { Outcome } from '../../src/policy/enforcement.js';

// Any text a tenant can put where the answer echoes it: unicode, control characters, lone surrogates.
const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.constantFrom('\ud800', 'a\udc00b', '"\\\u2028\u0000', 'x'.repeat(300)));

const outcome: fc.Arbitrary<Outcome> = fc.record({
  allowed: fc.boolean(),
  verdict: fc.constantFrom('allowed', 'patched', 'denied', 'audit_violation'),
  code: text,
  status: fc.option(fc.record({ code: fc.integer({ min: 400, max: 599 }), reason: text, message: text }), { nil: undefined }),
  warnings: fc.array(text, { maxLength: 4 }),
  auditAnnotations: fc.dictionary(text, text, { maxKeys: 6 }),
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
  const review: AdmissionReviewResponse = toAdmissionReview('u1', { allowed: false, verdict: 'denied', code: 'X', status: { code: 403, reason: 'Forbidden', message: 'no' }, warnings: ['w'], auditAnnotations: { a: 'b' } }, []);
  const decoded = JSON.parse(encodeAdmissionReview(review)) as AdmissionReviewResponse;
  t.same(decoded, review, 'every field of a denial survives');
  const patched = toAdmissionReview('u2', { allowed: true, verdict: 'patched', code: 'SIZED', warnings: [], auditAnnotations: {} }, [{ op: 'add', path: '/metadata/annotations', value: { a: 'b' } }]);
  t.same(JSON.parse(encodeAdmissionReview(patched)), patched, 'patch and patchType survive');
  t.equal(Buffer.from(patched.response.patch ?? '', 'base64').toString(), '[{"op":"add","path":"/metadata/annotations","value":{"a":"b"}}]');
});
