import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateCertificateAuthority, generateServingCertificate } from './generate.js';

/** Where each file of a certificate directory lives. */
export interface CertDirPaths {
  dir: string;
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

export interface CertDirOptions {
  service: string;
  namespace: string;
  now?: Date;
}

export interface CertDirContents {
  cert: string;
  key: string;
  /** The CA that signed `cert`, when the directory has a `ca.crt`. */
  ca?: string;
  /** True when this call created `tls.crt`/`tls.key`. */
  generated: boolean;
  paths: CertDirPaths;
}

/**
 * The file names used in a certificate directory: `tls.crt`/`tls.key`/`ca.crt` as in a
 * `kubernetes.io/tls` Secret (and cert-manager's), plus `ca.key` for re-issuing.
 *
 * @example
 * certDirPaths('certs').cert // 'certs/tls.crt'
 */
export function certDirPaths(dir: string): CertDirPaths {
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, 'tls.crt'),
    key: join(dir, 'tls.key'),
  };
}

/**
 * Returns the serving certificate in `dir`, creating a CA and a serving certificate first when
 * `tls.crt` and `tls.key` are both absent. Existing files are never overwritten: an existing
 * `ca.crt` + `ca.key` pair is reused to sign, so a caBundle already handed out stays valid.
 * Private keys are written with mode 0600.
 *
 * @example
 * const { cert, key, ca, generated } = await ensureCertDir('certs', { service: 'sidecar-guard', namespace: 'sidecar-guard' });
 */
export async function ensureCertDir(dir: string, { service, namespace, now }: CertDirOptions): Promise<CertDirContents> {
  const paths = certDirPaths(dir);
  const [cert, key, ca, caKey] = await Promise.all(
    [paths.cert, paths.key, paths.caCert, paths.caKey].map(readIfExists),
  );
  if (cert !== undefined && key !== undefined) {
    return { cert, key, ...(ca === undefined ? {} : { ca }), generated: false, paths };
  }
  if (cert !== undefined || key !== undefined) {
    const missing = cert === undefined ? paths.cert : paths.key;
    throw new Error(`${missing} is missing while its pair exists; refusing to overwrite. Remove both to regenerate.`);
  }
  if ((ca === undefined) !== (caKey === undefined)) {
    const missing = ca === undefined ? paths.caCert : paths.caKey;
    throw new Error(`${missing} is missing while its pair exists; refusing to overwrite. Remove both to regenerate.`);
  }

  await mkdir(dir, { recursive: true });
  let authority: { cert: string; key: string };
  if (ca !== undefined && caKey !== undefined) {
    authority = { cert: ca, key: caKey };
  } else {
    authority = generateCertificateAuthority({ ...(now ? { now } : {}) });
    await writeNew(paths.caKey, authority.key, 0o600);
    await writeNew(paths.caCert, authority.cert, 0o644);
  }
  const serving = generateServingCertificate({ ca: authority, service, namespace, ...(now ? { now } : {}) });
  // Key before certificate: a reader that finds tls.crt can rely on tls.key being complete.
  await writeNew(paths.key, serving.key, 0o600);
  await writeNew(paths.cert, serving.cert, 0o644);
  return { cert: serving.cert, key: serving.key, ca: authority.cert, generated: true, paths };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

// `wx` fails with EEXIST instead of replacing a file another process wrote meanwhile.
async function writeNew(path: string, contents: string, mode: number): Promise<void> {
  await writeFile(path, contents, { flag: 'wx', mode });
}
