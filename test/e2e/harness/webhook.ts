/**
 * sidecar-guard in the real API server's admission path: the chart is rendered with `helm template`
 * and its webhook configurations are applied exactly as rendered, except that clientConfig points
 * at the local process by `url` with the real caBundle (what envtest does: the API server refuses
 * loopback Service endpoints). The process runs with the chart's ConfigMap as its config and as
 * the chart's ServiceAccount, through the chart's own RBAC.
 */
import { request } from 'node:https';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toManifestYaml } from '../../../src/kube/manifest-yaml.js';
import { ensureCertDir } from '../../../src/certs/cert-dir.js';
import { ROOT, render, type K8sObject, type RenderOptions } from '../../charts/helm.js';
import { issueClientCertificate } from './pki.js';
import { writeKubeconfig } from './control-plane.js';
import { freePort, startDetached, waitFor, type StartedProcess } from './processes.js';

export const RELEASE = 'sidecar-guard';
export const RELEASE_NAMESPACE = 'sidecar-guard';

export interface ChartRender {
  objects: K8sObject[];
  mutating: K8sObject;
  validating: K8sObject;
  /** The ConfigMap's config.yaml. */
  config: string;
  rbac: K8sObject[];
}

export function renderChart(kubeVersion: string, values: RenderOptions['values'] = {}, release = RELEASE, namespace = RELEASE_NAMESPACE): ChartRender {
  const objects = render({ release, namespace, kubeVersion: kubeVersion.replace(/^v/, ''), values });
  const find = (kind: string) => {
    const found = objects.find((o) => o.kind === kind);
    if (!found) throw new Error(`the chart rendered no ${kind}`);
    return found;
  };
  const configMap = find('ConfigMap') as K8sObject & { data: Record<string, string> };
  const config = configMap.data['config.yaml'];
  if (config === undefined) throw new Error('the chart ConfigMap has no config.yaml');
  return {
    objects,
    mutating: find('MutatingWebhookConfiguration'),
    validating: find('ValidatingWebhookConfiguration'),
    config,
    rbac: objects.filter((o) => ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind)),
  };
}

interface WebhookEntry {
  name: string;
  clientConfig: { service?: { path?: string }; url?: string; caBundle?: string };
  [key: string]: unknown;
}

/**
 * The configuration with every webhook's clientConfig pointed at `baseUrl` (path kept), trusting
 * `caPem` (omit it to leave caBundle for self-managed TLS to fill in). Nothing else changes.
 */
export function pointAt(configuration: K8sObject, baseUrl: string, caPem?: string): K8sObject {
  const copy = structuredClone(configuration) as K8sObject & { webhooks: WebhookEntry[] };
  for (const webhook of copy.webhooks) {
    const path = webhook.clientConfig.service?.path ?? '/';
    webhook.clientConfig = { url: `${baseUrl}${path}`, ...(caPem !== undefined ? { caBundle: Buffer.from(caPem).toString('base64') } : {}) };
  }
  return copy;
}

export function toYamlStream(objects: readonly object[]): string {
  return objects.map((o) => `---\n${toManifestYaml(o)}`).join('');
}

export interface WebhookProcess {
  url: string;
  process: StartedProcess;
  caPem: string;
  kubeconfig: string;
}

export interface StartWebhookOptions {
  dir: string;
  name: string;
  apiserverUrl: string;
  apiserverCaFile: string;
  apiserverCaKeyFile: string;
  configFile: string;
  extraArgs?: readonly string[];
  /** Node flags before the script (e.g. --cpu-prof). */
  nodeArgs?: readonly string[];
  port?: number;
}

/**
 * A kubeconfig that authenticates as a ServiceAccount would (a client certificate with its user
 * name and groups), so the chart's RBAC bindings to that ServiceAccount apply to it.
 */
export function serviceAccountKubeconfig(dir: string, apiserverUrl: string, caFile: string, caKeyFile: string, namespace = RELEASE_NAMESPACE, name = RELEASE): string {
  const ca = { cert: readFileSync(caFile, 'utf8'), key: readFileSync(caKeyFile, 'utf8') };
  const user = `system:serviceaccount:${namespace}:${name}`;
  const client = issueClientCertificate(ca, user, ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated']);
  const path = join(dir, `${namespace}-${name}.kubeconfig`);
  writeKubeconfig(path, apiserverUrl, ca.cert, name, client);
  return path;
}

function httpsStatus(url: string, caPem: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: caPem, servername: 'localhost', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** `sidecar-guard serve` from the compiled JavaScript (as the image runs it), detached. */
export async function startWebhook(options: StartWebhookOptions): Promise<WebhookProcess> {
  const certDir = join(options.dir, `${options.name}-certs`);
  mkdirSync(certDir, { recursive: true });
  const tls = await ensureCertDir(certDir, { service: RELEASE, namespace: RELEASE_NAMESPACE });
  if (tls.ca === undefined) throw new Error(`${certDir} has no ca.crt`);
  const caPem = tls.ca;
  const kubeconfig = serviceAccountKubeconfig(options.dir, options.apiserverUrl, options.apiserverCaFile, options.apiserverCaKeyFile);
  const port = options.port ?? (await freePort());
  const url = `https://127.0.0.1:${port}`;
  const process_ = startDetached(options.name, process.execPath, [
    ...(options.nodeArgs ?? []),
    join(ROOT, 'dist', 'cli', 'main.js'),
    'serve',
    '--port', String(port),
    '--host', '127.0.0.1',
    '--tls-mode', 'files',
    '--cert-dir', certDir,
    '--kubeconfig', kubeconfig,
    '--config', options.configFile,
    '--drain-delay-seconds', '0',
    ...(options.extraArgs ?? []),
  ], join(options.dir, 'logs', `${options.name}.log`));
  await waitFor(`sidecar-guard (${options.name})`, async () => (await httpsStatus(`${url}/readyz`, caPem)) === 200, 30_000, process_.log);
  return { url, process: process_, caPem, kubeconfig };
}

export function writeConfig(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
