import type { Command } from 'commander';
import type { CommandIo } from './command-io.js';
import { registerCertsCommand } from './certs-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerAuditCommand } from './audit-command.js';
import { registerExplainCommand } from './explain-command.js';
import { registerRecommendCommand } from './recommend-command.js';

/** Registers one sub-command on the program. Each command lives in its own module; `io` is where it reads and writes. */
export type RegisterCommand = (program: Command, io?: CommandIo) => void;

/** Every sub-command, in the order `--help` lists them. Add one line per command. */
export const COMMANDS: readonly RegisterCommand[] = [registerServeCommand, registerCertsCommand, registerAuditCommand, registerExplainCommand, registerRecommendCommand];
