import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { runCli } from '../support/run-cli.js';

const STATS = ['--from-files', 'examples/recommend/stats', '--pods', 'examples/recommend/pods.yaml'];
const WORKLOADS = ['-f', 'examples/recommend/namespace.yaml', '-f', 'examples/recommend/pods.yaml'];

t.test('the README worked example: stats in, profiles and Sidecars out, audit passes with them', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-recommend-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const before = await runCli(['audit', ...WORKLOADS]);
  t.equal(before.code, 1, 'without a Sidecar every Bookinfo proxy would be denied');
  t.match(before.stdout, /7 would be denied/);

  const profiles = await runCli(['recommend', 'profiles', ...STATS, '-o', 'yaml']);
  t.equal(profiles.code, 0, profiles.stderr);
  const config = parse(profiles.stdout) as { profiles: Record<string, { memoryLimit: string }>; rules: { profile: string }[] };
  t.same(Object.keys(config.profiles), ['small', 'medium', 'large', 'gateway']);
  t.equal(config.profiles.large?.memoryLimit, '512Mi', 'the OOM-killed reviews-v3 gets room');
  const scope = await runCli(['recommend', 'scope', ...STATS, '-o', 'yaml']);
  t.equal(scope.code, 0, scope.stderr);
  t.match(scope.stdout, /kind: Sidecar/);
  await writeFile(join(dir, 'sidecar-guard.yaml'), profiles.stdout);
  await writeFile(join(dir, 'sidecars.yaml'), scope.stdout);

  const after = await runCli(['audit', ...WORKLOADS, '-f', join(dir, 'sidecars.yaml'), '--config', join(dir, 'sidecar-guard.yaml'), '-o', 'json']);
  t.equal(after.code, 0, after.stderr);
  const report = JSON.parse(after.stdout) as { workloads: { name: string; profile?: string; verdict: string }[] };
  t.ok(report.workloads.every((w) => w.verdict === 'pass'));
  t.equal(report.workloads.find((w) => w.name.startsWith('reviews-v3'))?.profile, 'large');
  t.equal(report.workloads.find((w) => w.name.startsWith('details-v1'))?.profile, 'small');
});
