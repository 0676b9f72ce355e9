/** Runs the CLI in this process (no child, no tsx start-up): for the many small cases of a command. */
import { runProgram } from '../../src/cli/program.js';
import type { CliResult } from './run-cli.js';

export async function runInProcess(args: string[], options: { stdin?: string; now?: Date } = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runProgram(['node', 'sidecar-guard', ...args], {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readStdin: async () => options.stdin ?? '',
    isTty: false,
    now: () => options.now ?? new Date(),
    setExitCode: () => {},
  });
  return { code, stdout, stderr };
}
