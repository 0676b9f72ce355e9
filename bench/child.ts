/** Running bench sections and servers as child processes, and reading their CPU time. */
import { spawn, type ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RESULT_MARKER } from './stats.js';

/** The repository root (also when running from the compiled copy: its paths mirror the sources). */
export const ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../' : '../../../../', import.meta.url));
/** Extension of sibling sources at run time: `.ts` under tsx, `.js` in the compiled copy. */
export const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
/**
 * Where `npm run bench` compiles src/, test/ and bench/ (plain `tsc`), so the measured processes
 * run the same JavaScript as `npm start` without the tsx loader (which alone adds ~35-70 MB RSS).
 * Inside node_modules so package imports resolve; ignored by git.
 */
export const BUILD_DIR = join(ROOT, 'node_modules/.cache/sidecar-guard-bench');

/** Compiles the project into BUILD_DIR (type errors elsewhere in the tree do not block emission). */
export function compileBench(): void {
  rmSync(BUILD_DIR, { recursive: true, force: true });
  spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit', 'false', '--outDir', BUILD_DIR, '--sourceMap', 'false', '--incremental', 'false'], { cwd: ROOT, stdio: 'ignore' });
  if (!existsSync(join(BUILD_DIR, 'bench/run.js'))) throw new Error('tsc did not emit the benchmarks');
  writeFileSync(join(BUILD_DIR, 'package.json'), '{"type":"module"}\n');
}

/** Starts `bench/<script>` (under tsx, or compiled) with extra node flags; stderr passes through. */
export function spawnBench(script: string, args: readonly string[] = [], nodeFlags: readonly string[] = []): ChildProcess {
  // BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles every child.
  const extra = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  // SG_BENCH_COMPILED=1 (set by run.ts after compileBench) runs the compiled copy with plain node.
  const entry = process.env.SG_BENCH_COMPILED === '1' ? [join(BUILD_DIR, 'bench', script.replace(/\.ts$/, '.js'))] : ['--import', 'tsx', `bench/${script}`];
  return spawn(process.execPath, [...extra, ...nodeFlags, ...entry, ...args], {
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

let clockTicksPerSecond: number | undefined;

/** The unit of /proc/<pid>/stat's times, from `getconf CLK_TCK` (100 on every common Linux). */
function clockTicks(): number {
  if (clockTicksPerSecond === undefined) {
    const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim());
    clockTicksPerSecond = Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
  }
  return clockTicksPerSecond;
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc (Linux). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** Resident set size of a process, in bytes, from /proc (Linux). */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}
