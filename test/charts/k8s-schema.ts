/**
 * Test support: validate rendered objects against the Kubernetes OpenAPI schemas.
 *
 * Two checks, because neither is enough alone:
 * - kubernetes-models 4.5 (Node 20 compatible; 5.x needs Node 22) and its cert-manager and
 *   prometheus-operator companions: ajv validators generated from the OpenAPI/CRD schemas
 *   (required fields, types, enums, formats). They accept unknown fields.
 * - the model type maps of @kubernetes/client-node (generated from the same OpenAPI), walked
 *   to reject unknown fields, which the API server drops (or refuses, with strict field
 *   validation) and which usually mean a typo. Built-in kinds only.
 */
import { createRequire } from 'node:module';
import * as k8s from '@kubernetes/client-node';
import type { K8sObject } from './helm.js';

const require = createRequire(import.meta.url);

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

function model(path: string, exportName: string): ModelClass {
  const loaded = (require(path) as Record<string, ModelClass | undefined>)[exportName];
  if (loaded === undefined) throw new Error(`${path} has no export ${exportName}`);
  return loaded;
}

/** apiVersion/kind -> [kubernetes-models module, client-node model name (built-ins only)]. */
const KINDS: Record<string, { module: string; clientModel?: string }> = {
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', clientModel: 'V1ConfigMap' },
  'v1/Service': { module: 'kubernetes-models/v1/Service', clientModel: 'V1Service' },
  'v1/ServiceAccount': { module: 'kubernetes-models/v1/ServiceAccount', clientModel: 'V1ServiceAccount' },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', clientModel: 'V1Secret' },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', clientModel: 'V1Deployment' },
  'policy/v1/PodDisruptionBudget': { module: 'kubernetes-models/policy/v1/PodDisruptionBudget', clientModel: 'V1PodDisruptionBudget' },
  'networking.k8s.io/v1/NetworkPolicy': { module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy', clientModel: 'V1NetworkPolicy' },
  'rbac.authorization.k8s.io/v1/ClusterRole': { module: 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole', clientModel: 'V1ClusterRole' },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
    module: 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding',
    clientModel: 'V1ClusterRoleBinding',
  },
  'rbac.authorization.k8s.io/v1/Role': { module: 'kubernetes-models/rbac.authorization.k8s.io/v1/Role', clientModel: 'V1Role' },
  'rbac.authorization.k8s.io/v1/RoleBinding': { module: 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding', clientModel: 'V1RoleBinding' },
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': {
    module: 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration',
    clientModel: 'V1MutatingWebhookConfiguration',
  },
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': {
    module: 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration',
    clientModel: 'V1ValidatingWebhookConfiguration',
  },
  'cert-manager.io/v1/Issuer': { module: '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer' },
  'cert-manager.io/v1/Certificate': { module: '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate' },
  'monitoring.coreos.com/v1/ServiceMonitor': { module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor' },
  'monitoring.coreos.com/v1/PrometheusRule': { module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule' },
};

interface Attribute {
  baseName: string;
  type: string;
}
type ClientModel = { getAttributeTypeMap(): Attribute[] };

function clientModel(name: string): ClientModel | undefined {
  const candidate = (k8s as unknown as Record<string, unknown>)[name];
  if (typeof candidate === 'function' && 'getAttributeTypeMap' in candidate) return candidate as unknown as ClientModel;
  return undefined;
}

/** Unknown fields of `value` against client-node type `type`, as JSON paths. */
export function unknownFields(value: unknown, type: string, path = ''): string[] {
  if (value === null || value === undefined) return [];
  const arrayOf = /^Array<(.+)>$/.exec(type);
  if (arrayOf) {
    if (!Array.isArray(value)) return [`${path}: expected an array`];
    return value.flatMap((item, i) => unknownFields(item, arrayOf[1] as string, `${path}[${i}]`));
  }
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (mapOf) {
    if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected a map`];
    return Object.entries(value).flatMap(([k, v]) => unknownFields(v, mapOf[1] as string, `${path}.${k}`));
  }
  const modelType = clientModel(type);
  if (modelType === undefined) return []; // string, number, boolean, IntOrString, Date, any, object
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object (${type})`];
  const attributes = modelType.getAttributeTypeMap();
  const problems: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const attribute = attributes.find((a) => a.baseName === key);
    if (attribute === undefined) problems.push(`${path}.${key}: unknown field of ${type}`);
    else problems.push(...unknownFields(child, attribute.type, `${path}.${key}`));
  }
  return problems;
}

/** Problems with one object; empty when it is valid. */
export function validateObject(object: K8sObject): string[] {
  const key = `${object.apiVersion}/${object.kind}`;
  const entry = KINDS[key];
  if (entry === undefined) return [`${key}: no schema known to the tests`];
  const problems: string[] = [];
  const exportName = object.kind;
  try {
    new (model(entry.module, exportName))(object).validate();
  } catch (error) {
    problems.push(`${key} ${object.metadata.name}: ${(error as Error).message}`);
  }
  if (entry.clientModel !== undefined) {
    problems.push(...unknownFields(object, entry.clientModel).map((p) => `${key} ${object.metadata.name}: ${p}`));
  }
  return problems;
}
