import { X509Certificate } from 'node:crypto';
import {
  DEFAULT_CA_VALIDITY_DAYS,
  DEFAULT_SERVING_VALIDITY_DAYS,
  generateCertificateAuthority,
  generateServingCertificate,
} from './generate.js';
import type { IntervalTimers } from './reload.js';

/** Keys of the Secret: `kubernetes.io/tls` ones plus the CA key and the trust bundle. */
export const SECRET_KEYS = {
  cert: 'tls.crt',
  key: 'tls.key',
  caCert: 'ca.crt',
  caKey: 'ca.key',
  caBundle: 'ca-bundle.crt',
} as const;

/** Secret `data`, decoded: key → PEM text. */
export type SecretData = Record<string, string>;

export interface StoredSecret {
  data: SecretData;
  resourceVersion: string;
}

export type WebhookConfigurationKind = 'mutating' | 'validating';

export interface WebhookCaBundle {
  /** The webhook's `name` inside the configuration. */
  name: string;
  /** `clientConfig.caBundle` as stored: base64 of PEM, or absent. */
  caBundle?: string;
}

export interface JsonPatchOperation {
  op: 'add' | 'test';
  path: string;
  value: string;
}

/**
 * The Kubernetes calls self-managed TLS needs, and nothing more. `create` and `replace` throw
 * {@link ConflictError} on HTTP 409 (already exists / stale resourceVersion).
 */
export interface SelfManagedApi {
  readSecret(namespace: string, name: string): Promise<StoredSecret | undefined>;
  createSecret(namespace: string, name: string, data: SecretData): Promise<StoredSecret>;
  replaceSecret(namespace: string, name: string, data: SecretData, resourceVersion: string): Promise<StoredSecret>;
  /** The configuration's webhooks in order, or undefined when it does not exist. */
  readWebhookCaBundles(kind: WebhookConfigurationKind, name: string): Promise<WebhookCaBundle[] | undefined>;
  patchWebhookConfiguration(kind: WebhookConfigurationKind, name: string, patch: JsonPatchOperation[]): Promise<void>;
}

/** Another writer got there first (HTTP 409): re-read and decide again. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** What a replica serves, and what the webhook configurations must trust. */
export interface ServingMaterial {
  cert: string;
  key: string;
  /** The CA that signs new serving certificates. */
  caCert: string;
  /** Every CA still trusted, newest first, concatenated PEM: the webhooks' caBundle. */
  caBundle: string;
}

export interface SelfManagedOptions {
  api: SelfManagedApi;
  service: string;
  namespace: string;
  /** Defaults to `<service>-tls`. */
  secretName?: string;
  /** Names of the webhook's own configurations whose caBundle follows the Secret; omit one to leave it alone. */
  webhookConfigurations: { mutating?: string; validating?: string };
  /** Renew the serving certificate, or rotate the CA, this long before it expires. Default 30 days. */
  renewBeforeMs?: number;
  caValidityDays?: number;
  servingValidityDays?: number;
  now?: () => Date;
  /** Called whenever the serving certificate differs from the previous pass's (and on the first). */
  onChange?: (material: ServingMaterial) => void;
  /** Called when publishing the caBundle fails; serving continues and the next pass retries. */
  onError?: (error: unknown) => void;
  timers?: IntervalTimers;
}

export const DEFAULT_RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000;
export const DEFAULT_SYNC_INTERVAL_MS = 60_000;
const MAX_CONFLICT_RETRIES = 5;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Keeps a CA and serving certificate in a Secret shared by every replica, renews them, and keeps the
 * webhook configurations' caBundle in step. Safe to run in every replica at once: all writes are
 * create-or-replace with optimistic concurrency, and a 409 means re-read and decide again.
 *
 * A CA rotation takes two passes, so the apiserver never sees a certificate it does not trust:
 * pass 1 adds the new CA to the bundle (serving certificate unchanged) and publishes it; a later pass
 * that finds the new CA already published issues the serving certificate under it. Old CAs stay in
 * the bundle until they expire, which outlasts every serving certificate they signed.
 *
 * @example
 * const certs = new SelfManagedCertificates({ api, service: 'sidecar-guard', namespace: 'sidecar-guard',
 *   webhookConfigurations: { mutating: 'a-sidecar-guard', validating: 'sidecar-guard' },
 *   onChange: (m) => reloader.update(m) });
 * const initial = await certs.sync();
 * certs.start();
 */
