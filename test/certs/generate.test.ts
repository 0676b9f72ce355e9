import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import t from 'tap';
import forge from 'node-forge';
import {
  generateCertificateAuthority,
  generateServingCertificate,
  serviceDnsNames,
} from '../../src/certs/generate.js';
import { httpsGet, startHttpsServer } from './tls-harness.js';

const now = new Date('2030-06-01T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;

t.test('serviceDnsNames lists every in-cluster name of the Service', async (t) => {
  t.same(serviceDnsNames('hook', 'mesh'), ['hook', 'hook.mesh', 'hook.mesh.svc', 'hook.mesh.svc.cluster.local']);
});

t.test('the CA is a self-signed CA certificate valid from the injected clock', async (t) => {
  const ca = generateCertificateAuthority({ now, validityDays: 10 });
  const x509 = new X509Certificate(ca.cert);
  t.ok(x509.ca, 'basicConstraints CA:TRUE');
  t.ok(x509.verify(x509.publicKey), 'self-signed');
  t.equal(x509.subject, x509.issuer);
  t.equal(new Date(x509.validTo).getTime(), now.getTime() + 10 * DAY);
  t.ok(new Date(x509.validFrom) <= now, 'valid at issue time');
  t.same(ca.notAfter, new Date(x509.validTo));
  t.same(ca.notBefore, new Date(x509.validFrom));
  t.ok(x509.checkPrivateKey(createPrivateKey(ca.key)), 'key matches certificate');
});

t.test('the serving certificate chains to the CA and carries the SANs the apiserver checks', async (t) => {
  const ca = generateCertificateAuthority({ now });
  const serving = generateServingCertificate({ ca, now, extraDnsNames: ['dev.example.test'] });
  const leaf = new X509Certificate(serving.cert);
  const caCert = new X509Certificate(ca.cert);

  t.ok(leaf.verify(createPublicKey(ca.cert)), 'signed by the CA');
  t.ok(leaf.checkIssued(caCert), 'issuer and key identifiers match the CA');
  t.notOk(leaf.ca, 'not a CA');
  t.ok(leaf.checkPrivateKey(createPrivateKey(serving.key)));
  for (const name of [
    'sidecar-guard',
    'sidecar-guard.sidecar-guard',
    'sidecar-guard.sidecar-guard.svc',
    'sidecar-guard.sidecar-guard.svc.cluster.local',
    'localhost',
    'dev.example.test',
  ]) {
    t.equal(leaf.checkHost(name, { subject: 'never' }), name, `SAN ${name}`);
  }
  t.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
  t.equal(leaf.checkHost('sidecar-guard.other.svc', { subject: 'never' }), undefined);
  t.match(leaf.keyUsage ?? [], ['1.3.6.1.5.5.7.3.1'], 'extKeyUsage serverAuth');
});

t.test('service and namespace change the SANs', async (t) => {
  const ca = generateCertificateAuthority({ now });
  const leaf = new X509Certificate(generateServingCertificate({ ca, service: 'hook', namespace: 'mesh', now }).cert);
  t.equal(leaf.checkHost('hook.mesh.svc', { subject: 'never' }), 'hook.mesh.svc');
  t.equal(leaf.checkHost('sidecar-guard.sidecar-guard.svc', { subject: 'never' }), undefined);
});

t.test('the serving certificate never outlives its CA', async (t) => {
  const ca = generateCertificateAuthority({ now, validityDays: 20 });
  const serving = generateServingCertificate({ ca, now, validityDays: 365 });
  t.same(serving.notAfter, ca.notAfter);
  t.equal(new Date(new X509Certificate(serving.cert).validTo).getTime(), ca.notAfter.getTime());
});

t.test('serial numbers are random and positive', async (t) => {
  const ca = generateCertificateAuthority({ now });
  const serials = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const serial = new X509Certificate(generateServingCertificate({ ca, now }).cert).serialNumber;
    t.ok(Number.parseInt(serial.slice(0, 2), 16) < 0x80, `positive: ${serial}`);
    serials.add(serial);
  }
  t.equal(serials.size, 5);
});

t.test('invalid validity is refused', async (t) => {
  t.throws(() => generateCertificateAuthority({ now, validityDays: 0 }), RangeError);
});

t.test('a TLS client trusting only the CA accepts the service name and rejects other names', async (t) => {
  // Real time here: the TLS stack checks validity against the wall clock, not an injectable one.
  const issued = new Date();
  const ca = generateCertificateAuthority({ now: issued });
  const serving = generateServingCertificate({ ca, now: issued });
  const { port } = await startHttpsServer(t, { cert: serving.cert, key: serving.key });

  const ok = await httpsGet(port, { ca: ca.cert, servername: 'sidecar-guard.sidecar-guard.svc' });
  t.equal(ok.body, 'ok');
  await t.rejects(httpsGet(port, { ca: ca.cert, servername: 'sidecar-guard.other.svc' }), {
    code: 'ERR_TLS_CERT_ALTNAME_INVALID',
  });
  const stranger = generateCertificateAuthority({ now: issued });
  await t.rejects(httpsGet(port, { ca: stranger.cert, servername: 'sidecar-guard.sidecar-guard.svc' }), {
    code: /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY/,
  });
});

t.test('the server refuses TLS 1.1 clients', async (t) => {
  const ca = generateCertificateAuthority({ now: new Date() });
  const serving = generateServingCertificate({ ca, now: new Date() });
  const { port } = await startHttpsServer(t, { cert: serving.cert, key: serving.key });
  const tls = await import('node:tls');
  await t.rejects(
    new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.cert, servername: 'localhost', maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }, () => resolve(socket));
      socket.on('error', reject);
    }),
  );
});

t.test('subject values are valid ASN.1 for Go: PrintableString only where its alphabet allows, UTF8String otherwise', async (t) => {
  const ca = generateCertificateAuthority({ now });
  const serving = generateServingCertificate({ ca, now });
  const PRINTABLE = 19;
  const UTF8 = 12;
  for (const [what, pem] of [['CA', ca.cert], ['serving', serving.cert]] as const) {
    const cert = forge.pki.certificateFromPem(pem);
    for (const attribute of [...cert.subject.attributes, ...cert.issuer.attributes]) {
      const tag = Number(attribute.valueTagClass);
      t.ok(tag === UTF8 || tag === PRINTABLE, `${what} ${attribute.name} is a string type`);
      if (tag === PRINTABLE) t.match(String(attribute.value), /^[A-Za-z0-9 '()+,\-./:=?]*$/, `${what} ${attribute.name} "${attribute.value}" fits PrintableString`);
    }
  }
  const caCn = forge.pki.certificateFromPem(ca.cert).subject.getField('CN') as { value: string; valueTagClass: number };
  t.match(caCn.value, /^sidecar-guard-ca@\d+$/, 'the CN keeps its @<seconds> suffix');
  t.equal(caCn.valueTagClass, UTF8, 'so it is written as UTF8String, as Go writes it');
  t.ok(new X509Certificate(serving.cert).checkIssued(new X509Certificate(ca.cert)), 'the issuer still matches the CA subject byte for byte');
});
