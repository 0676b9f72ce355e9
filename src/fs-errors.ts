/** Node's file-system error codes, in words a person can act on (never the raw `ENOENT: …, open 'x'`). */
const WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory: check the path',
  EPERM: 'operation not permitted: check the file mode and owner',
  ENOSPC: 'no space left on the device: free some, or write elsewhere',
  EROFS: 'read-only file system: write elsewhere',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'a part of the path is not a directory: check the path',
  ELOOP: 'too many symbolic links: check where the link points',
  EMFILE: 'too many open files: raise the limit (ulimit -n)',
};

/** A file that cannot be read; the message names it and says what to do. */
export class FileReadError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FileReadError';
  }
}

/**
 * Turns a file-system error into a FileReadError naming `what` (e.g. `configuration file x.yaml`),
 * worded for what was tried (`access`: reading, or writing an output file).
 * Errors that are not file-system errors are returned unchanged.
 *
 * @example throw describeFileError(error, 'configuration file sg.yaml', 'sg.yaml')
 */
export function describeFileError(error: unknown, what: string, path: string, access: 'read' | 'write' = 'read'): unknown {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('E')) return error;
  const words =
    code === 'EACCES'
      ? `permission denied: check the file mode and owner, or run as a user that may ${access} it`
      : (WORDS[code] ?? `cannot be ${access === 'read' ? 'read' : 'written'} (${code})`);
  return new FileReadError(path, `${what}: ${words}`, { cause: error });
}
