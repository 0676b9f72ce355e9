import {
  AdmissionregistrationV1Api,
  ApiException,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  ConflictError,
  type JsonPatchOperation,
  type SecretData,
  type SelfManagedApi,
  type StoredSecret,
  type WebhookCaBundle,
  type WebhookConfigurationKind,
} from './self-managed.js';

/**
 * {@link SelfManagedApi} over @kubernetes/client-node. RBAC it needs, in the webhook's namespace:
 * secrets get/create/update (its own Secret); cluster-wide: mutating/validatingwebhookconfigurations get/patch.
 *
 * @example
 * const kc = new KubeConfig(); kc.loadFromDefault();
 * const certs = new SelfManagedCertificates({ api: createKubeSelfManagedApi(kc), ... });
 */
export function createKubeSelfManagedApi(kubeConfig: KubeConfig): SelfManagedApi {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const admission = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

  const secretBody = (name: string, data: SecretData, resourceVersion?: string): V1Secret => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      labels: { 'app.kubernetes.io/managed-by': 'sidecar-guard' },
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    type: 'kubernetes.io/tls',
    data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
  });

  return {
    async readSecret(namespace, name) {
      try {
        return toStored(await core.readNamespacedSecret({ namespace, name }));
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async createSecret(namespace, name, data) {
      return toStored(await conflictsAsErrors(core.createNamespacedSecret({ namespace, body: secretBody(name, data) }), [409]));
    },
    async replaceSecret(namespace, name, data, resourceVersion) {
      return toStored(
        await conflictsAsErrors(core.replaceNamespacedSecret({ namespace, name, body: secretBody(name, data, resourceVersion) }), [409]),
      );
    },
    async readWebhookCaBundles(kind, name) {
      try {
        const configuration =
          kind === 'mutating'
            ? await admission.readMutatingWebhookConfiguration({ name })
            : await admission.readValidatingWebhookConfiguration({ name });
        return (configuration.webhooks ?? []).map(
          (webhook): WebhookCaBundle => ({
            name: webhook.name,
            ...(webhook.clientConfig.caBundle ? { caBundle: webhook.clientConfig.caBundle } : {}),
          }),
        );
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async patchWebhookConfiguration(kind: WebhookConfigurationKind, name: string, patch: JsonPatchOperation[]) {
      // A failed `test` operation comes back as 422.
      await conflictsAsErrors(
        kind === 'mutating'
          ? admission.patchMutatingWebhookConfiguration({ name, body: patch }, jsonPatch)
          : admission.patchValidatingWebhookConfiguration({ name, body: patch }, jsonPatch),
        [409, 422],
      );
    },
  };
}

function toStored(secret: V1Secret): StoredSecret {
  const data = Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
  );
  return { data, resourceVersion: secret.metadata?.resourceVersion ?? '' };
}

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

async function conflictsAsErrors<T>(call: Promise<T>, codes: readonly number[]): Promise<T> {
  try {
    return await call;
  } catch (error) {
    const status = statusOf(error);
    if (status !== undefined && codes.includes(status)) throw new ConflictError(`HTTP ${status}`, { cause: error });
    throw error;
  }
}
