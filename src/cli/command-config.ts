import { ConfigStore } from '../config/config-store.js';
import type { Config } from '../config/types.js';
import type { CommandIo } from './command-io.js';

/**
 * The configuration a one-shot command (audit, explain) runs with: `--config FILE`, else the built-in
 * defaults. What loading decided on the user's behalf (a built-in rule left out) is a note on stderr,
 * as `serve` logs it.
 */
export async function loadCommandConfig(path: string | undefined, io: Pick<CommandIo, 'stderr'>): Promise<Config> {
  return (await ConfigStore.open(path, { onNotice: (notice) => io.stderr(`note: ${path}: ${notice}\n`) })).current();
}
