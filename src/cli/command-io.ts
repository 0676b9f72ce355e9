import { colourEnabled } from './table.js';

/** What a command reads and writes, so tests can run it in process. */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
  /** Colour on stdout: a terminal, NO_COLOR unset (or FORCE_COLOR set); see ./table.ts. */
  isTty: boolean;
  now: () => Date;
  /** How a command's action reports its exit code (the process's, or a test's variable). */
  setExitCode: (code: number) => void;
}

async function readStdinText(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const PROCESS_IO: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: readStdinText,
  isTty: colourEnabled(process.stdout),
  now: () => new Date(),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};
