/** An admission request as the policy reads it: decoded and checked by the admission layer. */
export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionInput {
  readonly uid: string;
  readonly operation: Operation;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly resource: { readonly group: string; readonly version: string; readonly resource: string };
  readonly subResource?: string;
  /** `request.namespace`; the object's own metadata.namespace may be absent on CREATE. */
  readonly namespace: string;
  /** `request.name`; empty for a CREATE with generateName. */
  readonly name: string;
  readonly object: unknown;
  readonly oldObject: unknown;
  readonly dryRun: boolean;
}
