import { ReviewDecodeError } from '../errors.js';
import type { AdmissionInput, Operation } from '../policy/request.js';
import { describeSchemaError, validateAdmissionReview } from './review-schema.js';

interface RawRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: Operation;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
}

/** The request's uid when the body has one, so even a rejected body can be correlated in logs. */
export function peekUid(body: unknown): string | undefined {
  const uid = (body as { request?: { uid?: unknown } } | null)?.request?.uid;
  return typeof uid === 'string' ? uid : undefined;
}

/**
 * Checks a parsed body against the AdmissionReview v1 schema and returns the request as the
 * policy reads it. Throws ReviewDecodeError naming what is wrong.
 *
 * @example decodeAdmissionReview(JSON.parse(body)).operation // "CREATE"
 */
export function decodeAdmissionReview(body: unknown): AdmissionInput {
  if (!validateAdmissionReview(body)) throw new ReviewDecodeError(describeSchemaError(validateAdmissionReview.errors?.[0]));
  const request = (body as { request: RawRequest }).request;
  const object = request.object ?? null;
  const oldObject = request.oldObject ?? null;
  if ((request.operation === 'CREATE' || request.operation === 'UPDATE') && object === null) {
    throw new ReviewDecodeError(`request.object is required for ${request.operation}`);
  }
  return {
    uid: request.uid,
    operation: request.operation,
    kind: request.kind,
    resource: request.resource,
    ...(request.subResource ? { subResource: request.subResource } : {}),
    namespace: request.namespace ?? '',
    name: request.name ?? '',
    object,
    oldObject,
    dryRun: request.dryRun === true,
  };
}