export class SelfManagedCertificates {
  readonly #options: SelfManagedOptions;
  readonly #secretName: string;
  readonly #now: () => Date;
  readonly #timers: IntervalTimers;
  #served: string | undefined;
  #interval: unknown;

  constructor(options: SelfManagedOptions) {
    const renewBeforeMs = options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS;
    const shortest = Math.min(options.caValidityDays ?? DEFAULT_CA_VALIDITY_DAYS, options.servingValidityDays ?? DEFAULT_SERVING_VALIDITY_DAYS);
    // Otherwise every certificate would be due the moment it is issued, and every pass would renew.
    if (!(renewBeforeMs >= 0 && renewBeforeMs < shortest * DAY_MS)) {
      throw new RangeError(`renewBeforeMs (${renewBeforeMs}) must be shorter than the shortest validity (${shortest} days)`);
    }
    this.#options = options;
    this.#secretName = options.secretName ?? `${options.service}-tls`;
    this.#now = options.now ?? (() => new Date());
    this.#timers = options.timers ?? {
      setInterval: (fn, ms) => setInterval(fn, ms).unref(),
      clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
    };
  }

  get secretName(): string {
    return this.#secretName;
  }

  /** One reconcile pass: create or read the Secret, renew what is due, publish the caBundle. */
  async sync(): Promise<ServingMaterial> {
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      try {
        const material = await this.#pass(this.#now());
        if (material.cert !== this.#served) {
          this.#served = material.cert;
          this.#options.onChange?.(material);
        }
        return material;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    throw new Error(`gave up on Secret ${this.#where()} after ${MAX_CONFLICT_RETRIES} conflicting writes`);
  }

  // The configurations are read before the Secret, and patched only if unchanged since (JSON patch
  // `test`). So a replica holding a stale Secret can never publish a bundle older than one already
  // published, and "the configurations trust this CA" is never ahead of the Secret.
  async #pass(now: Date): Promise<ServingMaterial> {
    const { api, namespace } = this.#options;
    const configurations = await this.#readConfigurations();
    let secret = await api.readSecret(namespace, this.#secretName);
    secret ??= await api.createSecret(namespace, this.#secretName, this.#issueFresh(now));
    let material = parseSecret(secret.data, this.#where());
    const next = planRenewal(material, {
      now,
      renewBeforeMs: this.#options.renewBeforeMs ?? DEFAULT_RENEW_BEFORE_MS,
      caPublished: configurations !== undefined && trustsEverywhere(configurations, material.caCert),
      issue: this.#issuer(now),
      requiredHost: `${this.#options.service}.${namespace}.svc`,
    });
    if (next !== undefined) {
      secret = await api.replaceSecret(namespace, this.#secretName, toSecretData(next), secret.resourceVersion);
      material = parseSecret(secret.data, this.#where());
    }
    if (configurations !== undefined) await this.#publish(configurations, material.caBundle);
    return material;
  }

  #where(): string {
    return `${this.#options.namespace}/${this.#secretName}`;
  }

  /** Runs {@link sync} every `intervalMs` (default 60 s); failures go to `onError`. */
  start({ intervalMs = DEFAULT_SYNC_INTERVAL_MS }: { intervalMs?: number } = {}): this {
    this.stop();
    this.#interval = this.#timers.setInterval(() => {
      this.sync().catch((error: unknown) => this.#options.onError?.(error));
    }, intervalMs);
    return this;
  }

  stop(): void {
    if (this.#interval !== undefined) this.#timers.clearInterval(this.#interval);
    this.#interval = undefined;
  }

  #issuer(now: Date): Issuer {
    const { service, namespace, caValidityDays = DEFAULT_CA_VALIDITY_DAYS, servingValidityDays = DEFAULT_SERVING_VALIDITY_DAYS } = this.#options;
    return {
      ca: () => generateCertificateAuthority({ now, validityDays: caValidityDays }),
      serving: (ca) => generateServingCertificate({ ca, service, namespace, now, validityDays: servingValidityDays }),
    };
  }

  #issueFresh(now: Date): SecretData {
    const issue = this.#issuer(now);
    const ca = issue.ca();
    const serving = issue.serving(ca);
    return toSecretData({ cert: serving.cert, key: serving.key, caCert: ca.cert, caKey: ca.key, caBundle: ca.cert });
  }

  #configurations(): Array<[WebhookConfigurationKind, string]> {
    const { mutating, validating } = this.#options.webhookConfigurations;
    const list: Array<[WebhookConfigurationKind, string]> = [];
    if (mutating !== undefined) list.push(['mutating', mutating]);
    if (validating !== undefined) list.push(['validating', validating]);
    return list;
  }

  /** Each configuration's webhooks (undefined: it does not exist), or undefined when they cannot be read. */
  async #readConfigurations(): Promise<ConfigurationState[] | undefined> {
    try {
      const states: ConfigurationState[] = [];
      for (const [kind, name] of this.#configurations()) {
        states.push({ kind, name, webhooks: await this.#options.api.readWebhookCaBundles(kind, name) });
      }
      return states;
    } catch (error) {
      this.#options.onError?.(error);
      return undefined;
    }
  }

  async #publish(configurations: readonly ConfigurationState[], caBundle: string): Promise<void> {
    const encoded = Buffer.from(caBundle).toString('base64');
    for (const { kind, name, webhooks } of configurations) {
      const patch = caBundlePatch(webhooks ?? [], encoded);
      if (patch.length === 0) continue;
      try {
        await this.#options.api.patchWebhookConfiguration(kind, name, patch);
      } catch (error) {
        if (error instanceof ConflictError) throw error;
        this.#options.onError?.(error);
      }
    }
  }
}

