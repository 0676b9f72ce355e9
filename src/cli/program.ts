import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { COMMANDS } from './commands.js';
import { EXIT_CODE_HELP } from './exit-codes.js';

/** package.json sits two levels up from both src/cli (tsx) and dist/cli (the build and the image). */
function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/**
 * The `sidecar-guard` program with every command registered (see ./commands.ts).
 *
 * @example await buildProgram().parseAsync(process.argv)
 */
export function buildProgram(): Command {
  const program = new Command('sidecar-guard')
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
  for (const register of COMMANDS) register(program);
  return program;
}
