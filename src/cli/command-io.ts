/** What a command reads and writes, so tests can run it in process. */
export interface CommandIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => Promise<string>;
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
  isTty: process.stdout.isTTY === true && process.env.NO_COLOR === undefined,
  now: () => new Date(),
  setExitCode: (code) => {
    process.exitCode = code;
  },
};
