/**
 * Every README block marked for it runs as written and prints what the README shows.
 *
 * Markers (an HTML comment on the line before a fenced block; invisible on GitHub):
 * - `<!-- readme-test -->` before a console transcript: `$ command` lines, each followed by the stdout it
 *   prints (stderr is not shown). A line `...` in the shown output stands for any number of lines. The whole
 *   block runs as one `sh` script in a scratch directory holding `examples/`, with `sidecar-guard` on PATH (the
 *   CLI from the sources), so files a command writes (`> fix.yaml`) are there for the next one.
 * - `<!-- readme-test: serve -->` before a `sh` block of curl commands: run against `serve --cluster-state
 *   examples/cluster` (what `npm start` runs; its URL and CA replace `https://localhost:8443` and
 *   `certs/ca.crt`); the next fenced block is the output, compared as JSON when it is a `json` block.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { spawnServe } from '../support/spawn-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = import.meta.resolve('tsx');

interface Block {
  marker: string;
  lang: string;
  body: string;
  line: number;
  /** The fenced block right after it (expected output of a `serve` block). */
  next?: { lang: string; body: string };
}

function fencedBlocks(text: string): { lang: string; body: string; line: number; start: number }[] {
  const blocks: { lang: string; body: string; line: number; start: number }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const open = /^```(\w*)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    blocks.push({ lang: open[1] ?? '', body: lines.slice(i + 1, end).join('\n'), line: i + 1, start: i });
    i = end;
  }
  return blocks;
}

export function markedBlocks(readme: string): Block[] {
  const lines = readme.split('\n');
  const blocks = fencedBlocks(readme);
  return blocks.flatMap((block, index) => {
    const marker = /^<!-- readme-test(?::\s*(\w+))? -->$/.exec((lines[block.start - 1] ?? '').trim());
    if (!marker) return [];
    const next = blocks[index + 1];
    return [{ marker: marker[1] ?? 'transcript', lang: block.lang, body: block.body, line: block.line, ...(next ? { next: { lang: next.lang, body: next.body } } : {}) }];
  });
}

/** `$ cmd` lines and the output shown under each. */
export function transcript(body: string): { command: string; expected: string[] }[] {
  const steps: { command: string; expected: string[] }[] = [];
  for (const line of body.split('\n')) {
    if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
    else steps.at(-1)?.expected.push(line);
  }
  return steps;
}

/** Output lines against shown lines, where a shown `...` stands for any number of lines. */
export function matchesShown(actual: readonly string[], shown: readonly string[]): boolean {
  const [head, ...rest] = shown;
  if (head === undefined) return actual.length === 0;
  if (head.trim() === '...') {
    for (let skip = 0; skip <= actual.length; skip += 1) if (matchesShown(actual.slice(skip), rest)) return true;
    return false;
  }
  return actual.length > 0 && actual[0]?.trimEnd() === head.trimEnd() && matchesShown(actual.slice(1), rest);
}

function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  return all;
}

async function scratch(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sg-readme-'));
  await symlink(join(ROOT, 'examples'), join(dir, 'examples'));
  const bin = join(dir, 'bin');
  await import('node:fs/promises').then((fs) => fs.mkdir(bin));
  await writeFile(join(bin, 'sidecar-guard'), `#!/bin/sh\nexec "${process.execPath}" --import "${TSX}" "${join(ROOT, 'src/cli/main.ts')}" "$@"\n`);
  await chmod(join(bin, 'sidecar-guard'), 0o755);
  return dir;
}

function sh(script: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', script], { cwd, env: { ...process.env, NO_COLOR: '1', PATH: `${join(cwd, 'bin')}:${process.env.PATH ?? ''}`, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 300_000 }, (error, stdout) => {
      // A command's own exit code is part of the transcript (`$ echo $?`); only a dead shell is a failure.
      if (error && (error as { killed?: boolean }).killed) reject(error);
      else resolve(stdout);
    });
  });
}

const MARK = '@@readme-step@@';

// Each step spawns the CLI through tsx: minutes on a loaded 2-core machine, above .taprc's 300 s per file.
t.setTimeout(900_000);

const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
const blocks = markedBlocks(readme);

t.test('the marker conventions read as documented', async (t) => {
  t.ok(blocks.filter((b) => b.marker === 'transcript').length >= 2, 'transcripts are marked');
  t.ok(blocks.some((b) => b.marker === 'serve'), 'the quick start is marked');
  t.same(transcript('$ a\nx\n$ b'), [{ command: 'a', expected: ['x'] }, { command: 'b', expected: [] }]);
  t.ok(matchesShown(['a', 'b', 'c', 'd'], ['a', '  ...', 'd']));
  t.ok(matchesShown(['a', 'd'], ['a', '...', 'd']));
  t.notOk(matchesShown(['a', 'b', 'x'], ['a', '...', 'd']), 'drift after an ellipsis is caught');
  t.notOk(matchesShown(['a', 'b'], ['a']), 'an extra line is caught');
});

for (const block of blocks.filter((b) => b.marker === 'transcript')) {
  t.test(`README line ${block.line}: the transcript runs as shown`, async (t) => {
    const dir = await scratch();
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const steps = transcript(block.body);
    // `$?` of each command survives the marker line, so `$ echo $?` shows what the README says.
    const script = ['st=0', ...steps.map((step) => `echo '${MARK}'; (exit $st); ${step.command}\nst=$?`)].join('\n');
    const outputs = (await sh(script, dir)).split(`${MARK}\n`).slice(1);
    t.equal(outputs.length, steps.length, 'every command ran');
    steps.forEach((step, index) => {
      const actual = lines(outputs[index] ?? '');
      t.ok(matchesShown(actual, step.expected), `$ ${step.command}`, { found: actual.join('\n'), wanted: step.expected.join('\n') });
    });
  });
}

for (const block of blocks.filter((b) => b.marker === 'serve')) {
  t.test(`README line ${block.line}: the quick-start request answers as shown`, async (t) => {
    const dir = await scratch();
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const server = await spawnServe(['--cluster-state', 'examples/cluster', '--cert-dir', join(dir, 'certs'), '--log-level', 'info']);
    t.teardown(() => void server.child.kill('SIGKILL'));
    const script = block.body.replaceAll('https://localhost:8443', server.url).replace(/\\\n/g, ' ');
    const output = await sh(script, dir);
    t.ok(block.next, 'an output block follows');
    if (block.next?.lang === 'json') t.same(JSON.parse(output), JSON.parse(block.next.body), 'the same JSON');
    else t.ok(matchesShown(lines(output), lines(block.next?.body ?? '')), 'the same text', { found: output, wanted: block.next?.body });
  });
}
