#!/usr/bin/env node
import { PROCESS_IO } from './command-io.js';
import { pluginArgs } from './kubectl-args.js';
import { runProgram } from './program.js';

/**
 * `kubectl sidecar-guard <command>`: kubectl runs `kubectl-sidecar_guard` from PATH (a dash in a
 * plugin's command is an underscore in its file name). Same commands and exit codes as `sidecar-guard`.
 */
const [node = 'node', script = 'kubectl-sidecar_guard', ...args] = process.argv;
process.exitCode = await runProgram([node, script, ...pluginArgs(args)], PROCESS_IO, 'kubectl sidecar-guard');
