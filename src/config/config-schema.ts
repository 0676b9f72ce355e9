/** JSON Schema for the configuration file. Every section is optional: missing ones take the defaults. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

const quantity = { type: 'string', pattern: QUANTITY_PATTERN } as const;
export const EGRESS_HOST_PATTERN = '^[^/]+/[^/]+$';
export const DNS_DOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const EXPORT_TO_PATTERN = '^([*.~]|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$';

/** What each pattern means, for error messages (ajv only knows the regular expression). */
export const PATTERN_MEANING: Readonly<Record<string, string>> = {
  [QUANTITY_PATTERN]: 'must be a Kubernetes quantity (e.g. 128Mi, 500m)',
  [EGRESS_HOST_PATTERN]: 'must be a Sidecar egress host "<namespace>/<dnsName>" (e.g. "./*", "istio-system/*")',
  [DNS_DOMAIN_PATTERN]: 'must be a lowercase DNS domain (e.g. cluster.local)',
  [EXPORT_TO_PATTERN]: 'must be an exportTo value: "*" (every namespace), "." (its own), "~" (none) or a namespace name',
};
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mode: { enum: ['enforce', 'audit', 'off'] },
    defaultProfile: { type: 'string', minLength: 1 },
    defaultRules: { type: 'boolean' },
    profiles: {
      type: 'object',
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['cpu', 'cpuLimit', 'memory', 'memoryLimit'],
        properties: {
          cpu: quantity,
          cpuLimit: quantity,
          memory: quantity,
          memoryLimit: quantity,
          maxCpu: quantity,
          maxCpuLimit: quantity,
          maxMemory: quantity,
          maxMemoryLimit: quantity,
        },
      },
    },
    rules: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['profile', 'match'],
        properties: {
          profile: { type: 'string', minLength: 1 },
          match: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: {
              namespaces: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
              namespaceLabels: stringMap,
              podLabels: stringMap,
              gateway: { type: 'boolean' },
            },
          },
        },
      },
    },
    scope: {
      type: 'object',
      additionalProperties: false,
      properties: {
        acceptRootNamespaceDefault: { type: 'boolean' },
        rootNamespace: { type: 'string', minLength: 1 },
        suggestedEgressHosts: { type: 'array', minItems: 1, items: { type: 'string', pattern: EGRESS_HOST_PATTERN } },
        clusterDomain: { type: 'string', pattern: DNS_DOMAIN_PATTERN },
        defaultServiceExportTo: { type: 'array', minItems: 1, items: { type: 'string', pattern: EXPORT_TO_PATTERN } },
      },
    },
    tenancy: {
      type: 'object',
      additionalProperties: false,
      properties: {
        gatewayNamespaces: { type: 'array', items: { type: 'string', minLength: 1 } },
        workloadProfiles: { type: 'array', items: { type: 'string', minLength: 1 } },
        ceilings: {
          type: 'object',
          additionalProperties: false,
          properties: { maxCpu: quantity, maxCpuLimit: quantity, maxMemory: quantity, maxMemoryLimit: quantity },
        },
      },
    },
    exceptions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowOn: { type: 'array', uniqueItems: true, items: { enum: ['namespace', 'workload'] } },
        maxDays: { type: 'integer', minimum: 1 },
        requireExpiry: { type: 'boolean' },
      },
    },
    cluster: {
      type: 'object',
      additionalProperties: false,
      properties: { whenUnsynced: { enum: ['allow', 'deny'] } },
    },
    sizing: {
      type: 'object',
      additionalProperties: false,
      properties: {
        choose: { enum: ['rules', 'predicted'] },
        marginPercent: { type: 'number', minimum: 0, maximum: 1000 },
        model: {
          type: 'object',
          additionalProperties: false,
          properties: {
            baseBytes: { type: 'integer', minimum: 0, maximum: 1e12 },
            perClusterBytes: { type: 'integer', minimum: 0, maximum: 1e9 },
            perEndpointBytes: { type: 'integer', minimum: 0, maximum: 1e9 },
          },
        },
        onSidecarOverLimit: { enum: ['warn', 'deny'] },
      },
    },
  },
} as const;
