/**
 * Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`, or BENCH_NODE_FLAGS in
 * `npm run bench`): `node --import tsx bench/profile-top.ts <file.cpuprofile> [count] [filter] [--window=FROM-TO]`.
 * Self time is the time a sample was taken in the function itself; "total" adds its callees.
 * `--window` keeps only samples taken between two monotonic-clock times in µs (V8's profile clock is
 * the one `process.hrtime` reads on Linux): the sync bench prints its sync window in that form, so
 * the stand-in's and the view's profiles can both be cut to the same seconds.
 */
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; hitCount?: number; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] }

const windowArg = process.argv.slice(2).find((a) => a.startsWith('--window='));
const [from, to] = windowArg ? windowArg.slice('--window='.length).split('-').map(Number) : [-Infinity, Infinity];
const [file, countText = '25', filter = ''] = process.argv.slice(2).filter((a) => !a.startsWith('--window='));
if (!file) {
  process.stderr.write('usage: profile-top.ts <file.cpuprofile> [count] [url filter]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const name = (f: CallFrame) => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules\/)?/, '$1')}:${f.lineNumber + 1}`;
const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
let sampledAt = profile.startTime;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  sampledAt += dt;
  if (sampledAt < (from ?? -Infinity) || sampledAt > (to ?? Infinity)) return;
  all += dt;
  const node = byId.get(id);
  if (!node) return;
  const key = name(node.callFrame);
  self.set(key, (self.get(key) ?? 0) + dt);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const k = name((byId.get(at) as ProfileNode).callFrame);
    if (!seen.has(k)) total.set(k, (total.get(k) ?? 0) + dt);
    seen.add(k);
  }
});
const pct = (v: number) => `${((100 * v) / all).toFixed(1).padStart(5)}%`;
process.stdout.write(`${(all / 1e6).toFixed(2)} s sampled\n  self   total  function\n`);
for (const [key, v] of [...self].filter(([k]) => k.includes(filter)).sort((a, b) => b[1] - a[1]).slice(0, Number(countText))) {
  process.stdout.write(`${pct(v)} ${pct(total.get(key) ?? 0)}  ${key}\n`);
}
