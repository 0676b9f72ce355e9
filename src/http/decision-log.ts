import type { ObjectSchema } from 'fast-json-stringify';
import type { ReviewResult } from '../admission/review.js';
import { compileLogLine } from '../observability/compiled-log-line.js';
import type { Evaluation, Webhook } from '../policy/decision.js';
import type { Exemption, ExemptionRefusal } from '../policy/exemptions.js';
import { describeSubject } from '../policy/workload-context.js';

/**
 * Which decisions are worth a line at info, as Gatekeeper's --log-denies: denials, audit
 * violations, patches, and any answer that carries a warning, an exemption or a refused
 * exemption. An allowed request left untouched with nothing to say is logged at debug only:
 * most pods (outside the mesh, already sized, scoped) are that, and a line each cost more than
 * deciding them.
 */
export function decisionLogLevel(result: Pick<ReviewResult, 'evaluation' | 'outcome'>): 'info' | 'debug' {
  const { outcome, evaluation } = result;
  if (outcome.verdict !== 'allowed') return 'info';
  return outcome.warnings.length > 0 || evaluation.exemptions.length > 0 || evaluation.refusals.length > 0 ? 'info' : 'debug';
}

/** The fields of the "admission decision" line (the optional ones only when they say something). */
export interface DecisionLogFields {
  webhook: Webhook;
  uid: string;
  namespace: string;
  kind: string;
  name: string;
  /** A pod from generateName has no name yet: what will name it. */
  subject?: string;
  operation: string;
  verdict: string;
  reason: string;
  mode: Evaluation['mode'];
  dryRun: boolean;
  profile?: string;
  exemptions?: Evaluation['exemptions'];
  refusedExemptions?: Evaluation['refusals'];
  /** How many warnings went back. */
  warnings?: number;
}

/**
 * The fields of the "admission decision" line: the required ones in one literal, the optional ones
 * assigned after (no spreads), always in the same order, so building the object and pino's walk
 * over it stay cheap.
 */
export function decisionLogFields(webhook: Webhook, result: Pick<ReviewResult, 'input' | 'evaluation' | 'outcome'>): DecisionLogFields {
  const { input, evaluation, outcome } = result;
  const fields: DecisionLogFields = {
    webhook,
    uid: input.uid,
    namespace: input.namespace,
    kind: input.kind.kind,
    name: input.name,
    operation: input.operation,
    verdict: outcome.verdict,
    reason: outcome.code,
    mode: evaluation.mode,
    dryRun: input.dryRun,
  };
  if (input.name === '') fields.subject = describeSubject(input.kind.kind, input.name, input.object);
  if (evaluation.profile) fields.profile = evaluation.profile;
  if (evaluation.exemptions.length > 0) fields.exemptions = evaluation.exemptions;
  if (evaluation.refusals.length > 0) fields.refusedExemptions = evaluation.refusals;
  if (outcome.warnings.length > 0) fields.warnings = outcome.warnings.length;
  return fields;
}

const text = { type: 'string' } as const;
const exemptionProperties: Record<keyof Exemption, object> = { target: text, kinds: { type: 'array', items: text }, reason: text, until: text };
const exemptionSchema = { type: 'object', required: ['target', 'kinds', 'reason'], properties: exemptionProperties };
const refusalProperties: Record<keyof ExemptionRefusal, object> = { target: text, code: text, message: text };
const refusalSchema = { type: 'object', required: ['target', 'code', 'message'], properties: refusalProperties };

/** A schema for every key of DecisionLogFields (and of an exemption, a refusal): a key added there and not here fails the typecheck. */
const decisionLogProperties: Record<keyof DecisionLogFields, object> = {
  webhook: text,
  uid: text,
  namespace: text,
  kind: text,
  name: text,
  operation: text,
  verdict: text,
  reason: text,
  mode: text,
  dryRun: { type: 'boolean' },
  subject: text,
  profile: text,
  exemptions: { type: 'array', items: exemptionSchema },
  refusedExemptions: { type: 'array', items: refusalSchema },
  warnings: { type: 'integer' },
};

/**
 * Every key of DecisionLogFields, in the order decisionLogFields sets them (the line's key order),
 * and of the exemptions and refusals in the order src/policy/exemptions.ts builds them. The
 * serialiser writes only these keys.
 */
export const decisionLogFieldsSchema: ObjectSchema = {
  type: 'object',
  required: ['webhook', 'uid', 'namespace', 'kind', 'name', 'operation', 'verdict', 'reason', 'mode', 'dryRun'],
  properties: decisionLogProperties,
};

/**
 * The "admission decision" line: what `log[level](fields, 'admission decision')` writes, with the
 * fields serialised by code compiled from decisionLogFieldsSchema (src/observability/compiled-log-line.ts).
 */
export const decisionLogLine = compileLogLine<DecisionLogFields>(decisionLogFieldsSchema, 'admission decision');
