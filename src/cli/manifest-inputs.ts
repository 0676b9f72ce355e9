import type { Command } from 'commander';
import { listManifestFiles, parseManifests, readManifests } from '../cluster/file-cluster-view.js';
import { isRecord } from '../cluster/objects.js';
import type { CommandIo } from './command-io.js';
import { plural } from './table.js';

/** The source name of documents read from stdin (it is no file to point at). */
export const STDIN_SOURCE = '<stdin>';

/** Reads `-f` inputs: files, directories and `-` (stdin), in order. */
export async function readInputs(paths: readonly string[], io: CommandIo): Promise<unknown[]> {
  const objects: unknown[] = [];
  for (const path of paths) {
    if (path === '-') objects.push(...parseManifests(await io.readStdin(), STDIN_SOURCE));
    else objects.push(...(await readManifests([path])));
  }
  return objects;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The manifest-input options `audit` and `explain` share, named as kubectl names them. */
export function withManifestInputs(command: Command): Command {
  return command
    .option('-f, --filename <path>', 'file, directory or - (stdin); repeatable', collect, [])
    .option('-n, --namespace <name>', 'namespace for documents without one', 'default')
    .option('--cluster-state <dir>', 'more Namespaces and Sidecars to take as the cluster')
    .option('--config <file>', 'configuration YAML (built-in defaults when absent)');
}

/**
 * Why `-f` gave nothing to check, in words: an empty directory, a file of comments, documents that
 * are not Kubernetes objects, or objects of kinds nobody checks. `wanted` names the kinds that count.
 *
 * @example await describeNothingToCheck(['charts/out'], [], 'a Pod, workload controller, Namespace or Sidecar')
 */
export async function describeNothingToCheck(paths: readonly string[], objects: readonly unknown[], wanted: string): Promise<string> {
  const where = paths.map((p) => (p === '-' ? 'stdin' : p)).join(', ');
  if (objects.length === 0) {
    const files = (await Promise.all(paths.filter((p) => p !== '-').map(async (p) => [p, await listManifestFiles([p])] as const))).filter(([, f]) => f.length === 0);
    if (files.length > 0) return `no Kubernetes objects in ${where}: no .yaml, .yml or .json file under ${files.map(([p]) => p).join(', ')}`;
    return `no Kubernetes objects in ${where}: the input is empty or holds only comments`;
  }
  const kinds = objects.filter(isRecord).filter((o) => typeof o.apiVersion === 'string' && typeof o.kind === 'string').map((o) => String(o.kind));
  if (kinds.length === 0) return `no Kubernetes objects in ${where}: ${plural(objects.length, 'document')}, none with apiVersion and kind`;
  return `nothing to check in ${where}: ${plural(kinds.length, 'object')} (${[...new Set(kinds)].sort().join(', ')}), none ${wanted}`;
}