interface ConfigurationState {
  kind: WebhookConfigurationKind;
  name: string;
  webhooks: WebhookCaBundle[] | undefined;
}

/** Whether every webhook of every existing configuration trusts `caCert`; absent configurations call no one. */
function trustsEverywhere(configurations: readonly ConfigurationState[], caCert: string): boolean {
  const fingerprint = new X509Certificate(caCert).fingerprint256;
  return configurations.every(({ webhooks }) =>
    (webhooks ?? []).every((webhook) => fingerprints(decodeBase64(webhook.caBundle ?? '')).has(fingerprint)),
  );
}

/**
 * The JSON patch setting every webhook's caBundle to `encoded`. Each write is guarded by `test`s of
 * the webhook's name and of the caBundle read, so a concurrent change fails the patch (409/422 →
 * {@link ConflictError}) instead of being overwritten.
 */
export function caBundlePatch(webhooks: readonly WebhookCaBundle[], encoded: string): JsonPatchOperation[] {
  return webhooks.flatMap((webhook, index): JsonPatchOperation[] => {
    if (webhook.caBundle === encoded) return [];
    const base = `/webhooks/${index}`;
    return [
      { op: 'test', path: `${base}/name`, value: webhook.name },
      ...(webhook.caBundle === undefined ? [] : [{ op: 'test' as const, path: `${base}/clientConfig/caBundle`, value: webhook.caBundle }]),
      // `add` on an existing member replaces it, and also works when caBundle is absent.
      { op: 'add', path: `${base}/clientConfig/caBundle`, value: encoded },
    ];
  });
}

