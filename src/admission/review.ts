import type { Config } from '../config/types.js';
import type { Evaluation, Webhook } from '../policy/decision.js';
import { applyMode, type Outcome } from '../policy/enforcement.js';
import { evaluateMutation } from '../policy/mutate.js';
import type { AdmissionInput } from '../policy/request.js';
import type { ClusterFacts } from '../policy/types.js';
import { evaluateValidation } from '../policy/validate.js';
import { decodeAdmissionReview } from './decode.js';
import { toJsonPatch, type JsonPatchOperation } from './patch.js';
import { toAdmissionReview, type AdmissionReviewResponse } from './respond.js';

export interface ReviewResult {
  readonly input: AdmissionInput;
  readonly evaluation: Evaluation;
  readonly outcome: Outcome;
  readonly patch: readonly JsonPatchOperation[];
  readonly review: AdmissionReviewResponse;
}

export interface ReviewDependencies {
  readonly config: Config;
  /** Reads the facts for a namespace; called once per review. */
  readonly factsFor: (namespace: string) => ClusterFacts;
  readonly now: Date;
}

/**
 * One admission review end to end: decode, decide, apply the mode, build the patch and the
 * response. The same function serves the webhook and the offline CLI. Throws
 * ReviewDecodeError for a body that is not a usable AdmissionReview.
 */
export function reviewAdmission(webhook: Webhook, body: unknown, deps: ReviewDependencies): ReviewResult {
  const input = decodeAdmissionReview(body);
  return reviewInput(webhook, input, deps);
}

/** As reviewAdmission, for a request that is already decoded. */
export function reviewInput(webhook: Webhook, input: AdmissionInput, deps: ReviewDependencies): ReviewResult {
  const facts = deps.factsFor(input.namespace);
  const evaluation =
    webhook === 'validate' ? evaluateValidation(input, facts, deps.config, deps.now) : evaluateMutation(input, facts, deps.config, deps.now);
  const outcome = applyMode(evaluation);
  const patch = outcome.changes ? toJsonPatch(input.object, outcome.changes) : [];
  return { input, evaluation, outcome, patch, review: toAdmissionReview(input.uid, outcome, patch) };
}
