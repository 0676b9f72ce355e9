import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../support/run-cli.js';

const example = ['--from-files', 'examples/recommend/stats', '--pods', 'examples/recommend/pods.yaml'];
const accessLog = ['--access-log', 'examples/recommend/logs/bookinfo/productpage-v1-5f7d8c9b6d-x2kqp.log'];

/** The text of every table cell of the page, in order. */
const cells = (html: string): string[] => [...html.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => (m[1] ?? '').replace(/<[^>]+>/g, ''));

t.test('recommend scope --html shows each Sidecar verified: cuts, confidence, predicted memory, and the cut itself', async (t) => {
  const dir = t.testdir();
  const html = join(dir, 'scope.html');
  const run = await runCli(['recommend', 'scope', ...example, ...accessLog, '--allow-cuts', '--html', html]);
  t.equal(run.code, 0, run.stderr);
  const page = await readFile(html, 'utf8');
  t.match(page, /<th[^>]*>cuts<\/th>/);
  // The terminal table's row for the same Sidecar carries the same verification numbers.
  const row = run.stdout.split('\n').find((l) => l.startsWith('bookinfo/default')) ?? '';
  const [cutCount, confidence] = /\s(\d+)\s+(high|medium|low)\s/.exec(row)?.slice(1) ?? [];
  t.ok(cutCount !== undefined && confidence !== undefined, row);
  const all = cells(page);
  const start = all.indexOf('bookinfo');
  t.ok(start >= 0, 'the Sidecar has a row');
  t.same(all.slice(start + 7, start + 9), [cutCount, confidence], 'cuts and confidence as the terminal table gives them');
  t.match(all[start + 9] ?? '', /MiB → .*MiB/, 'predicted memory before → after');
  t.ok(all.some((c) => c.includes('would hit PassthroughCluster; keep it with egress host tracking/analytics.tracking.svc.cluster.local')), 'the observed call the Sidecar cuts, with the host that keeps it');
});

t.test('a Sidecar refused for its cuts writes no report at all', async (t) => {
  const dir = t.testdir();
  const html = join(dir, 'scope.html');
  const run = await runCli(['recommend', 'scope', ...example, ...accessLog, '--html', html]);
  t.equal(run.code, 1, 'refusal exit (src/cli/exit-codes.ts)');
  await t.rejects(readFile(html), { code: 'ENOENT' });
});
