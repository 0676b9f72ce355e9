#!/usr/bin/env node
import { EXIT, exitCodeFor, isCommanderError } from './exit-codes.js';
import { buildProgram } from './program.js';

/** `sidecar-guard <command>`: every way out goes through the exit-code contract of ./exit-codes.ts. */
try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  // commander has already printed its own message (and the help hint).
  if (!isCommanderError(error)) process.stderr.write(`sidecar-guard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = exitCodeFor(error);
}
if (process.exitCode === undefined) process.exitCode = EXIT.CLEAN;
