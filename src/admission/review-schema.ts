import { Ajv, type ErrorObject } from 'ajv';

/**
 * The part of an admission.k8s.io/v1 AdmissionReview request that sidecar-guard reads
 * (admission-contract §1.1). Unknown fields are allowed, as the apiserver's decoder does.
 */
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const groupVersionKind = {
  type: 'object',
  required: ['group', 'version', 'kind'],
  properties: { group: { type: 'string' }, version: { type: 'string' }, kind: { type: 'string', minLength: 1 } },
} as const;
const groupVersionResource = {
  type: 'object',
  required: ['group', 'version', 'resource'],
  properties: { group: { type: 'string' }, version: { type: 'string' }, resource: { type: 'string', minLength: 1 } },
} as const;
const kubeObject = {
  type: ['object', 'null'],
  properties: {
    metadata: {
      type: 'object',
      properties: { name: { type: 'string' }, namespace: { type: 'string' }, labels: stringMap, annotations: stringMap },
    },
  },
} as const;

export const admissionReviewSchema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'request'],
  properties: {
    apiVersion: { const: 'admission.k8s.io/v1' },
    kind: { const: 'AdmissionReview' },
    request: {
      type: 'object',
      required: ['uid', 'kind', 'resource', 'operation'],
      properties: {
        uid: { type: 'string', minLength: 1, maxLength: 256 },
        kind: groupVersionKind,
        resource: groupVersionResource,
        subResource: { type: 'string' },
        name: { type: 'string' },
        namespace: { type: 'string' },
        operation: { enum: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'] },
        object: kubeObject,
        oldObject: kubeObject,
        dryRun: { type: 'boolean' },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: false, strict: true, allowUnionTypes: true });
/** Compiled once, at module load. */
export const validateAdmissionReview = ajv.compile(admissionReviewSchema);

/** `request.uid: must be string` from an ajv error. */
export function describeSchemaError(error: ErrorObject | undefined): string {
  if (!error) return 'body does not match admission.k8s.io/v1 AdmissionReview';
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'body';
  if (error.keyword === 'required') return `${path === 'body' ? '' : `${path}.`}${String(error.params.missingProperty)} is required`;
  if (error.keyword === 'const') return `${path} must be ${JSON.stringify(error.params.allowedValue)}`;
  if (error.keyword === 'enum') return `${path} must be one of ${(error.params.allowedValues as unknown[]).join(', ')}`;
  return `${path} ${error.message ?? 'is invalid'}`;
}
