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
  };
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
}
