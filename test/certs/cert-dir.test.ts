import { X509Certificate, createPublicKey } from 'node:crypto';
import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { certDirPaths, ensureCertDir } from '../../src/certs/cert-dir.js';
import { generateCertificateAuthority } from '../../src/certs/generate.js';

const options = { service: 'sidecar-guard', namespace: 'sidecar-guard', now: new Date('2030-01-01T00:00:00Z') };

t.test('an empty directory gets a CA and a serving certificate signed by it', async (t) => {
  const dir = join(t.testdir(), 'nested', 'certs');
  const result = await ensureCertDir(dir, options);
  t.equal(result.generated, true);
  t.same(result.paths, certDirPaths(dir));

  const caPem = await readFile(result.paths.caCert, 'utf8');
  const certPem = await readFile(result.paths.cert, 'utf8');
  const keyPem = await readFile(result.paths.key, 'utf8');
  t.equal(caPem, result.ca);
  t.equal(certPem, result.cert);
  t.equal(keyPem, result.key);
  const leaf = new X509Certificate(certPem);
  t.ok(leaf.verify(createPublicKey(caPem)));
  t.equal(leaf.checkHost('sidecar-guard.sidecar-guard.svc', { subject: 'never' }), 'sidecar-guard.sidecar-guard.svc');
  t.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');

  t.equal((await stat(result.paths.key)).mode & 0o777, 0o600, 'tls.key is private');
  t.equal((await stat(result.paths.caKey)).mode & 0o777, 0o600, 'ca.key is private');
});

t.test('existing tls.crt and tls.key are read, never overwritten', async (t) => {
  const dir = t.testdir();
  const first = await ensureCertDir(dir, options);
  const second = await ensureCertDir(dir, { ...options, namespace: 'elsewhere' });
  t.equal(second.generated, false);
  t.equal(second.cert, first.cert);
  t.equal(second.key, first.key);
  t.equal(second.ca, first.ca);
  t.equal(await readFile(first.paths.cert, 'utf8'), first.cert);
});

t.test('files mounted without a CA are served as they are', async (t) => {
  const dir = t.testdir({ 'tls.crt': 'CERT', 'tls.key': 'KEY' });
  const result = await ensureCertDir(dir, options);
  t.same({ cert: result.cert, key: result.key, ca: result.ca, generated: result.generated }, {
    cert: 'CERT',
    key: 'KEY',
    ca: undefined,
    generated: false,
  });
});

t.test('an existing CA is reused to sign a new serving certificate', async (t) => {
  const dir = t.testdir();
  const ca = generateCertificateAuthority({ now: options.now });
  await writeFile(join(dir, 'ca.crt'), ca.cert);
  await writeFile(join(dir, 'ca.key'), ca.key);
  const result = await ensureCertDir(dir, options);
  t.equal(result.generated, true);
  t.equal(result.ca, ca.cert);
  t.equal(await readFile(join(dir, 'ca.crt'), 'utf8'), ca.cert);
  t.ok(new X509Certificate(result.cert).verify(createPublicKey(ca.cert)));
});

t.test('half a pair is an error rather than a silent overwrite', async (t) => {
  const onlyCert = t.testdir({ 'tls.crt': 'CERT' });
  await t.rejects(ensureCertDir(onlyCert, options), /tls\.key is missing/);
  t.equal(await readFile(join(onlyCert, 'tls.crt'), 'utf8'), 'CERT');

  const onlyCaCert = t.testdir({ 'ca.crt': 'CA' });
  await t.rejects(ensureCertDir(onlyCaCert, options), /ca\.key is missing/);
});

t.test('read errors other than a missing file propagate', async (t) => {
  const dir = t.testdir();
  await mkdir(join(dir, 'tls.crt'));
  await t.rejects(ensureCertDir(dir, options), { code: 'EISDIR' });
});
