import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import t from 'tap';
import { CliError, EXIT, exitCodeFor } from '../../src/cli/exit-codes.js';
import { buildProgram } from '../../src/cli/program.js';
import { runCli } from '../support/run-cli.js';

/** Runs the program in process and returns what it printed and how it ended. */
async function parse(args: string[]): Promise<{ out: string; err: string; code: number }> {
  const program = buildProgram();
  let out = '';
  let err = '';
  const capture = (command: Command) => {
    command.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
    command.commands.forEach(capture);
  };
  capture(program);
  try {
    await program.parseAsync(['node', 'sidecar-guard', ...args]);
    return { out, err, code: EXIT.CLEAN };
  } catch (error) {
    return { out, err, code: exitCodeFor(error) };
  }
}

t.test('--version prints the version of package.json and exits 0', async (t) => {
  const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  const result = await parse(['--version']);
  t.same([result.out.trim(), result.code], [version, 0]);
  const cli = await runCli(['--version']);
  t.same([cli.stdout.trim(), cli.code], [version, 0], 'the same from the real entry point');
});

const COMMANDS = ['serve', 'certs', 'audit', 'explain', 'recommend profiles', 'recommend scope', 'recommend calibrate', 'recommend cardinality'];

t.test('every command shows examples in --help, and the program lists the exit codes', async (t) => {
  const top = await parse(['--help']);
  t.equal(top.code, 0);
  t.match(top.out, /Exit codes:\n\s+0 {2}clean[\s\S]+1 {2}violations found[\s\S]+2 {2}usage or input error[\s\S]+3 {2}cannot reach[\s\S]+4 {2}nothing to check/);
  for (const name of COMMANDS) {
    const help = await parse([...name.split(' '), '--help']);
    t.equal(help.code, 0, `${name} --help exits 0`);
    t.match(help.out, new RegExp(`Examples:\\n {2}\\$ (.*\\| )?sidecar-guard ${name} `), `${name} --help has an example of ${name}`);
  }
});

t.test('usage errors exit 2 in every command, commander errors and the commands own alike', async (t) => {
  const cases: [string, string[]][] = [
    ['unknown option', ['audit', '--frobnicate']],
    ['unknown option', ['serve', '--frobnicate']],
    ['unknown option', ['certs', '--out', 'x', '--frobnicate']],
    ['unknown option', ['explain', '--frobnicate']],
    ['unknown command', ['audti']],
    ['missing required option', ['certs']],
    ['bad port', ['serve', '--port', 'abc']],
    ['bad port', ['serve', '--port', '70000']],
    ['bad tls mode', ['serve', '--tls-mode', 'magic']],
    ['bad log level', ['serve', '--log-level', 'loud']],
    ['bad drain delay', ['serve', '--drain-delay-seconds', '-1']],
    ['bad output', ['explain', '-f', 'x.yaml', '-o', 'bogus']],
    ['bad output', ['audit', '-f', 'x.yaml', '-o', 'xml']],
    ['bad page size', ['audit', '--page-size', '0']],
  ];
  for (const [what, args] of cases) {
    const result = await parse(args);
    t.equal(result.code, EXIT.USAGE, `${what}: ${args.join(' ')}`);
    t.match(result.err, /error:/, `${what}: commander says what is wrong`);
  }
  t.match((await parse(['serve', '--port', 'abc'])).err, /--port <port>' argument 'abc' is invalid\. must be an integer from 0 to 65535/);
  t.match((await parse(['explain', '-o', 'bogus'])).err, /Allowed choices are text, json, yaml/);
});

t.test('the contract: CliError carries its code, anything unforeseen is an input error, never a violation', async (t) => {
  t.equal(exitCodeFor(new CliError('x', EXIT.CLUSTER)), 3);
  t.equal(exitCodeFor(new Error('boom')), 2);
  t.equal(exitCodeFor('a string'), 2);
  t.same(Object.values(EXIT), [0, 1, 2, 3, 4], 'the numbers documented in the README');
  const readme = readFileSync('README.md', 'utf8');
  for (const [name, code] of Object.entries(EXIT)) t.match(readme, new RegExp(`\\| \\*\\*${code}\\*\\* \\|`), `README documents ${name}`);
});

t.test('a file-system error no command worded names the path and the fix, not ENOENT (exit 2)', async (t) => {
  const { runInProcess } = await import('../support/run-in-process.js');
  const missing = await runInProcess(['recommend', 'profiles', '--from-files', '/nonexistent-sg-stats']);
  t.equal(missing.code, EXIT.USAGE);
  t.equal(missing.stderr, 'sidecar-guard: /nonexistent-sg-stats: no such file or directory: check the path\n');
});
