import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { levels } from 'pino';
import { peekUid } from '../../admission/decode.js';
import { encodeAdmissionReview } from '../../admission/respond.js';
import { reviewAdmission } from '../../admission/review.js';
import { readClusterFacts } from '../../cluster/facts.js';
import { ReviewDecodeError } from '../../errors.js';
import type { Webhook } from '../../policy/decision.js';
import type { AppDependencies } from '../app.js';
import { decisionLogFields, decisionLogLevel, decisionLogLine } from '../decision-log.js';
import { countRejection, mapError } from '../error-handler.js';

/** Whether a line at `level` would be written (so its fields need not be built otherwise). */
function levelEnabled(log: FastifyBaseLogger, level: 'info' | 'debug'): boolean {
  const current = levels.values[log.level];
  return current !== undefined && current <= (levels.values[level] as number);
}

/** POST /validate and POST /mutate: AdmissionReview in, AdmissionReview out. */
export function registerAdmissionRoutes(app: FastifyInstance, deps: AppDependencies): void {
  const handle = (webhook: Webhook) => async (request: FastifyRequest, reply: FastifyReply) => {
    const started = process.hrtime.bigint();
    const config = deps.config();
    let result;
    try {
      result = reviewAdmission(webhook, request.body, {
        config,
        now: deps.now(),
        factsFor: (namespace) => readClusterFacts(deps.view, namespace, config),
      });
    } catch (error) {
      if (!(error instanceof ReviewDecodeError)) throw error;
      deps.metrics.rejectedReviews.inc({ webhook, code: error.code });
      request.log.warn({ webhook, uid: peekUid(request.body), error: error.code, reason: error.message }, 'rejected admission review');
      const { status, body } = mapError(error);
      return reply.code(status).send(body);
    }
    const { input, evaluation, outcome } = result;
    const dryRun = String(input.dryRun);
    deps.metrics.decisions.inc({ webhook, verdict: outcome.verdict, reason: outcome.code, mode: evaluation.mode, dry_run: dryRun });
    for (const exemption of evaluation.exemptions) {
      for (const kind of exemption.kinds) {
        deps.metrics.exemptions.inc({ webhook, target: exemption.target, kind, dry_run: dryRun });
      }
    }
    deps.metrics.duration.observe({ webhook }, Number(process.hrtime.bigint() - started) / 1e9);
    // Built only when it will be written: the untouched majority costs nothing at info.
    const level = decisionLogLevel(result);
    if (levelEnabled(request.log, level)) decisionLogLine.write(request.log, level, decisionLogFields(webhook, result));
    // The compiled encoder (src/admission/respond.ts) writes what JSON.stringify would, faster.
    return reply.code(200).type('application/json; charset=utf-8').send(encodeAdmissionReview(result.review));
  };
  app.post('/validate', handle('validate'));
  app.post('/mutate', handle('mutate'));
  for (const url of ['/validate', '/mutate']) {
    app.route({
      method: ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url,
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        countRejection(deps.metrics, request, 'SG_ERR_METHOD');
        request.log.warn({ method: request.method, url }, 'request rejected: wrong method');
        return reply
          .code(405)
          .header('allow', 'POST')
          .send({ error: 'SG_ERR_METHOD', message: `${request.method} is not allowed on ${url}: send POST with an AdmissionReview (the API server does)` });
      },
    });
  }
}
