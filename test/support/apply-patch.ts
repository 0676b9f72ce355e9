/** Applies a webhook's JSON patch with an independent RFC 6902 library (fast-json-patch), strictly. */
import jsonpatch from 'fast-json-patch';
import type { JsonPatchOperation } from '../../src/admission/patch.js';

export function applyJsonPatch<T>(document: T, patch: readonly JsonPatchOperation[]): T {
  const copy = structuredClone(document);
  const errors = jsonpatch.validate(patch as jsonpatch.Operation[], copy);
  if (errors) throw errors;
  return jsonpatch.applyPatch(copy, patch as jsonpatch.Operation[], true, false).newDocument;
}

/** Decodes the base64 `response.patch` of an AdmissionReview. */
export function decodePatch(base64: string): JsonPatchOperation[] {
  return JSON.parse(Buffer.from(base64, 'base64').toString('utf8')) as JsonPatchOperation[];
}
