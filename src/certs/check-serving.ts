import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { CertDirPaths } from './cert-dir.js';

const REGENERATE = (paths: CertDirPaths) => `replace it, or remove ${paths.cert} and ${paths.key} to have a new pair issued`;

/**
 * What is wrong with a serving certificate and key read from files, in words naming the file and
 * the fix (instead of OpenSSL's `PEM routines::no start line` when the server starts), or undefined.
 *
 * @example servingPairProblem({ cert, key }, certDirPaths('certs'), new Date())
 */
export function servingPairProblem(pems: { cert: string; key: string }, paths: CertDirPaths, now: Date): string | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pems.cert);
  } catch {
    return `${paths.cert} is not a PEM certificate: ${REGENERATE(paths)}`;
  }
  let key;
  try {
    key = createPrivateKey(pems.key);
  } catch {
    return `${paths.key} is not a PEM private key (or is encrypted): ${REGENERATE(paths)}`;
  }
  if (!certificate.checkPrivateKey(key)) return `${paths.key} is not the private key of ${paths.cert}: ${REGENERATE(paths)}`;
  if (new Date(certificate.validTo) < now) return `${paths.cert} expired on ${new Date(certificate.validTo).toISOString()}: ${REGENERATE(paths)}`;
  return undefined;
}

/**
 * Why the API server would refuse this certificate for the Service `<service>.<namespace>.svc` (the
 * name it verifies), or undefined when the certificate names it.
 */
export function serviceNameProblem(cert: string, service: string, namespace: string, path: string): string | undefined {
  const host = `${service}.${namespace}.svc`;
  const certificate = new X509Certificate(cert);
  if (certificate.checkHost(host, { subject: 'never' }) !== undefined) return undefined;
  const names = certificate.subjectAltName?.replace(/DNS:|IP Address:/g, '') ?? 'none';
  return `${path} does not name ${host} (its names: ${names}), so the API server would refuse it for that Service`;
}
