import type { Command } from 'commander';

/**
 * Adds an "Examples:" block to a command's --help; every command shows at least one.
 *
 * @example withExamples(command, ['sidecar-guard certs --out certs'])
 */
export function withExamples(command: Command, examples: readonly string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${examples.map((line) => `  $ ${line}`).join('\n')}\n`);
}
