/**
 * The control plane's own PKI, made fresh for each start (as envtest does): one CA that signs the
 * kube-apiserver's serving certificate and the admin client certificate, plus the
 * service-account signing key. Nothing here is used by sidecar-guard itself.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface KeyPairPem {
  cert: string;
  key: string;
}

export interface ControlPlanePki {
  ca: KeyPairPem;
  apiserver: KeyPairPem;
  admin: KeyPairPem;
  serviceAccountKey: string;
}

function rsaKey(): { keyPem: string; privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey);
  return { keyPem: privateKey, privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) };
}

function newCertificate(publicKey: forge.pki.rsa.PublicKey, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: the top bit clear.
  cert.serialNumber = '0' + randomBytes(15).toString('hex');
  cert.validity.notBefore = new Date(Date.now() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(Date.now() + days * 24 * 60 * 60 * 1000);
  return cert;
}

function issue(ca: KeyPairPem, subject: forge.pki.CertificateField[], extensions: object[]): KeyPairPem {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const { keyPem, publicKey } = rsaKey();
  const cert = newCertificate(publicKey, 30);
  cert.setSubject(subject);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([{ name: 'basicConstraints', cA: false }, ...extensions, { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() }]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keyPem };
}

export function createControlPlanePki(): ControlPlanePki {
  const caKey = rsaKey();
  const caCert = newCertificate(caKey.publicKey, 30);
  const caSubject = [{ name: 'commonName', value: 'sidecar-guard-e2e-ca' }];
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(caKey.privateKey, forge.md.sha256.create());
  const ca = { cert: forge.pki.certificateToPem(caCert), key: caKey.keyPem };

  const apiserver = issue(ca, [{ name: 'commonName', value: 'kube-apiserver' }], [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 2, value: 'kubernetes' },
        { type: 2, value: 'kubernetes.default' },
        { type: 2, value: 'kubernetes.default.svc' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '10.0.0.1' },
      ],
    },
  ]);
  // O=system:masters: the group RBAC binds to cluster-admin, as envtest's admin user.
  const admin = issue(ca, [{ name: 'commonName', value: 'e2e-admin' }, { name: 'organizationName', value: 'system:masters' }], [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
  return { ca, apiserver, admin, serviceAccountKey: rsaKey().keyPem };
}

/** A client certificate for a named user and groups (for RBAC-limited tenants in the tests). */
export function issueClientCertificate(ca: KeyPairPem, user: string, groups: readonly string[] = []): KeyPairPem {
  return issue(ca, [{ name: 'commonName', value: user }, ...groups.map((group) => ({ name: 'organizationName', value: group }))], [
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', clientAuth: true },
  ]);
}
