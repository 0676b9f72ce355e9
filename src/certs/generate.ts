import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A certificate and its private key, both PEM, with the validity window written into the certificate. */
export interface CertificateAndKey {
  cert: string;
  key: string;
  notBefore: Date;
  notAfter: Date;
}

/** A CA to sign with: PEM certificate and PEM private key (PKCS#1 or PKCS#8). */
export interface SigningAuthority {
  cert: string;
  key: string;
}

export interface CertificateAuthorityOptions {
  /** The issuing instant; the only clock read. Defaults to the current time. */
  now?: Date;
  validityDays?: number;
  /** Prefix of the CA's CN; `@<unix seconds>` is appended so successive CAs are told apart. */
  commonName?: string;
}

export interface ServingCertificateOptions {
  ca: SigningAuthority;
  service?: string;
  namespace?: string;
  /** Further DNS SANs, e.g. a node name for out-of-cluster development. */
  extraDnsNames?: readonly string[];
  now?: Date;
  validityDays?: number;
}

export const DEFAULT_SERVICE = 'sidecar-guard';
export const DEFAULT_NAMESPACE = 'sidecar-guard';
export const DEFAULT_CA_VALIDITY_DAYS = 3650;
export const DEFAULT_SERVING_VALIDITY_DAYS = 365;

const DAY_MS = 24 * 60 * 60 * 1000;
// Backdating absorbs clock skew between the issuer and the apiserver verifying the chain.
const BACKDATE_MS = 60 * 60 * 1000;
const LOOPBACK_IPS = ['127.0.0.1', '::1'] as const;
// ASN.1 PrintableString's alphabet. node-forge writes every subject value as PrintableString, but
// Go's x509 (kube-apiserver loading a caBundle) rejects one with any other character, such as the
// '@' in our CA's CN: "x509: invalid RDNSequence: invalid attribute value: invalid PrintableString".
const PRINTABLE_STRING = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** A subject attribute encoded as PrintableString when its value allows, else UTF8String (as Go does). */
export function subjectAttribute(name: string, value: string): forge.pki.CertificateField {
  if (PRINTABLE_STRING.test(value)) return { name, value };
  // @types/node-forge types valueTagClass as asn1.Class; forge reads it as the universal tag number.
  return { name, value, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class };
}

/**
 * The DNS names a Service is reached by from inside the cluster; the apiserver verifies `<svc>.<ns>.svc`.
 *
 * @example
 * serviceDnsNames('sidecar-guard', 'mesh') // ['sidecar-guard', 'sidecar-guard.mesh', 'sidecar-guard.mesh.svc', 'sidecar-guard.mesh.svc.cluster.local']
 */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/**
 * Creates a self-signed CA (2048-bit RSA, SHA-256) that may sign serving certificates only.
 *
 * @example
 * const ca = generateCertificateAuthority({ now: new Date('2025-01-01T00:00:00Z') });
 * ca.cert.startsWith('-----BEGIN CERTIFICATE-----') // true
 */
export function generateCertificateAuthority({
  now = new Date(),
  validityDays = DEFAULT_CA_VALIDITY_DAYS,
  commonName = 'sidecar-guard-ca',
}: CertificateAuthorityOptions = {}): CertificateAndKey {
  const { keyPem, privateKey, publicKey } = generateRsaKeyPair();
  const cert = forge.pki.createCertificate();
  const { notBefore, notAfter } = validityWindow(now, validityDays);
  const subject = [
    subjectAttribute('commonName', `${commonName}@${Math.floor(now.getTime() / 1000)}`),
    subjectAttribute('organizationName', 'sidecar-guard'),
  ];
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return { cert: toPem(cert), key: keyPem, notBefore, notAfter };
}

/**
 * Issues a serving certificate signed by `ca` whose SANs cover the Service's DNS names, `localhost`
 * and the loopback IPs. Its validity never outlasts the CA's.
 *
 * @example
 * const ca = generateCertificateAuthority({ now });
 * const serving = generateServingCertificate({ ca, namespace: 'mesh', now });
 * new X509Certificate(serving.cert).checkHost('sidecar-guard.mesh.svc') // 'sidecar-guard.mesh.svc'
 */
export function generateServingCertificate({
  ca,
  service = DEFAULT_SERVICE,
  namespace = DEFAULT_NAMESPACE,
  extraDnsNames = [],
  now = new Date(),
  validityDays = DEFAULT_SERVING_VALIDITY_DAYS,
}: ServingCertificateOptions): CertificateAndKey {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const caKey = forge.pki.privateKeyFromPem(ca.key);
  const { keyPem, publicKey } = generateRsaKeyPair();
  const window = validityWindow(now, validityDays);
  const notAfter = window.notAfter < caCert.validity.notAfter ? window.notAfter : caCert.validity.notAfter;
  const dnsNames = [...new Set([...serviceDnsNames(service, namespace), 'localhost', ...extraDnsNames])];

  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerialNumber();
  cert.validity.notBefore = window.notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([subjectAttribute('commonName', `${service}.${namespace}.svc`)]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...dnsNames.map((value) => ({ type: 2, value })), ...LOOPBACK_IPS.map((ip) => ({ type: 7, ip }))],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: authorityKeyId(caCert) },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: toPem(cert), key: keyPem, notBefore: window.notBefore, notAfter };
}

interface RsaKeyPair {
  keyPem: string;
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

// Node's native generator takes milliseconds; forge's pure-JS one takes seconds per key.
function generateRsaKeyPair(): RsaKeyPair {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey);
  return {
    keyPem: privateKey,
    privateKey: forgeKey,
    publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e),
  };
}

// forge writes CRLF line ends; LF matches what Node, openssl and kubectl write.
function toPem(cert: forge.pki.Certificate): string {
  return forge.pki.certificateToPem(cert).replace(/\r\n/g, '\n');
}

function validityWindow(now: Date, validityDays: number): { notBefore: Date; notAfter: Date } {
  if (!Number.isFinite(validityDays) || validityDays <= 0) {
    throw new RangeError(`validityDays must be a positive number, got ${validityDays}`);
  }
  // X.509 times have second precision; truncating keeps the returned dates equal to what is encoded.
  const issued = Math.floor(now.getTime() / 1000) * 1000;
  return { notBefore: new Date(issued - BACKDATE_MS), notAfter: new Date(issued + validityDays * DAY_MS) };
}

/** 128 random bits as a positive, minimally encoded DER INTEGER (RFC 5280 §4.1.2.2; Go rejects padded ones). */
function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes.toString('hex');
}

function authorityKeyId(caCert: forge.pki.Certificate): string {
  const extension = caCert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  return extension?.subjectKeyIdentifier !== undefined
    ? forge.util.hexToBytes(extension.subjectKeyIdentifier)
    : caCert.generateSubjectKeyIdentifier().getBytes();
}
