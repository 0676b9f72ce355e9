import { InvalidArgumentError } from 'commander';

/** One `--namespace-label NS=KEY=VALUE`: a label the user states for a namespace. */
export interface NamespaceLabel {
  readonly namespace: string;
  readonly key: string;
  readonly value: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
// A label key: an optional DNS-subdomain prefix and a name of at most 63 characters.
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * commander parser for the repeatable `--namespace-label NS=KEY=VALUE`.
 *
 * @example parseNamespaceLabel('shop=istio-injection=enabled', []) // [{ namespace: 'shop', key: 'istio-injection', value: 'enabled' }]
 */
export function parseNamespaceLabel(text: string, previous: readonly NamespaceLabel[]): NamespaceLabel[] {
  const first = text.indexOf('=');
  const second = text.indexOf('=', first + 1);
  if (first < 0 || second < 0) throw new InvalidArgumentError('expected NAMESPACE=KEY=VALUE, e.g. shop=istio-injection=enabled');
  const namespace = text.slice(0, first);
  const key = text.slice(first + 1, second);
  const value = text.slice(second + 1);
  if (!DNS_LABEL.test(namespace)) throw new InvalidArgumentError(`"${namespace}" is not a namespace name (lower-case letters, digits and -)`);
  if (!LABEL_KEY.test(key)) throw new InvalidArgumentError(`"${key}" is not a label key`);
  if (!LABEL_VALUE.test(value)) throw new InvalidArgumentError(`"${value}" is not a label value`);
  return [...previous, { namespace, key, value }];
}

/** The labels stated per namespace, later flags winning. */
export function labelsByNamespace(labels: readonly NamespaceLabel[]): Map<string, Record<string, string>> {
  const byNamespace = new Map<string, Record<string, string>>();
  for (const { namespace, key, value } of labels) byNamespace.set(namespace, { ...byNamespace.get(namespace), [key]: value });
  return byNamespace;
}
