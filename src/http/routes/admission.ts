import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { peekUid } from '../../admission/decode.js';
import { reviewAdmission } from '../../admission/review.js';
import { readClusterFacts } from '../../cluster/facts.js';
import { ReviewDecodeError } from '../../errors.js';
import type { Webhook } from '../../policy/decision.js';
import { describeSubject } from '../../policy/workload-context.js';
import type { AppDependencies } from '../app.js';
import { countRejection, mapError } from '../error-handler.js';

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
    request.log.info(
      {
        webhook,
        uid: input.uid,
        namespace: input.namespace,
        kind: input.kind.kind,
        name: input.name,
        // A pod from generateName has no name yet: log what will name it.
        ...(input.name === '' ? { subject: describeSubject(input.kind.kind, input.name, input.object) } : {}),
        operation: input.operation,
        verdict: outcome.verdict,
        reason: outcome.code,
        mode: evaluation.mode,
        dryRun: input.dryRun,
        ...(evaluation.profile ? { profile: evaluation.profile } : {}),
        ...(evaluation.exemptions.length > 0 ? { exemptions: evaluation.exemptions } : {}),
        ...(evaluation.refusals.length > 0 ? { refusedExemptions: evaluation.refusals } : {}),
      },
      'admission decision',
    );
    return reply.code(200).send(result.review);
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
