import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import t from 'tap';
import { SelfManagedCertificates, splitPemBundle } from '../../src/certs/self-managed.js';
import { createKubeSelfManagedApi } from '../../src/certs/self-managed-kube.js';

// A minimal apiserver for the five calls the adapter makes (the shared fake-apiserver had not landed).
interface Recorded {
  method: string;
  url: string;
  contentType: string | undefined;
}

async function startApiserver(t: { teardown: (fn: () => unknown) => void }) {
  const secrets = new Map<string, Record<string, unknown>>();
  const configurations = new Map<string, Record<string, unknown>>();
  const requests: Recorded[] = [];
  let version = 0;
  const reply = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const status = (res: ServerResponse, code: number, reason: string) =>
    reply(res, code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason });

  const server = createServer(async (req: IncomingMessage, res) => {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ method: req.method ?? '', url: url.pathname, contentType: req.headers['content-type'] });
    const secret = url.pathname.match(/^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/);
    const hook = url.pathname.match(/^\/apis\/admissionregistration\.k8s\.io\/v1\/(mutating|validating)webhookconfigurations\/([^/]+)$/);
    if (secret) {
      const body = raw ? (JSON.parse(raw) as { metadata: { name: string; resourceVersion?: string } }) : undefined;
      const key = `${secret[1]}/${secret[2] ?? body?.metadata.name}`;
      const existing = secrets.get(key) as { metadata: { resourceVersion: string } } | undefined;
      if (req.method === 'GET') return existing ? reply(res, 200, existing) : status(res, 404, 'NotFound');
      if (req.method === 'POST') {
        if (existing) return status(res, 409, 'AlreadyExists');
      } else if (req.method === 'PUT') {
        if (existing?.metadata.resourceVersion !== body?.metadata.resourceVersion) return status(res, 409, 'Conflict');
      }
      const stored = { ...body, metadata: { ...body?.metadata, resourceVersion: String(++version) } };
      secrets.set(key, stored);
      return reply(res, req.method === 'POST' ? 201 : 200, stored);
    }
    if (hook) {
      const key = `${hook[1]}/${hook[2]}`;
      const existing = configurations.get(key);
      if (!existing) return status(res, 404, 'NotFound');
      if (req.method === 'GET') return reply(res, 200, existing);
      try {
        const patched = jsonpatch.applyPatch(structuredClone(existing), JSON.parse(raw) as jsonpatch.Operation[], true, false).newDocument;
        configurations.set(key, patched);
        return reply(res, 200, patched);
      } catch {
        return status(res, 422, 'Invalid');
      }
    }
    return status(res, 404, 'NotFound');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'fake', token: 'x' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return { kc, secrets, configurations, requests };
}

const webhook = (name: string) => ({ name, clientConfig: { service: { name: 'sidecar-guard', namespace: 'sidecar-guard' } } });

t.test('two replicas racing through client-node end with one CA, published to both configurations', async (t) => {
  const { kc, secrets, configurations, requests } = await startApiserver(t);
  configurations.set('mutating/a-sidecar-guard', { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'a-sidecar-guard' }, webhooks: [webhook('resources.sidecar-guard.io')] });
  configurations.set('validating/sidecar-guard', { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'sidecar-guard' }, webhooks: [webhook('sidecars.sidecar-guard.io')] });
  const replica = () =>
    new SelfManagedCertificates({
      api: createKubeSelfManagedApi(kc),
      service: 'sidecar-guard',
      namespace: 'sidecar-guard',
      webhookConfigurations: { mutating: 'a-sidecar-guard', validating: 'sidecar-guard' },
    });
  const [a, b] = await Promise.all([replica().sync(), replica().sync()]);
  t.equal(a.caCert, b.caCert);
  t.equal(a.cert, b.cert);
  t.equal(secrets.size, 1);
  const stored = secrets.get('sidecar-guard/sidecar-guard-tls') as { type: string; data: Record<string, string> };
  t.equal(stored.type, 'kubernetes.io/tls');
  t.equal(Buffer.from(stored.data['tls.crt'] ?? '', 'base64').toString(), a.cert, 'data is base64 on the wire');
  for (const key of ['mutating/a-sidecar-guard', 'validating/sidecar-guard']) {
    const config = configurations.get(key) as { webhooks: Array<{ clientConfig: { caBundle: string } }> };
    const bundle = Buffer.from(config.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString();
    t.equal(splitPemBundle(bundle).length, 1);
    t.equal(bundle, a.caBundle, `${key} trusts the one CA`);
  }
  const patches = requests.filter((r) => r.method === 'PATCH');
  t.ok(patches.length >= 2);
  t.ok(patches.every((r) => r.contentType === 'application/json-patch+json'));
});

t.test('a missing configuration reads as absent; other API errors propagate', async (t) => {
  const { kc } = await startApiserver(t);
  const api = createKubeSelfManagedApi(kc);
  t.equal(await api.readWebhookCaBundles('validating', 'nope'), undefined);
  t.equal(await api.readSecret('ns', 'nope'), undefined);
  await t.rejects(api.patchWebhookConfiguration('mutating', 'nope', []), { code: 404 });
  const broken = new KubeConfig();
  broken.loadFromOptions({
    clusters: [{ name: 'x', server: 'http://127.0.0.1:9', skipTLSVerify: true }],
    users: [{ name: 'x' }],
    contexts: [{ name: 'x', cluster: 'x', user: 'x' }],
    currentContext: 'x',
  });
  await t.rejects(createKubeSelfManagedApi(broken).readSecret('ns', 'x'));
  await t.rejects(createKubeSelfManagedApi(broken).readWebhookCaBundles('mutating', 'x'));
});
