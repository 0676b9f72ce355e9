import { DEFAULT_MEMORY_MODEL } from '../policy/memory-model.js';
import type { Config } from './types.js';

/** The embedded default configuration: what `serve` runs with when no `--config` is given. */
export const DEFAULT_CONFIG: Config = {
  mode: 'enforce',
  defaultProfile: 'medium',
  profiles: {
    small: { cpu: '50m', cpuLimit: '500m', memory: '64Mi', memoryLimit: '128Mi' },
    medium: { cpu: '100m', cpuLimit: '1000m', memory: '128Mi', memoryLimit: '256Mi', maxMemoryLimit: '512Mi' },
    large: { cpu: '200m', cpuLimit: '2000m', memory: '256Mi', memoryLimit: '1Gi' },
    gateway: { cpu: '500m', cpuLimit: '4000m', memory: '512Mi', memoryLimit: '2Gi' },
  },
  rules: [
    { profile: 'gateway', match: { gateway: true } },
    { profile: 'gateway', match: { podLabels: { istio: 'ingressgateway' }, namespaces: ['istio-system', 'istio-ingress', 'istio-egress'] } },
    { profile: 'small', match: { namespaces: ['batch-*'] } },
  ],
  scope: {
    acceptRootNamespaceDefault: false,
    rootNamespace: 'istio-system',
    suggestedEgressHosts: ['./*', 'istio-system/*'],
    clusterDomain: 'cluster.local',
    defaultServiceExportTo: ['*'],
  },
  tenancy: {
    gatewayNamespaces: ['istio-system', 'istio-ingress', 'istio-egress'],
    ceilings: { maxCpu: '2000m', maxCpuLimit: '4000m', maxMemory: '2Gi', maxMemoryLimit: '2Gi' },
  },
  exceptions: {
    allowOn: ['namespace'],
    maxDays: 90,
    requireExpiry: false,
  },
  cluster: {
    whenUnsynced: 'allow',
  },
  // Coefficients and their sources: src/policy/memory-model.ts, docs/memory-model.md.
  sizing: {
    choose: 'rules',
    marginPercent: 10,
    model: { ...DEFAULT_MEMORY_MODEL },
    onSidecarOverLimit: 'warn',
  },
};
