import { setImmediate as yieldTurn } from 'node:timers/promises';
import jsonpatch from 'fast-json-patch';
import {
  ConflictError,
  type JsonPatchOperation,
  type SecretData,
  type SelfManagedApi,
  type StoredSecret,
  type WebhookCaBundle,
  type WebhookConfigurationKind,
} from '../../src/certs/self-managed.js';

export interface WebhookConfiguration {
  webhooks: Array<{ name: string; clientConfig: { caBundle?: string; service?: { name: string } } }>;
}

/**
 * An in-memory stand-in for the apiserver behind SelfManagedApi: Secrets with resourceVersions and
 * 409s, webhook configurations patched with RFC 6902 (a failed `test` is a 422 → ConflictError).
 * Every call yields a turn after taking its snapshot, so concurrent callers interleave like real ones.
 */
export class InMemorySelfManagedApi implements SelfManagedApi {
  readonly secrets = new Map<string, StoredSecret>();
  readonly configurations = new Map<string, WebhookConfiguration>();
  readonly calls: string[] = [];
  #version = 0;

  addConfiguration(kind: WebhookConfigurationKind, name: string, webhookNames: string[], caBundle?: string): void {
    this.configurations.set(`${kind}/${name}`, {
      webhooks: webhookNames.map((webhookName) => ({
        name: webhookName,
        clientConfig: { service: { name: 'sidecar-guard' }, ...(caBundle === undefined ? {} : { caBundle }) },
      })),
    });
  }

  /** The PEM bundle a configuration's webhooks trust (they must all agree). */
  trustedBundle(kind: WebhookConfigurationKind, name: string): string {
    const bundles = new Set(this.configurations.get(`${kind}/${name}`)?.webhooks.map((w) => w.clientConfig.caBundle ?? ''));
    if (bundles.size !== 1) throw new Error(`webhooks of ${kind}/${name} disagree: ${bundles.size} bundles`);
    return Buffer.from([...bundles][0] ?? '', 'base64').toString('utf8');
  }

  async readSecret(namespace: string, name: string): Promise<StoredSecret | undefined> {
    this.calls.push(`read ${namespace}/${name}`);
    const found = this.secrets.get(`${namespace}/${name}`);
    await yieldTurn();
    return found && structuredClone(found);
  }

  async createSecret(namespace: string, name: string, data: SecretData): Promise<StoredSecret> {
    await yieldTurn();
    this.calls.push(`create ${namespace}/${name}`);
    if (this.secrets.has(`${namespace}/${name}`)) throw new ConflictError(`secrets "${name}" already exists`);
    const stored = { data: { ...data }, resourceVersion: String(++this.#version) };
    this.secrets.set(`${namespace}/${name}`, stored);
    return structuredClone(stored);
  }

  async replaceSecret(namespace: string, name: string, data: SecretData, resourceVersion: string): Promise<StoredSecret> {
    await yieldTurn();
    this.calls.push(`replace ${namespace}/${name}`);
    const current = this.secrets.get(`${namespace}/${name}`);
    if (current?.resourceVersion !== resourceVersion) throw new ConflictError('the object has been modified');
    const stored = { data: { ...data }, resourceVersion: String(++this.#version) };
    this.secrets.set(`${namespace}/${name}`, stored);
    return structuredClone(stored);
  }

  async readWebhookCaBundles(kind: WebhookConfigurationKind, name: string): Promise<WebhookCaBundle[] | undefined> {
    const found = this.configurations.get(`${kind}/${name}`);
    await yieldTurn();
    return found?.webhooks.map((w) => ({ name: w.name, ...(w.clientConfig.caBundle === undefined ? {} : { caBundle: w.clientConfig.caBundle }) }));
  }

  async patchWebhookConfiguration(kind: WebhookConfigurationKind, name: string, patch: JsonPatchOperation[]): Promise<void> {
    await yieldTurn();
    this.calls.push(`patch ${kind}/${name}`);
    const found = this.configurations.get(`${kind}/${name}`);
    if (found === undefined) throw new Error(`${kind}/${name} not found`);
    try {
      const patched = jsonpatch.applyPatch(structuredClone(found), patch, true, false).newDocument;
      this.configurations.set(`${kind}/${name}`, patched);
    } catch (error) {
      if (error instanceof jsonpatch.JsonPatchError && error.name === 'TEST_OPERATION_FAILED') throw new ConflictError(error.message);
      throw error;
    }
  }
}
