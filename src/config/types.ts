/** The configuration file's shape: the public contract (README "Configuration reference"). */

export type Mode = 'enforce' | 'audit' | 'off';
export const MODES: readonly Mode[] = ['enforce', 'audit', 'off'];

/** Proxy resources for one class of workload; every value is a Kubernetes quantity. */
export interface Profile {
  cpu: string;
  cpuLimit: string;
  memory: string;
  memoryLimit: string;
  /** Ceilings for values a workload sets itself; above them is a violation. */
  maxCpu?: string;
  maxCpuLimit?: string;
  maxMemory?: string;
  maxMemoryLimit?: string;
}

export interface RuleMatch {
  /** Namespace names or globs (`batch-*`). */
  namespaces?: string[];
  namespaceLabels?: Record<string, string>;
  podLabels?: Record<string, string>;
  /** True matches gateway pods only, false non-gateway pods only. */
  gateway?: boolean;
}

export interface ProfileRule {
  profile: string;
  match: RuleMatch;
}

export type ExemptionTarget = 'namespace' | 'workload';

/** Ceilings over every profile (a profile's own max* may be lower). */
export type Ceilings = Pick<Profile, 'maxCpu' | 'maxCpuLimit' | 'maxMemory' | 'maxMemoryLimit'>;

/** What a tenant (who can edit workloads and Sidecars in their namespace, not Namespaces) may choose. */
export interface Tenancy {
  /** Namespaces (names or globs) where a pod may count as a gateway: no scope check, gateway rules. */
  gatewayNamespaces: string[];
  /**
   * Profiles a workload may ask for with `sidecar-guard.io/profile`. The Namespace annotation
   * `sidecar-guard.io/allowed-profiles` (admins set it) replaces the list there. Unset: every
   * profile except `gateway` and those the `gateway: true` rules choose.
   */
  workloadProfiles?: string[];
  ceilings: Ceilings;
}

/** Memory prediction from Sidecar scope (README "Memory prediction"; docs/memory-model.md). */
export interface SizingConfig {
  /**
   * `rules`: the profile comes from the annotation, the rules, the namespace or defaultProfile.
   * `predicted`: when none of the annotation, a rule or the namespace picks one, the smallest
   * profile whose memoryLimit covers the prediction (with the margin) is used instead of defaultProfile.
   */
  choose: 'rules' | 'predicted';
  /** A prediction above memoryLimit ÷ (1 + marginPercent/100) is reported. */
  marginPercent: number;
  /** Coefficients in bytes: predicted = baseBytes + perClusterBytes × clusters + perEndpointBytes × endpoints. */
  model: { baseBytes: number; perClusterBytes: number; perEndpointBytes: number };
  /** A Sidecar change whose workloads would be predicted above their limit: `warn`, or `deny` (enforce mode only). */
  onSidecarOverLimit: 'warn' | 'deny';
}

export interface Config {
  mode: Mode;
  defaultProfile: string;
  profiles: Record<string, Profile>;
  rules: ProfileRule[];
  scope: {
    acceptRootNamespaceDefault: boolean;
    rootNamespace: string;
    suggestedEgressHosts: string[];
    /** The cluster DNS domain: egress host `*\/*.svc.<domain>` and its shorter suffixes import every service. */
    clusterDomain: string;
    /**
     * Istio's MeshConfig `defaultServiceExportTo`: where Services and ServiceEntries without an exportTo of
     * their own are visible (Istio's default `["*"]`). Set it to the mesh's value so predictions import what istiod pushes.
     */
    defaultServiceExportTo: string[];
  };
  tenancy: Tenancy;
  exceptions: {
    allowOn: ExemptionTarget[];
    maxDays: number;
    /** When true, an exemption without `sidecar-guard.io/exempt-until` is refused. */
    requireExpiry: boolean;
  };
  cluster: {
    /** What to answer while the cluster view is not synced (or is stale). */
    whenUnsynced: 'allow' | 'deny';
  };
  sizing: SizingConfig;
}
