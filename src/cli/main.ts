#!/usr/bin/env node
import { PROCESS_IO } from './command-io.js';
import { runProgram } from './program.js';

/** `sidecar-guard <command>`: see ./program.ts and the exit-code contract in ./exit-codes.ts. */
process.exitCode = await runProgram(process.argv, PROCESS_IO);
