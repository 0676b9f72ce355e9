/** Value sets the chart tests render: each TLS mode and the edges. */
import type { RenderOptions } from './helm.js';

export const SCENARIOS: Record<string, RenderOptions> = {
  'defaults (self-managed)': {},
  'cert-manager, self-signed issuer': { values: { tls: { mode: 'cert-manager' } } },
  'cert-manager, existing ClusterIssuer': {
    values: { tls: { mode: 'cert-manager', certManager: { issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' } } } },
  },
  'existing secret with caBundle': {
    values: { tls: { mode: 'secret', secret: { name: 'my-webhook-tls', caBundle: Buffer.from('-----BEGIN CERTIFICATE-----').toString('base64') } } },
  },
  'everything optional on': {
    values: {
      metrics: { serviceMonitor: { enabled: true, labels: { release: 'prom' } }, prometheusRule: { enabled: true } },
      networkPolicy: {
        enabled: true,
        ingressFrom: [{ ipBlock: { cidr: '10.0.0.0/8' } }],
        apiServerTo: [{ ipBlock: { cidr: '10.96.0.1/32' } }],
      },
      priorityClassName: 'system-cluster-critical',
      podAnnotations: { 'example.com/team': 'platform' },
      commonLabels: { 'example.com/owner': 'platform' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' }],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      imagePullSecrets: [{ name: 'regcred' }],
      extraArgs: ['--log-level=debug'],
      extraEnv: [{ name: 'EXTRA', value: '1' }],
      image: { digest: `sha256:${'a'.repeat(64)}` },
    },
  },
  'everything optional off': {
    values: {
      replicaCount: 1,
      podDisruptionBudget: { enabled: false },
      topologySpread: { enabled: false },
      rbac: { create: false },
      serviceAccount: { create: false, name: 'preexisting' },
      webhook: { excludedNamespaces: [], matchConditions: false },
      networkPolicy: { enabled: false },
    },
  },
  'Kubernetes 1.29 (no matchConditions)': { kubeVersion: '1.29.4' },
  'long names, other namespace': {
    release: 'r'.repeat(53),
    namespace: 'platform-webhooks',
    values: { fullnameOverride: `guard-${'x'.repeat(57)}` },
  },
  'custom names and policies': {
    values: {
      webhook: {
        timeoutSeconds: 3,
        mutating: { name: 'istio-proxy-sizer', failurePolicy: 'Fail', reinvocationPolicy: 'IfNeeded' },
        validating: { name: 'sidecar-guard-validation', failurePolicy: 'Ignore' },
        sidecarApiVersions: ['v1'],
      },
      config: { mode: 'audit', cluster: { whenUnsynced: 'deny' } },
    },
  },
};
