/**
 * etcd and kube-apiserver on loopback, started the way controller-runtime's envtest starts them:
 * a fresh PKI, RBAC authorization, no endpoint reconciler, no kubelet or scheduler (pods are
 * stored, never run), plus an audit policy at Metadata level writing to a file. Unlike envtest,
 * the ServiceAccount admission plugin stays on and kube-controller-manager runs its serviceaccount
 * and namespace controllers, as in every real cluster: Istio's injected pods need the
 * serviceAccountName the plugin sets, and namespaces really go away (with their Sidecars).
 */
import { request } from 'node:https';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createControlPlanePki, type ControlPlanePki } from './pki.js';
import { freePort, startDetached, waitFor, type StartedProcess } from './processes.js';

export interface ControlPlane {
  apiserverUrl: string;
  etcdUrl: string;
  kubeconfig: string;
  auditLog: string;
  caCertFile: string;
  caKeyFile: string;
  processes: StartedProcess[];
}

// Metadata level for everything: enough to see admission webhooks' audit annotations, which the
// API server attaches to the event whatever the level.
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
`;

export function writeKubeconfig(path: string, server: string, caPem: string, user: string, client: { cert: string; key: string }): void {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  writeFileSync(
    path,
    `apiVersion: v1
kind: Config
clusters:
  - name: e2e
    cluster:
      server: ${server}
      certificate-authority-data: ${b64(caPem)}
users:
  - name: ${user}
    user:
      client-certificate-data: ${b64(client.cert)}
      client-key-data: ${b64(client.key)}
contexts:
  - name: ${user}@e2e
    context: { cluster: e2e, user: ${user} }
current-context: ${user}@e2e
`,
    { mode: 0o600 },
  );
}

function httpsGet(url: string, pki: ControlPlanePki): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function etcdHealthy(url: string): Promise<boolean> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
  return response.ok && ((await response.json()) as { health?: string }).health === 'true';
}

export async function startControlPlane(dir: string, binDir: string, options: { extraApiserverArgs?: readonly string[] } = {}): Promise<ControlPlane> {
  const pkiDir = join(dir, 'pki');
  const logs = join(dir, 'logs');
  mkdirSync(pkiDir, { recursive: true });
  mkdirSync(logs, { recursive: true });
  const pki = createControlPlanePki();
  const file = (name: string, content: string) => {
    const path = join(pkiDir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const caCertFile = file('ca.crt', pki.ca.cert);
  const caKeyFile = file('ca.key', pki.ca.key);
  const servingCert = file('apiserver.crt', pki.apiserver.cert);
  const servingKey = file('apiserver.key', pki.apiserver.key);
  const saKey = file('sa.key', pki.serviceAccountKey);
  const auditPolicy = join(dir, 'audit-policy.yaml');
  writeFileSync(auditPolicy, AUDIT_POLICY);
  const auditLog = join(dir, 'audit.log');

  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const processes: StartedProcess[] = [];
  const etcd = startDetached('etcd', join(binDir, 'etcd'), [
    '--name=e2e',
    `--data-dir=${join(dir, 'etcd-data')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
    `--initial-cluster=e2e=http://127.0.0.1:${peerPort}`,
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ], join(logs, 'etcd.log'));
  processes.push(etcd);
  await waitFor('etcd', () => etcdHealthy(etcdUrl), 30_000, etcd.log);

  const apiserverUrl = `https://127.0.0.1:${apiPort}`;
  const apiserver = startDetached('kube-apiserver', join(binDir, 'kube-apiserver'), [
    `--etcd-servers=${etcdUrl}`,
    `--secure-port=${apiPort}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--cert-dir=${pkiDir}`,
    `--tls-cert-file=${servingCert}`,
    `--tls-private-key-file=${servingKey}`,
    `--client-ca-file=${caCertFile}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--authorization-mode=RBAC',
    '--allow-privileged=true',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${saKey}`,
    `--service-account-signing-key-file=${saKey}`,
    '--endpoint-reconciler-type=none',
    `--audit-policy-file=${auditPolicy}`,
    `--audit-log-path=${auditLog}`,
    '--audit-log-mode=blocking',
    '--v=1',
    ...(options.extraApiserverArgs ?? []),
  ], join(logs, 'kube-apiserver.log'));
  processes.push(apiserver);
  await waitFor('kube-apiserver', async () => (await httpsGet(`${apiserverUrl}/readyz`, pki)).status === 200, 90_000, apiserver.log);

  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, apiserverUrl, pki.ca.cert, 'e2e-admin', pki.admin);

  const controllerManager = startDetached('kube-controller-manager', join(binDir, 'kube-controller-manager'), [
    `--kubeconfig=${kubeconfig}`,
    '--controllers=serviceaccount,namespace',
    '--leader-elect=false',
    '--secure-port=0',
    '--use-service-account-credentials=false',
    '--v=1',
  ], join(logs, 'kube-controller-manager.log'));
  processes.push(controllerManager);
  // Ready when it has given the kube-system namespace its default ServiceAccount.
  await waitFor('kube-controller-manager', async () => (await httpsGet(`${apiserverUrl}/api/v1/namespaces/kube-system/serviceaccounts/default`, pki)).status === 200, 60_000, controllerManager.log);
  return { apiserverUrl, etcdUrl, kubeconfig, auditLog, caCertFile, caKeyFile, processes };
}
