import type { Command } from 'commander';
import { ensureCertDir } from '../certs/cert-dir.js';
import { servingPairProblem, serviceNameProblem } from '../certs/check-serving.js';
import type { RegisterCommand } from './commands.js';
import { usageError } from './exit-codes.js';
import { withExamples } from './help.js';

export interface CertsCommandOptions {
  out: string;
  service: string;
  namespace: string;
}

export interface CertsCommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  now?: Date;
}

/**
 * `sidecar-guard certs`: fills `--out` with `ca.crt`, `ca.key`, `tls.crt`, `tls.key` (keeping any
 * that exist) and prints the base64 caBundle, alone on stdout so it can be captured.
 *
 * @example
 * await runCertsCommand({ out: 'certs', service: 'sidecar-guard', namespace: 'sidecar-guard' }, { stdout, stderr });
 */
export async function runCertsCommand(options: CertsCommandOptions, io: CertsCommandIo): Promise<void> {
  const result = await ensureCertDir(options.out, {
    service: options.service,
    namespace: options.namespace,
    ...(io.now ? { now: io.now } : {}),
  });
  const problem = servingPairProblem(result, result.paths, io.now ?? new Date());
  if (problem !== undefined) throw usageError(problem);
  const mismatch = serviceNameProblem(result.cert, options.service, options.namespace, result.paths.cert);
  if (mismatch !== undefined) {
    throw usageError(`${mismatch}. Kept it untouched: remove ${result.paths.cert} and ${result.paths.key} and run again to issue one for ${options.service}.${options.namespace}.svc from the same CA, or pass the --service and --namespace it was issued for`);
  }
  if (result.ca === undefined) {
    throw usageError(`${result.paths.cert} exists without ${result.paths.caCert}: no caBundle to print. Put the CA that signed it in ${result.paths.caCert}, or remove ${result.paths.cert} and ${result.paths.key} to issue new ones`);
  }
  io.stderr(
    result.generated
      ? `wrote ${result.paths.caCert}, ${result.paths.cert} and ${result.paths.key} for ${options.service}.${options.namespace}.svc\n`
      : `kept the existing certificate in ${result.paths.dir}\n`,
  );
  io.stdout(`${Buffer.from(result.ca).toString('base64')}\n`);
}

export const registerCertsCommand: RegisterCommand = (program: Command) => {
  const command = program
    .command('certs')
    .description('write a CA and serving certificate to a directory and print the base64 caBundle')
    .requiredOption('--out <dir>', 'directory for ca.crt, ca.key, tls.crt, tls.key (existing files are kept)')
    .option('--service <name>', 'Service name, for the certificate SANs', 'sidecar-guard')
    .option('--namespace <name>', 'namespace of the webhook, for the certificate SANs', 'sidecar-guard')
    .action((options: CertsCommandOptions) =>
      runCertsCommand(options, {
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
      }),
    );
  withExamples(command, [
    'sidecar-guard certs --out certs',
    'sidecar-guard certs --out certs --service sidecar-guard --namespace sidecar-guard > ca-bundle.b64',
  ]);
};
