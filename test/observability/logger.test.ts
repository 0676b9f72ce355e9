import { spawn } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { decisionLogLine } from '../../src/http/decision-log.js';
import { createServerLogger, LineBlocks, LOG_FLUSH_INTERVAL_MS } from '../../src/observability/logger.js';

t.test('LineBlocks hands lines on joined, in order, once a block is full or when asked', async (t) => {
  const blocks: string[] = [];
  const lines = new LineBlocks({ write: (block: string) => blocks.push(block) }, 10);
  lines.write('aaaa\n');
  t.same(blocks, [], 'below the block size nothing is handed on');
  lines.write('bbbbbb\n');
  t.same(blocks, ['aaaa\nbbbbbb\n'], 'the block that reached the size goes out whole, in order');
  lines.write('c\n');
  lines.handOver();
  lines.handOver();
  t.same(blocks, ['aaaa\nbbbbbb\n', 'c\n'], 'handOver passes on a partial block, and nothing when empty');
});

async function logFile(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'sg-log-')), 'server.log');
}

const parsed = (text: string) => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { msg: string; level: number; name: string; i?: number });

t.test('the server logger writes every line, in order, by the time flush() returns', async (t) => {
  const file = await logFile();
  const { logger, flush } = createServerLogger('info', file);
  // Let sonic-boom open the file (asynchronous); lines logged before are kept either way.
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (let i = 0; i < 1001; i++) logger.info({ i }, 'line');
  logger.debug('below the level');
  flush();
  const lines = parsed(await readFile(file, 'utf8'));
  t.equal(lines.length, 1001, 'all 1001 lines (not a whole number of blocks), none at debug');
  t.same(lines.map((l) => l.i), Array.from({ length: 1001 }, (_, i) => i), 'in order');
  t.ok(lines.every((l) => l.level === 30 && l.msg === 'line' && !('name' in l)), 'no logger name: a line\'s own `name` field is its only one');
});

t.test('on a quiet server a lone line is written within the flush interval, without flush()', async (t) => {
  const file = await logFile();
  const { logger } = createServerLogger('info', file);
  logger.info('alone');
  await new Promise((resolve) => setTimeout(resolve, LOG_FLUSH_INTERVAL_MS + 400));
  t.same(parsed(await readFile(file, 'utf8')).map((l) => l.msg), ['alone']);
});

t.test('compiled decision lines and pino lines share the buffer: all written, in order, by flush()', async (t) => {
  const file = await logFile();
  const { logger, flush } = createServerLogger('info', file);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const log = logger.child({ reqId: 'req-9' });
  for (let i = 0; i < 1001; i++) {
    if (i % 3 === 0) decisionLogLine.write(log, 'info', { webhook: 'mutate', uid: `u-${i}`, namespace: 'shop', kind: 'Pod', name: 'web', operation: 'CREATE', verdict: 'patched', reason: 'SIZED', mode: 'enforce', dryRun: false });
    else log.info({ i }, 'line');
  }
  decisionLogLine.write(log, 'debug', { webhook: 'mutate', uid: 'below', namespace: 'shop', kind: 'Pod', name: 'web', operation: 'CREATE', verdict: 'allowed', reason: 'NOT_IN_MESH', mode: 'enforce', dryRun: false });
  flush();
  const lines = parsed(await readFile(file, 'utf8')) as { msg: string; i?: number; uid?: string; reqId?: string }[];
  t.equal(lines.length, 1001, 'every line, none at debug');
  t.same(lines.map((l) => (l.msg === 'admission decision' ? l.uid : l.i)), Array.from({ length: 1001 }, (_, i) => (i % 3 === 0 ? `u-${i}` : i)), 'in the order logged');
  t.ok(lines.every((l) => l.reqId === 'req-9'));
});

t.test('lines still in the buffer when the process exits are written (stdout, as the server logs)', async (t) => {
  const count = 3001;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/observability/fixtures/log-then-exit.ts', String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise((resolve) => child.once('close', resolve));
  t.equal(code, 0, stderr);
  const lines = parsed(stdout) as { msg: string; uid?: string; i?: number }[];
  t.equal(lines.length, count, `all ${count} lines, the last part-filled block included`);
  t.same(lines.map((l) => l.uid ?? l.i), Array.from({ length: count }, (_, i) => (i % 2 === 0 ? `u-${i}` : i)));
});

t.test('a lone surrogate reaches the log file escaped in the compiled line; pino writes it raw, which UTF-8 turns into U+FFFD', async (t) => {
  const file = await logFile();
  const { logger, flush } = createServerLogger('info', file);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const fields = { webhook: 'validate', uid: 'u-1', namespace: 'ns\ud800', kind: 'Pod', name: 'web', operation: 'CREATE', verdict: 'denied', reason: 'MISSING_SIDECAR', mode: 'enforce', dryRun: false } as const;
  logger.info(fields, 'admission decision');
  decisionLogLine.write(logger, 'info', fields);
  flush();
  const [byPino, compiled] = (await readFile(file, 'utf8')).trim().split('\n') as [string, string];
  t.match(byPino, '"namespace":"ns\ufffd"', "pino's line (the README says so)");
  t.match(compiled, '"namespace":"ns\\ud800"', 'the compiled line keeps the code unit, escaped');
  t.equal((JSON.parse(compiled) as { namespace: string }).namespace, fields.namespace);
});
