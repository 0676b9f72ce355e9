import { ClusterAccessError } from '../kube/cluster-access.js';

/**
 * The exit-code contract of every `sidecar-guard` command, the one place it is defined (the README's
 * "Exit codes" table repeats it). Numbers never change meaning: CI gates branch on them.
 */
export const EXIT = {
  /** Everything asked was checked and passes (or the command did its job). */
  CLEAN: 0,
  /** Violations found: enforce would deny something. */
  VIOLATIONS: 1,
  /** Usage or input error: a bad flag, a missing or unreadable file, a bad config or certificate. */
  USAGE: 2,
  /** Cannot reach or use the cluster: no kubeconfig, API server unreachable, credentials refused. */
  CLUSTER: 3,
  /** Nothing to check, or not everything could be judged: no Kubernetes objects in the input, or workloads in namespaces whose mesh membership is unknown. */
  INCOMPLETE: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One line per code, for `--help` and error messages. */
export const EXIT_CODE_HELP = `Exit codes:
  0  clean: everything checked passes
  1  violations found: enforce would deny something
  2  usage or input error (bad flag, missing or invalid file, bad config or certificate)
  3  cannot reach or use the cluster (no kubeconfig, API server unreachable, access refused)
  4  nothing to check, or incomplete: no Kubernetes objects found, or a namespace's mesh membership is unknown`;

/**
 * An error a command reports in one line and exits with: the message names what was wrong and
 * what to do; `exitCode` places it in the contract.
 *
 * @example throw new CliError('--out is required', EXIT.USAGE)
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** A usage or input error (exit 2). */
export function usageError(message: string, options?: { cause?: unknown }): CliError {
  return new CliError(message, EXIT.USAGE, options);
}

/** A cluster that cannot be reached or used (exit 3). */
export function clusterError(message: string, options?: { cause?: unknown }): CliError {
  return new CliError(message, EXIT.CLUSTER, options);
}

/**
 * Where an error that ends a command lands in the contract: a CliError carries its code; commander's
 * own errors are usage errors (help and --version exit 0); anything else was not foreseen, so it is
 * reported as an input error with its message (never a stack trace).
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof ClusterAccessError) return EXIT.CLUSTER;
  const commanderCode = (error as { code?: unknown; exitCode?: unknown } | null)?.exitCode;
  if (typeof commanderCode === 'number' && isCommanderError(error)) return commanderCode === 0 ? EXIT.CLEAN : EXIT.USAGE;
  return EXIT.USAGE;
}

/** commander's CommanderError (its `code` is `commander.*`); its message was already printed. */
export function isCommanderError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('commander.');
}