interface Issuer {
  ca(): { cert: string; key: string };
  serving(ca: { cert: string; key: string }): { cert: string; key: string };
}

/** Everything the Secret holds: what is served plus the CA key. */
export interface Material extends ServingMaterial {
  caKey: string;
}

export interface RenewalContext {
  now: Date;
  renewBeforeMs: number;
  /** Whether the webhook configurations already trusted the current CA before this pass. */
  caPublished: boolean;
  issue: Issuer;
  /** The name the serving certificate must cover (`<svc>.<ns>.svc`). */
  requiredHost: string;
}

/**
 * Decides the Secret's next contents, or undefined when nothing is due. At most one step per call:
 * rotate the CA (serving certificate kept), or re-issue the serving certificate (only under a CA the
 * configurations already trust), or drop expired CAs from the bundle.
 */
export function planRenewal(current: Material, context: RenewalContext): Material | undefined {
  const { now, renewBeforeMs } = context;
  const dueAt = (pem: string) => new Date(new X509Certificate(pem).validTo).getTime() - renewBeforeMs;
  const liveCas = splitPemBundle(current.caBundle).filter((pem) => new Date(new X509Certificate(pem).validTo) > now);
  const bundleWith = (caCert: string, rest: readonly string[]) => joinPem([caCert, ...rest.filter((pem) => !sameCertificate(pem, caCert))]);

  if (now.getTime() >= dueAt(current.caCert)) {
    const ca = context.issue.ca();
    return { ...current, caCert: ca.cert, caKey: ca.key, caBundle: bundleWith(ca.cert, liveCas) };
  }

  const leaf = new X509Certificate(current.cert);
  const signedByCurrentCa = leaf.checkIssued(new X509Certificate(current.caCert)) && leaf.verify(new X509Certificate(current.caCert).publicKey);
  const leafDue =
    now.getTime() >= dueAt(current.cert) || !signedByCurrentCa || leaf.checkHost(context.requiredHost, { subject: 'never' }) === undefined;
  if (leafDue && context.caPublished) {
    const serving = context.issue.serving({ cert: current.caCert, key: current.caKey });
    return { ...current, cert: serving.cert, key: serving.key, caBundle: bundleWith(current.caCert, liveCas) };
  }

  const pruned = bundleWith(current.caCert, liveCas);
  return pruned === current.caBundle ? undefined : { ...current, caBundle: pruned };
}

function parseSecret(data: SecretData, where: string): Material {
  const read = (key: string): string => {
    const value = data[key];
    if (value === undefined || value === '') throw new Error(`Secret ${where} has no ${key}; delete it to let sidecar-guard recreate it`);
    return value;
  };
  const caCert = read(SECRET_KEYS.caCert);
  return {
    cert: read(SECRET_KEYS.cert),
    key: read(SECRET_KEYS.key),
    caCert,
    caKey: read(SECRET_KEYS.caKey),
    caBundle: data[SECRET_KEYS.caBundle] ?? caCert,
  };
}

function toSecretData(material: Material): SecretData {
  return {
    [SECRET_KEYS.cert]: material.cert,
    [SECRET_KEYS.key]: material.key,
    [SECRET_KEYS.caCert]: material.caCert,
    [SECRET_KEYS.caKey]: material.caKey,
    [SECRET_KEYS.caBundle]: material.caBundle,
  };
}

/** The certificates in a PEM bundle, in order. */
export function splitPemBundle(bundle: string): string[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((pem) => `${pem}\n`);
}

function joinPem(pems: readonly string[]): string {
  return pems.map((pem) => pem.trim()).join('\n') + '\n';
}

function sameCertificate(a: string, b: string): boolean {
  return new X509Certificate(a).fingerprint256 === new X509Certificate(b).fingerprint256;
}

function fingerprints(bundle: string): Set<string> {
  return new Set(splitPemBundle(bundle).map((pem) => new X509Certificate(pem).fingerprint256));
}

function decodeBase64(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}
