import type { ScopeCommandOptions, SourceOptions } from '../../src/cli/recommend-command.js';

/** The source flags' defaults as commander would fill them, for running recommend actions in process. */
export const SOURCE_DEFAULTS: Omit<SourceOptions, 'output'> = { window: '7d', step: '5m', samples: 1, interval: '30s', namespaceLabel: 'namespace', podLabel: 'pod' };

/** `recommend scope -o yaml --from-files …` options with the command's defaults; `extra` overrides any. */
export const scopeOptions = (fromFiles: string[], extra: Partial<ScopeCommandOptions> = {}): ScopeCommandOptions => ({
  ...SOURCE_DEFAULTS,
  output: 'yaml',
  per: 'namespace',
  include: ['istio-system/*'],
  clusterDomain: 'cluster.local',
  rootNamespace: 'istio-system',
  fromFiles,
  ...extra,
});
