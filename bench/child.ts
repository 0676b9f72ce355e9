/** Running bench sections and servers as child processes, and reading their CPU time. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RESULT_MARKER } from './stats.js';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** Starts `bench/<script>` under tsx with extra node flags; stderr passes through. */
export function spawnBench(script: string, args: readonly string[] = [], nodeFlags: readonly string[] = []): ChildProcess {
  // BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles every child.
  const extra = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter((f) => f !== "");
  return spawn(process.execPath, [...extra, ...nodeFlags, '--import', 'tsx', `bench/${script}`, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
}

/** Runs a section script to the end and returns the result it emitted. */
export async function runSection<T>(script: string, nodeFlags: readonly string[] = [], args: readonly string[] = []): Promise<T> {
  const child = spawnBench(script, args, nodeFlags);
  let result: T | undefined;
  const lines = createInterface({ input: child.stdout! });
  lines.on('line', (line) => {
    if (line.startsWith(RESULT_MARKER)) result = JSON.parse(line.slice(RESULT_MARKER.length)) as T;
    else process.stderr.write(`  [${script}] ${line}\n`);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0 || result === undefined) throw new Error(`bench/${script} exited ${code} without a result`);
  return result;
}

/** Waits for the first stdout line that starts with `prefix` and returns the rest of it. */
export function waitForLine(child: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith(prefix)) resolve(line.slice(prefix.length));
    });
    child.once('exit', (code) => reject(new Error(`child exited ${code} before "${prefix}"`)));
  });
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** Resident set size of a process, in bytes, from /proc (Linux). */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}
