import { stringify } from 'yaml';

/**
 * YAML for kubectl. kubectl reads manifests as YAML 1.1 (sigs.k8s.io/yaml), where unquoted
 * `yes`, `no`, `on`, `off`, `y`, `n` are booleans: a label value "yes" written the YAML 1.2 way
 * (unquoted) fails with "cannot unmarshal bool into … labels of type string". Writing in 1.1 mode
 * quotes every such string, so what we print applies as is.
 *
 * @example toManifestYaml({ metadata: { labels: { canary: 'yes' } } }) // 'metadata:\n  labels:\n    canary: "yes"\n'
 */
export function toManifestYaml(value: unknown): string {
  return stringify(value, { version: '1.1' });
}
