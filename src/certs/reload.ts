import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

/** What the reloader drives: a Node `tls.Server` or `https.Server` (Fastify's `app.server` over HTTPS). */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

/** A serving certificate (chain) and its private key, PEM. */
export interface ServingPems {
  cert: string;
  key: string;
}

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export interface IntervalTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export interface CertificateReloaderOptions {
  /** What the server was started with, so an identical update is a no-op. */
  initial?: ServingPems;
  /** Extra context options kept across reloads (ciphers, client CA…); `key`/`cert` are always ours. */
  secureContext?: SecureContextOptions;
  /** Called after a new certificate is installed. */
  onReload?: (pems: ServingPems) => void;
  /** Called when polled files cannot be read or do not form a valid pair; the old certificate stays. */
  onError?: (error: unknown) => void;
  timers?: IntervalTimers;
}

export const DEFAULT_RELOAD_INTERVAL_MS = 10_000;

/**
 * Swaps the certificate a running TLS server presents, without restarting it. New handshakes get the
 * new certificate; connections already open keep theirs, so no request in flight fails.
 * Feed it PEMs with {@link CertificateReloader.update} or let it poll files with {@link CertificateReloader.watchFiles}.
 *
 * @example
 * const reloader = new CertificateReloader(app.server, { initial: { cert, key } });
 * reloader.watchFiles({ certFile: 'certs/tls.crt', keyFile: 'certs/tls.key' });
 */
export class CertificateReloader {
  readonly #target: SecureContextTarget;
  readonly #options: CertificateReloaderOptions;
  readonly #timers: IntervalTimers;
  #current: ServingPems | undefined;
  #interval: unknown;

  constructor(target: SecureContextTarget, options: CertificateReloaderOptions = {}) {
    this.#target = target;
    this.#options = options;
    this.#timers = options.timers ?? { setInterval: startUnrefInterval, clearInterval: (h) => clearInterval(h as NodeJS.Timeout) };
    this.#current = options.initial;
  }

  /** The certificate currently installed (or the initial one). */
  get current(): ServingPems | undefined {
    return this.#current;
  }

  /**
   * Installs `pems` if they differ from what is served. Throws, leaving the server untouched, when
   * the key does not match the certificate or either does not parse.
   * @returns whether the server's certificate changed.
   */
  update(pems: ServingPems): boolean {
    if (this.#current?.cert === pems.cert && this.#current.key === pems.key) return false;
    const options: SecureContextOptions = {
      minVersion: 'TLSv1.2',
      ...this.#options.secureContext,
      cert: pems.cert,
      key: pems.key,
    };
    // Building a context first validates the pair, so a bad one never reaches the server.
    createSecureContext(options);
    this.#target.setSecureContext(options);
    this.#current = { cert: pems.cert, key: pems.key };
    this.#options.onReload?.(this.#current);
    return true;
  }

  /**
   * Reads both files once and installs them if they changed. A half-written pair (cert and key
   * from different generations) is reported through `onError` and retried on the next poll.
   * @returns whether the server's certificate changed.
   */
  async checkFiles({ certFile, keyFile }: CertificateFiles): Promise<boolean> {
    try {
      const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
      return this.update({ cert, key });
    } catch (error) {
      this.#options.onError?.(error);
      return false;
    }
  }

  /**
   * Polls `files` every `intervalMs` (default 10 s, as cert-manager's file source). Polling rather
   * than fs.watch: Secret and ConfigMap mounts swap a symlink, which watchers miss or report twice.
   */
  watchFiles(files: CertificateFiles, { intervalMs = DEFAULT_RELOAD_INTERVAL_MS }: { intervalMs?: number } = {}): this {
    this.stop();
    this.#interval = this.#timers.setInterval(() => void this.checkFiles(files), intervalMs);
    return this;
  }

  /** Stops polling; the installed certificate stays. */
  stop(): void {
    if (this.#interval !== undefined) this.#timers.clearInterval(this.#interval);
    this.#interval = undefined;
  }
}

function startUnrefInterval(fn: () => void, ms: number): NodeJS.Timeout {
  return setInterval(fn, ms).unref();
}
