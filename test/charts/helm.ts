/**
 * Test support: a helm binary (scripts/install-helm.sh puts one at .bin/helm when missing) and
 * `helm template` / `helm lint` of charts/sidecar-guard, parsed into plain objects.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHART = join(ROOT, 'charts', 'sidecar-guard');
const HELM = join(ROOT, '.bin', 'helm');

/** A rendered Kubernetes object, loosely typed: tests narrow what they read. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

let helmHome: string | undefined;

/** Path of a working helm; installs it on first use (fresh clones, CI). */
export function helmPath(): string {
  if (!existsSync(HELM)) {
    const install = spawnSync('bash', [join(ROOT, 'scripts', 'install-helm.sh')], { encoding: 'utf8' });
    if (install.status !== 0) throw new Error(`scripts/install-helm.sh failed:\n${install.stderr}`);
  }
  return HELM;
}

export function helm(args: readonly string[]): HelmResult {
  helmHome ??= mkdtempSync(join(tmpdir(), 'sg-helm-'));
  const env = {
    ...process.env,
    HOME: helmHome,
    HELM_CACHE_HOME: join(helmHome, 'cache'),
    HELM_CONFIG_HOME: join(helmHome, 'config'),
    HELM_DATA_HOME: join(helmHome, 'data'),
  };
  const run = spawnSync(helmPath(), args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  return { code: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

export interface RenderOptions {
  /** Values merged over values.yaml (written to a file and passed with -f). */
  values?: Record<string, unknown>;
  release?: string;
  namespace?: string;
  kubeVersion?: string;
}

function valuesFile(values: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sg-values-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'values.yaml');
  writeFileSync(file, stringify(values));
  return file;
}

function templateArgs(options: RenderOptions): string[] {
  const args = ['template', options.release ?? 'sidecar-guard', CHART, '--namespace', options.namespace ?? 'sidecar-guard'];
  args.push('--kube-version', options.kubeVersion ?? '1.31.0');
  if (options.values !== undefined) args.push('-f', valuesFile(options.values));
  return args;
}

/** `helm template`, as a result (for tests that expect failure). */
export function template(options: RenderOptions = {}): HelmResult {
  return helm(templateArgs(options));
}

/** `helm template` that must succeed, parsed into objects. */
export function render(options: RenderOptions = {}): K8sObject[] {
  const result = template(options);
  if (result.code !== 0) throw new Error(`helm template failed (${result.code}):\n${result.stderr}`);
  return parseManifests(result.stdout);
}

export function parseManifests(text: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`rendered YAML does not parse: ${document.errors[0]?.message}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

/** `helm lint --strict` with optional values. */
export function lint(values?: Record<string, unknown>, kubeVersion = '1.31.0'): HelmResult {
  const args = ['lint', '--strict', CHART, '--namespace', 'sidecar-guard', '--kube-version', kubeVersion];
  if (values !== undefined) args.push('-f', valuesFile(values));
  return helm(args);
}

/** The one object of `kind` (and `name`, when given); throws when absent or ambiguous. */
export function one(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as K8sObject;
}

export function all(objects: readonly K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** Safe nested read: get(o, 'spec', 'template', 'spec'). */
export function get(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

export function asRecord(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`not an object: ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

export function asArray(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error(`not an array: ${JSON.stringify(value)}`);
  return value;
}
