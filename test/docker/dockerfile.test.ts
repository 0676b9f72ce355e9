/**
 * The Dockerfile, checked without a Docker engine: stages, what each copies (and that it
 * exists), the runtime user and entrypoint, no dev tooling in the final image, .dockerignore,
 * and agreement with the Helm chart (user, port, command).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  base: string;
  name: string;
  instructions: Instruction[];
}

/** Parse a Dockerfile: line continuations, comments, ARG substitution in FROM. */
function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of logical) {
    const [op = '', ...rest] = line.split(/\s+/);
    const body = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(body);
      if (!match) throw new Error(`bad FROM: ${line}`);
      const base = (match[1] as string).replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? '');
      stages.push({ base, name: match[2] ?? String(stages.length), instructions: [] });
    } else if (stages.length === 0 && op.toUpperCase() === 'ARG') {
      const [name = '', value = ''] = body.split('=');
      args.set(name, value);
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args: body });
    }
  }
  return { args, stages };
}

const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const stage = (name: string) => {
  const found = dockerfile.stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found;
};
const ops = (s: Stage, op: string) => s.instructions.filter((i) => i.op === op).map((i) => i.args);
const final = dockerfile.stages.at(-1) as Stage;

t.test('multi-stage: build, production deps, runtime on a slim Node 20', async (t) => {
  t.same(
    dockerfile.stages.map((s) => s.name),
    ['build', 'deps', 'runtime'],
  );
  for (const s of dockerfile.stages) t.match(s.base, /^node:20(\.\d+)*-(bookworm|bullseye|trixie)-slim(@sha256:[a-f0-9]{64})?$/, `${s.name} runs on a slim Node 20`);
  t.ok(ops(stage('build'), 'RUN').some((r) => /^npm ci\b/.test(r)), 'build: npm ci from the lockfile');
  t.ok(ops(stage('build'), 'RUN').some((r) => /npm run build|tsc/.test(r)), 'build: tsc');
  const depsRun = ops(stage('deps'), 'RUN').join(' && ');
  t.match(depsRun, /npm ci .*--omit=dev/, 'deps: production dependencies only');
  t.match(depsRun, /--ignore-scripts/, 'deps: no install scripts');
});

t.test('the build runs what package.json says, producing the file the entrypoint runs', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; bin: Record<string, string> };
  t.match(pkg.scripts['build'] ?? '', /tsc -p tsconfig\.build\.json/);
  const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
  t.same([build.compilerOptions.rootDir, build.compilerOptions.outDir], ['src', 'dist']);
  const entrypoint = JSON.parse(ops(final, 'ENTRYPOINT')[0] ?? 'null') as string[];
  t.equal(entrypoint[0], 'node', 'node itself is PID 1 (exec form, no shell in between)');
  const script = entrypoint.find((a) => a.endsWith('.js')) ?? '';
  t.equal(script, 'dist/cli/main.js');
  t.equal(pkg.bin['sidecar-guard'], script, 'the same entry as the package bin');
  t.ok(existsSync(join(ROOT, 'src', 'cli', 'main.ts')), 'src/cli/main.ts compiles to dist/cli/main.js');
  t.same(JSON.parse(ops(final, 'CMD')[0] ?? 'null'), ['serve']);
  t.equal(ops(final, 'STOPSIGNAL')[0], 'SIGTERM');
  t.match(readFileSync(join(ROOT, 'src', 'cli', 'serve-command.ts'), 'utf8'), /process\.once\('SIGTERM'/, 'serve handles SIGTERM');
});

t.test('every COPY source exists and is not excluded by .dockerignore', async (t) => {
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const s of dockerfile.stages) {
    for (const copy of ops(s, 'COPY')) {
      const parts = copy.split(/\s+/).filter((p) => !p.startsWith('--'));
      const sources = parts.slice(0, -1);
      if (/--from=/.test(copy)) {
        const from = /--from=(\S+)/.exec(copy)?.[1] ?? '';
        t.ok(dockerfile.stages.findIndex((x) => x.name === from) < dockerfile.stages.indexOf(s), `${s.name}: copies from an earlier stage ${from}`);
        continue;
      }
      for (const source of sources) {
        t.ok(existsSync(join(ROOT, source)), `${s.name}: ${source} exists`);
        t.notOk(ignore.includes(source.replace(/\/$/, '')), `${source} is not in .dockerignore`);
      }
    }
  }
  for (const excluded of ['node_modules', 'dist', 'certs', '.git', 'test', '.bin']) t.ok(ignore.includes(excluded), `.dockerignore excludes ${excluded}`);
});

t.test('the runtime image: numeric non-root user, no dev tools, only what runs', async (t) => {
  const users = ops(final, 'USER');
  t.equal(users.length, 1);
  const [uid = '', gid = ''] = (users[0] ?? '').split(':');
  t.match(uid, /^[1-9]\d*$/, 'numeric, non-zero uid (Kubernetes can check runAsNonRoot)');
  t.match(gid, /^[1-9]\d*$/);
  const userIndex = final.instructions.findIndex((i) => i.op === 'USER');
  t.notOk(final.instructions.slice(userIndex + 1).some((i) => i.op === 'RUN'), 'nothing runs after dropping root');

  const removal = ops(final, 'RUN').join(' ');
  for (const tool of ['/usr/local/lib/node_modules/npm', '/usr/local/bin/npm', '/usr/local/bin/npx', '/usr/local/bin/corepack']) {
    t.match(removal, tool, `${tool} is removed`);
  }
  const copies = ops(final, 'COPY');
  t.ok(copies.some((c) => /--from=deps\s.*node_modules/.test(c)), 'node_modules from the production-only stage');
  t.notOk(copies.some((c) => /--from=build\s.*node_modules/.test(c)), 'never the build stage node_modules (dev dependencies)');
  t.ok(copies.some((c) => /--from=build\s.*\/app\/dist/.test(c)), 'the compiled dist/');
  t.notOk(copies.some((c) => /\bsrc\b|tsconfig/.test(c)), 'no sources or compiler config');
  t.match(ops(final, 'ENV').join(' '), /NODE_ENV=production/);
  t.match(ops(final, 'ENV').join(' '), /SIDECAR_GUARD_HOST=0\.0\.0\.0/, 'docker run listens on every interface; serve alone defaults to loopback');
});

t.test('the image agrees with the Helm chart', async (t) => {
  const values = parse(readFileSync(join(ROOT, 'charts', 'sidecar-guard', 'values.yaml'), 'utf8')) as {
    containerSecurityContext: { runAsUser: number; runAsGroup: number };
    webhook: { port: number };
  };
  const [uid, gid] = (ops(final, 'USER')[0] ?? '').split(':').map(Number);
  t.equal(values.containerSecurityContext.runAsUser, uid);
  t.equal(values.containerSecurityContext.runAsGroup, gid);
  t.equal(ops(final, 'EXPOSE')[0], String(values.webhook.port));
  const deployment = readFileSync(join(ROOT, 'charts', 'sidecar-guard', 'templates', 'deployment.yaml'), 'utf8');
  t.match(deployment, /args:\n\s+- serve\n/, 'the chart passes arguments to the entrypoint, starting with serve');
  t.notMatch(deployment, /command:/, 'and keeps the image entrypoint');
});
