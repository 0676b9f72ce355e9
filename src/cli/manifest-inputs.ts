import type { Command } from 'commander';
import { parseManifests, readManifests } from '../cluster/file-cluster-view.js';
import type { CommandIo } from './command-io.js';

/** Reads `-f` inputs: files, directories and `-` (stdin), in order. */
export async function readInputs(paths: readonly string[], io: CommandIo): Promise<unknown[]> {
  const objects: unknown[] = [];
  for (const path of paths) {
    if (path === '-') objects.push(...parseManifests(await io.readStdin(), '<stdin>'));
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
