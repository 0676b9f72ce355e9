import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { WebhookError } from '../errors.js';
import type { WebhookMetrics } from '../observability/metrics.js';

/** Fastify's own body errors, in words a person running kubectl or curl can act on. */
const FASTIFY_ERRORS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'SG_ERR_BAD_JSON', message: 'body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'SG_ERR_BAD_JSON', message: 'body is empty; expected an AdmissionReview' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'SG_ERR_TOO_LARGE', message: 'body is larger than the 7 MiB limit' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'SG_ERR_MEDIA_TYPE', message: 'Content-Type must be application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'SG_ERR_BAD_LENGTH', message: 'Content-Length does not match the body' },
};

export interface ErrorBody {
  error: string;
  message: string;
}

/**
 * The only place errors become HTTP answers: known errors get their status and a message
 * naming what is wrong; anything else is a 500 with no internals (the log has the stack).
 */
export function mapError(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof WebhookError) return { status: error.httpStatus, body: { error: error.code, message: error.message } };
  const code = (error as FastifyError | undefined)?.code;
  const known = code ? FASTIFY_ERRORS[code] : undefined;
  if (known) return { status: known.status, body: { error: known.code, message: known.message } };
  const status = (error as FastifyError | undefined)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, body: { error: 'SG_ERR_BAD_REQUEST', message: (error as Error).message } };
  }
  return { status: 500, body: { error: 'SG_ERR_INTERNAL', message: 'internal error; see the webhook log' } };
}

/** The webhook a request was for (`/validate` → validate), or undefined for other routes. */
export function webhookOf(request: FastifyRequest): 'validate' | 'mutate' | undefined {
  const url = request.routeOptions.url;
  return url === '/validate' ? 'validate' : url === '/mutate' ? 'mutate' : undefined;
}

/** Counts a request to /validate or /mutate answered 4xx before any decision (the rejection metric). */
export function countRejection(metrics: WebhookMetrics, request: FastifyRequest, code: string): void {
  const webhook = webhookOf(request);
  if (webhook !== undefined) metrics.rejectedReviews.inc({ webhook, code });
}

/** The app's error handler: maps the error, logs it, and counts rejected admission requests. */
export function createErrorHandler(metrics: WebhookMetrics) {
  return function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    const { status, body } = mapError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else {
      request.log.warn({ error: body.error, reason: body.message }, 'request rejected');
      countRejection(metrics, request, body.error);
    }
    void reply.code(status).send(body);
  };
}
