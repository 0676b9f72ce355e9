/**
 * Self-managed TLS against the real API server, as the chart's ServiceAccount with the chart's RBAC:
 * the Secret is created, both webhook configurations get the caBundle, and a serving-certificate
 * rotation during a stream of kubectl calls fails none of them.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import t from 'tap';
import { toManifestYaml } from '../../../src/kube/manifest-yaml.js';
import { generateServingCertificate } from '../../../src/certs/generate.js';
import { E2E_DIR } from '../harness/environment.js';
import { freePort, startDetached, stopProcess, waitFor } from '../harness/processes.js';
import { pointAt, renderChart, serviceAccountKubeconfig, toYamlStream, writeConfig } from '../harness/webhook.js';
import { environment, eventually, freshNamespace, getJson, kubectl, MESH, pod, sidecar } from '../support.js';

interface Selector {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Configuration {
  webhooks: { name: string; clientConfig: { caBundle?: string }; namespaceSelector: Selector }[];
}
interface TlsSecret {
  data: Record<string, string>;
}

function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const decode = (b64: string | undefined) => Buffer.from(b64 ?? '', 'base64').toString('utf8');

t.test('self-managed TLS: Secret, caBundle and a rotation under a stream of kubectl calls', async (t) => {
  const state = environment();
  const id = `sgtls-${randomBytes(3).toString('hex')}`;
  const mutatingName = `00-${id}`;
  const chart = renderChart(state.kubernetesVersion, { fullnameOverride: id, tls: { mode: 'self-managed' }, webhook: { mutating: { name: mutatingName }, validating: { name: id } } }, id, id);
  const ns = freshNamespace(t, 'tls', { ...MESH, 'sidecar-guard.io/ignore': 'true' });
  t.equal(kubectl(['create', 'namespace', id]).code, 0);
  t.teardown(() => {
    kubectl(['delete', 'namespace', id, '--wait=false']);
    kubectl(['delete', 'mutatingwebhookconfiguration', mutatingName, '--ignore-not-found']);
    kubectl(['delete', 'validatingwebhookconfiguration', id, '--ignore-not-found']);
    kubectl(['delete', '-f', '-'], toYamlStream(chart.rbac.filter((o) => !o.metadata.namespace)));
  });
  const rbac = kubectl(['apply', '-f', '-'], toYamlStream(chart.rbac));
  t.equal(rbac.code, 0, `the chart's RBAC for self-managed mode applies: ${rbac.stderr}`);

  // The configurations as the chart renders them (no caBundle: the webhook publishes it), narrowed to one namespace.
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const narrowed = [chart.mutating, chart.validating].map((c) => {
    const copy = pointAt(c, url) as typeof c & Configuration;
    for (const webhook of copy.webhooks) {
      const kept = (webhook.namespaceSelector.matchExpressions ?? []).filter((e) => e.key !== 'sidecar-guard.io/ignore');
      webhook.namespaceSelector = { matchExpressions: [...kept, { key: 'kubernetes.io/metadata.name', operator: 'In', values: [ns] }] };
    }
    return copy;
  });
  t.equal(kubectl(['apply', '-f', '-'], toYamlStream(narrowed)).code, 0);

  const dir = join(E2E_DIR, id);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const kubeconfig = serviceAccountKubeconfig(dir, state.apiserverUrl, state.caCertFile, state.caKeyFile, id, id);
  const serve = startDetached(id, process.execPath, [
    join('dist', 'cli', 'main.js'), 'serve',
    '--port', String(port), '--host', '127.0.0.1',
    '--tls-mode', 'self-managed', '--service', id, '--namespace', id,
    '--mutating-webhook-configuration', mutatingName, '--validating-webhook-configuration', id,
    '--tls-sync-seconds', '1',
    '--kubeconfig', kubeconfig,
    '--config', writeConfig(dir, 'config.yaml', chart.config),
    '--drain-delay-seconds', '0',
  ], join(dir, 'logs', `${id}.log`));
  t.teardown(() => stopProcess(serve.pid));

  await waitFor('the self-managed Secret and caBundle', async () => {
    const secret = kubectl(['get', 'secret', `${id}-tls`, '-n', id, '-o', 'json']);
    if (secret.code !== 0) return false;
    const bundle = (JSON.parse(secret.stdout) as TlsSecret).data['ca-bundle.crt'];
    const published = (kind: string, name: string) => getJson<Configuration>(['get', kind, name]).webhooks.every((w) => w.clientConfig.caBundle === bundle);
    return published('mutatingwebhookconfiguration', mutatingName) && published('validatingwebhookconfiguration', id);
  }, 30_000, serve.log);
  const secret = getJson<TlsSecret & { type: string }>(['get', 'secret', `${id}-tls`, '-n', id]);
  t.equal(secret.type, 'kubernetes.io/tls');
  t.same(Object.keys(secret.data).sort(), ['ca-bundle.crt', 'ca.crt', 'ca.key', 'tls.crt', 'tls.key']);

  // The API server trusts what was published: a request goes through and is decided.
  const denied = kubectl(['create', '-f', '-'], pod(ns, 'no-sidecar'));
  t.equal(denied.code, 1);
  t.match(denied.stderr, 'admission webhook "injection.pods.validate.sidecar-guard.io" denied the request', 'reached over the self-managed certificate');
  t.equal(kubectl(['apply', '-f', '-'], sidecar(ns, 'default')).code, 0);
  await eventually('the Sidecar is seen', () => kubectl(['create', '--dry-run=server', '-f', '-'], pod(ns, 'probe')).code === 0);

  // Rotation: another replica (here, the test) leaves a serving certificate that is due for
  // renewal; the next sync replaces it. Meanwhile kubectl creates pods without pause.
  const before = await servedSerial(port);
  const stream = (async () => {
    const failures: string[] = [];
    let created = 0;
    for (let i = 0; i < 40; i++) {
      const manifest = toManifestYaml(pod(ns, `stream-${i}`));
      const result = await new Promise<{ code: number; stderr: string }>((resolve) => {
        const child = execFile(join(state.binDir, 'kubectl'), ['create', '-f', '-'], { env: { ...process.env, KUBECONFIG: state.kubeconfig } }, (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr }));
        child.stdin?.end(manifest);
      });
      if (result.code === 0) created++;
      else failures.push(result.stderr);
    }
    return { created, failures };
  })();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const stale = generateServingCertificate({ ca: { cert: decode(secret.data['ca.crt']), key: decode(secret.data['ca.key']) }, service: id, namespace: id, validityDays: 5 });
  const replaced = kubectl(['patch', 'secret', `${id}-tls`, '-n', id, '--type=merge', '-p', JSON.stringify({ data: { 'tls.crt': Buffer.from(stale.cert).toString('base64'), 'tls.key': Buffer.from(stale.key).toString('base64') } })]);
  t.equal(replaced.code, 0, replaced.stderr);
  const { created, failures } = await stream;
  t.same(failures, [], 'no kubectl call failed during the rotation');
  t.equal(created, 40);

  const renewed = getJson<TlsSecret>(['get', 'secret', `${id}-tls`, '-n', id]);
  const renewedCert = decode(renewed.data['tls.crt']);
  t.not(renewedCert, stale.cert, 'the due certificate was renewed');
  const after = await servedSerial(port);
  t.not(after, before, 'the server serves a new certificate');
  t.equal(getJson<Configuration>(['get', 'validatingwebhookconfiguration', id]).webhooks[0]?.clientConfig.caBundle, renewed.data['ca-bundle.crt'], 'the caBundle still matches the Secret');
});
