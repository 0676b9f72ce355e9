import { X509Certificate, createPublicKey } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command } from 'commander';
import t from 'tap';
import { registerCertsCommand, runCertsCommand } from '../../src/cli/certs-command.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (s: string) => out.push(s), stderr: (s: string) => err.push(s) } };
}

t.test('writes the files and prints exactly the base64 of ca.crt', async (t) => {
  const dir = join(t.testdir(), 'out');
  const { out, err, io } = capture();
  await runCertsCommand({ out: dir, service: 'hook', namespace: 'mesh' }, io);
  const ca = await readFile(join(dir, 'ca.crt'), 'utf8');
  t.same(out, [`${Buffer.from(ca).toString('base64')}\n`]);
  t.match(err.join(''), /wrote .*ca\.crt.* for hook\.mesh\.svc/);
  const leaf = new X509Certificate(await readFile(join(dir, 'tls.crt'), 'utf8'));
  t.ok(leaf.verify(createPublicKey(ca)));
  t.equal(leaf.checkHost('hook.mesh.svc', { subject: 'never' }), 'hook.mesh.svc');
  t.ok(await readFile(join(dir, 'tls.key'), 'utf8'));
});

t.test('a second run keeps the files and prints the same caBundle', async (t) => {
  const dir = t.testdir();
  const first = capture();
  await runCertsCommand({ out: dir, service: 'sidecar-guard', namespace: 'sidecar-guard' }, first.io);
  const second = capture();
  await runCertsCommand({ out: dir, service: 'sidecar-guard', namespace: 'sidecar-guard' }, second.io);
  t.same(second.out, first.out);
  t.match(second.err.join(''), /kept the existing certificate/);
});

t.test('a directory with a certificate but no ca.crt cannot give a caBundle', async (t) => {
  const dir = t.testdir();
  await runCertsCommand({ out: dir, service: 's', namespace: 'n' }, capture().io);
  await rm(join(dir, 'ca.crt'));
  await rm(join(dir, 'ca.key'));
  await t.rejects(runCertsCommand({ out: dir, service: 's', namespace: 'n' }, capture().io), { message: /no caBundle to print\. Put the CA that signed it in .*ca\.crt, or remove .*tls\.crt and .*tls\.key/, exitCode: 2 });
});

t.test('a kept certificate that does not name the Service is refused, untouched, with the fix', async (t) => {
  const dir = t.testdir();
  await runCertsCommand({ out: dir, service: 'hook', namespace: 'mesh' }, capture().io);
  const before = await readFile(join(dir, 'tls.crt'), 'utf8');
  const second = capture();
  await t.rejects(runCertsCommand({ out: dir, service: 'sidecar-guard', namespace: 'prod' }, second.io), {
    message: /tls\.crt does not name sidecar-guard\.prod\.svc \(its names: hook, hook\.mesh, hook\.mesh\.svc, .*\), so the API server would refuse it .*remove .*tls\.crt and .*tls\.key and run again/,
    exitCode: 2,
  });
  t.same(second.out, [], 'no caBundle printed for a certificate that would not work');
  t.equal(await readFile(join(dir, 'tls.crt'), 'utf8'), before, 'the file is kept');
});

t.test('files that are not a certificate and key name the file, never OpenSSL', async (t) => {
  const root = t.testdir({ garbage: { 'tls.crt': 'CERT', 'tls.key': 'KEY', 'ca.crt': 'CA' } });
  const garbage = join(root, 'garbage');
  const error = await runCertsCommand({ out: garbage, service: 's', namespace: 'n' }, capture().io).catch((e: Error) => e);
  t.match(error, { message: /tls\.crt is not a PEM certificate: replace it, or remove .*tls\.crt and .*tls\.key to have a new pair issued/ });
  t.notMatch((error as Error).message, /routines|error:0/);
  const other = join(root, 'other');
  await runCertsCommand({ out: other, service: 's', namespace: 'n' }, capture().io);
  const mixed = join(root, 'mixed');
  await runCertsCommand({ out: mixed, service: 's', namespace: 'n' }, capture().io);
  await writeFile(join(mixed, 'tls.key'), await readFile(join(other, 'tls.key'), 'utf8'));
  await t.rejects(runCertsCommand({ out: mixed, service: 's', namespace: 'n' }, capture().io), /tls\.key is not the private key of .*tls\.crt/);
});

t.test('the command parses --out, --service and --namespace with defaults', async (t) => {
  const program = new Command().exitOverride();
  registerCertsCommand(program);
  const dir = t.testdir();
  const written: string[] = [];
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((chunk: string) => (written.push(chunk), true)) as typeof process.stdout.write;
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await program.parseAsync(['node', 'sidecar-guard', 'certs', '--out', dir, '--namespace', 'mesh']);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  const leaf = new X509Certificate(await readFile(join(dir, 'tls.crt'), 'utf8'));
  t.equal(leaf.checkHost('sidecar-guard.mesh.svc', { subject: 'never' }), 'sidecar-guard.mesh.svc');
  t.equal(written.join('').trim(), Buffer.from(await readFile(join(dir, 'ca.crt'), 'utf8')).toString('base64'));
});

t.test('--out is required', async (t) => {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  registerCertsCommand(program);
  program.commands.forEach((c) => c.exitOverride().configureOutput({ writeErr: () => {} }));
  await t.rejects(program.parseAsync(['node', 'sidecar-guard', 'certs']), { code: 'commander.missingMandatoryOptionValue' });
});
