import { Command } from 'commander';
import { describeFileError } from '../fs-errors.js';
import { PROCESS_IO, type CommandIo } from './command-io.js';
import { COMMANDS } from './commands.js';
import { EXIT, EXIT_CODE_HELP, exitCodeFor, isCommanderError } from './exit-codes.js';
import { packageVersion } from './package-version.js';


/**
 * The `sidecar-guard` program with every command registered (see ./commands.ts).
 *
 * @example await buildProgram().parseAsync(process.argv)
 */
export function buildProgram(io: CommandIo = PROCESS_IO, name = 'sidecar-guard'): Command {
  const program = new Command(name)
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .description('Admission webhook that keeps Istio sidecars scoped and right-sized')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    // Usage errors surface as exceptions that main.ts turns into exit 2 (help and --version exit 0).
    // Set before the commands are added: sub-commands copy this setting when they are created.
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ sidecar-guard serve --cluster-state examples/cluster
  $ helm template charts/app | sidecar-guard audit -f - -n shop --namespace-label shop=istio-injection=enabled
  $ sidecar-guard explain -f pod.yaml --cluster-state examples/cluster

${EXIT_CODE_HELP}`,
    );
  for (const register of COMMANDS) register(program, io);
  return program;
}

/** The message of an error that ends a command; a file-system error a command did not word itself names the file and the fix, not `ENOENT: …`. */
function readable(error: unknown): string {
  const path = (error as NodeJS.ErrnoException | null)?.path;
  const described = typeof path === 'string' ? describeFileError(error, path, path) : error;
  return described instanceof Error ? described.message : String(described);
}

/**
 * Runs the program on `argv` and returns its exit code; every way out goes through the contract
 * of ./exit-codes.ts. A long-running command (serve) resolves once it is up.
 *
 * @example process.exitCode = await runProgram(process.argv, PROCESS_IO)
 */
export async function runProgram(argv: readonly string[], io: CommandIo, name?: string): Promise<number> {
  let code: number = EXIT.CLEAN;
  try {
    await buildProgram({ ...io, setExitCode: (value) => (code = value) }, name).parseAsync([...argv]);
  } catch (error) {
    // commander has already printed its own message (and the help hint).
    if (!isCommanderError(error)) io.stderr(`sidecar-guard: ${readable(error)}\n`);
    code = exitCodeFor(error);
  }
  return code;
}
