#!/usr/bin/env node
import { Command } from 'commander';
import { COMMANDS } from './commands.js';

/** `sidecar-guard <command>`: each command module registers itself in ./commands.ts. */
const program = new Command('sidecar-guard')
  .description('Admission webhook that keeps Istio sidecars scoped and right-sized')
  .showHelpAfterError();

for (const register of COMMANDS) register(program);

program.exitOverride();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  const code = (error as { exitCode?: number }).exitCode;
  process.exitCode = typeof code === 'number' ? (code === 1 ? 2 : code) : 2;
}
