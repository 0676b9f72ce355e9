#!/usr/bin/env node
import { Command } from 'commander';
import { COMMANDS } from './commands.js';

/** `sidecar-guard <command>`: each command module registers itself in ./commands.ts. */
const program = new Command('sidecar-guard')
  .description('Admission webhook that keeps Istio sidecars scoped and right-sized')
  .showHelpAfterError()
  // Usage errors exit 2 (help exits 0); a command that fails prints why and exits 1. Set before
  // the commands are added: sub-commands copy this setting when they are created.
  .exitOverride();

for (const register of COMMANDS) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const exitCode = (error as { exitCode?: unknown }).exitCode;
  if (typeof exitCode === 'number') {
    process.exitCode = exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`sidecar-guard: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
