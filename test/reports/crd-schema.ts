/**
 * Validators for the vendored report CRDs (charts/sidecar-guard/files/crds): each version's openAPIV3Schema as a JSON
 * schema, closed (additionalProperties: false wherever the CRD lists properties) so a field the API
 * server would prune unseen fails here.
 */
import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

type Schema = Record<string, unknown>;

function closed(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-') || key === 'format') continue;
    if (key === 'properties' && typeof value === 'object' && value !== null) {
      out.properties = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([name, sub]) => [name, closed(sub)]));
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object' && value !== null) {
      out[key] = closed(value as Schema);
    } else out[key] = value;
  }
  if (out.properties !== undefined && out.additionalProperties === undefined) {
    // metadata is `type: object` with no properties: left open, as the API server treats it.
    out.additionalProperties = false;
  }
  return out;
}

/** kind → validator, from a vendored CRD file. */
export function crdValidators(file: string): Map<string, ValidateFunction> {
  const ajv = new Ajv.default({ allErrors: true, strict: false });
  const validators = new Map<string, ValidateFunction>();
  for (const document of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const crd = document.toJS() as { spec: { names: { kind: string }; versions: { schema: { openAPIV3Schema: Schema } }[] } };
    const version = crd.spec.versions[0];
    if (!version) throw new Error(`${file}: a CRD without versions`);
    validators.set(crd.spec.names.kind, ajv.compile(closed(version.schema.openAPIV3Schema)));
  }
  return validators;
}
