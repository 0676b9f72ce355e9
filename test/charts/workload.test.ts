/**
 * Deployment, Service, PDB, ConfigMap, labels and the TLS modes: what a platform team relies
 * on at runtime (security, probes, spread, config file contract, certificate wiring).
 */
import t from 'tap';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load-config.js';
import { all, asArray, asRecord, get, one, render, template, type K8sObject } from './helm.js';
import { SCENARIOS } from './scenarios.js';

const podSpec = (objects: K8sObject[]) => asRecord(get(one(objects, 'Deployment'), 'spec', 'template', 'spec'));
const container = (objects: K8sObject[]) => asRecord(asArray(podSpec(objects)['containers'])[0]);
const args = (objects: K8sObject[]) => asArray(container(objects)['args']).map(String);
const volume = (objects: K8sObject[], name: string) => asArray(podSpec(objects)['volumes']).map((v) => asRecord(v)).find((v) => v['name'] === name);

t.test('Deployment: replicas, rollout, spread, disruption budget', async (t) => {
  const objects = render();
  const deployment = one(objects, 'Deployment');
  t.equal(get(deployment, 'spec', 'replicas'), 3);
  t.equal(get(deployment, 'spec', 'strategy', 'rollingUpdate', 'maxUnavailable'), 0, 'never below the desired count during a rollout');
  const spread = asArray(podSpec(objects)['topologySpreadConstraints']).map((c) => asRecord(c));
  t.same(spread.map((c) => c['topologyKey']), ['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
  const selector = get(deployment, 'spec', 'selector', 'matchLabels');
  for (const c of spread) t.same(get(c, 'labelSelector', 'matchLabels'), selector);
  const pdb = one(objects, 'PodDisruptionBudget');
  t.equal(get(pdb, 'spec', 'maxUnavailable'), 1);
  t.same(get(pdb, 'spec', 'selector', 'matchLabels'), selector);
  t.same(get(one(objects, 'Service'), 'spec', 'selector'), selector, 'the Service selects the pods');
  const podLabels = asRecord(get(deployment, 'spec', 'template', 'metadata', 'labels'));
  for (const [k, v] of Object.entries(asRecord(selector))) t.equal(podLabels[k], v, `pod label ${k}`);
  t.equal(get(render({ values: { replicaCount: 5 } }).find((o) => o.kind === 'Deployment'), 'spec', 'replicas'), 5);
});

t.test('pod security: non-root, read-only root, no capabilities, RuntimeDefault seccomp, limits', async (t) => {
  const objects = render();
  const pod = asRecord(podSpec(objects)['securityContext']);
  t.equal(pod['runAsNonRoot'], true);
  t.equal(get(pod, 'seccompProfile', 'type'), 'RuntimeDefault');
  const sc = asRecord(container(objects)['securityContext']);
  t.equal(sc['runAsNonRoot'], true);
  t.ok(Number(sc['runAsUser']) > 0, 'numeric non-root user');
  t.equal(sc['readOnlyRootFilesystem'], true);
  t.equal(sc['allowPrivilegeEscalation'], false);
  t.equal(sc['privileged'], false);
  t.same(get(sc, 'capabilities', 'drop'), ['ALL']);
  t.notOk(get(sc, 'capabilities', 'add'));
  t.equal(get(sc, 'seccompProfile', 'type'), 'RuntimeDefault');
  const resources = asRecord(container(objects)['resources']);
  for (const kind of ['requests', 'limits']) for (const r of ['cpu', 'memory']) t.ok(get(resources, kind, r), `${kind}.${r} set`);
  // A writable /tmp is mounted because the root filesystem is read-only.
  const mounts = asArray(container(objects)['volumeMounts']).map((m) => asRecord(m));
  t.ok(mounts.some((m) => m['mountPath'] === '/tmp'), '/tmp is an emptyDir');
  t.equal(template({ values: { containerSecurityContext: { runAsNonRoot: false } } }).code === 0, false, 'the schema refuses running as root');
});

t.test('probes hit the real endpoints over HTTPS on the serving port', async (t) => {
  const c = container(render());
  t.same(get(c, 'livenessProbe', 'httpGet'), { path: '/healthz', port: 'https', scheme: 'HTTPS' });
  t.same(get(c, 'readinessProbe', 'httpGet'), { path: '/readyz', port: 'https', scheme: 'HTTPS' });
  t.same(c['ports'], [{ name: 'https', containerPort: 8443, protocol: 'TCP' }]);
  t.ok(args(render()).includes('--port=8443'));
  t.ok(args(render()).includes('--host=0.0.0.0'), 'the pod listens on every interface (serve defaults to loopback)');
  const custom = render({ values: { webhook: { port: 9443 } } });
  t.equal(get(container(custom), 'ports', 0, 'containerPort'), 9443);
  t.ok(args(custom).includes('--port=9443'));
  t.equal(get(one(custom, 'Service'), 'spec', 'ports', 0, 'targetPort'), 'https');
});

t.test('the webhook is never meshed itself and shuts down within its grace period', async (t) => {
  const objects = render();
  t.equal(get(one(objects, 'Deployment'), 'spec', 'template', 'metadata', 'labels', 'sidecar.istio.io/inject'), 'false');
  t.ok(args(objects).includes('--shutdown-grace-seconds=25'));
  t.equal(podSpec(objects)['terminationGracePeriodSeconds'], 30, 'kubelet waits longer than the process');
  t.equal(podSpec(render({ values: { shutdown: { graceSeconds: 50 } } }))['terminationGracePeriodSeconds'], 55);
});

t.test('ConfigMap: the values config, mounted as a directory so reloads see changes', async (t) => {
  const objects = render({ values: { config: { mode: 'audit', defaultProfile: 'small', defaultRules: false, rules: [] } } });
  const text = String(get(one(objects, 'ConfigMap'), 'data', 'config.yaml'));
  const config = parseConfig(text, 'configmap');
  t.equal(config.mode, 'audit');
  t.equal(config.defaultProfile, 'small');
  t.same(config.rules, []);
  t.same(config.profiles['medium'], { cpu: '100m', cpuLimit: '1000m', memory: '128Mi', memoryLimit: '256Mi', maxMemoryLimit: '512Mi' });
  t.same(parseConfig(String(get(one(render(), 'ConfigMap'), 'data', 'config.yaml'))).scope.suggestedEgressHosts, ['./*', 'istio-system/*']);
  const defaults = asRecord(parse(String(get(one(render(), 'ConfigMap'), 'data', 'config.yaml'))));
  t.same(Object.keys(defaults).sort(), ['cluster', 'defaultProfile', 'exceptions', 'mode', 'profiles', 'rules', 'scope', 'tenancy']);

  // `mode: off` unquoted is YAML 1.1 false to Helm; the chart writes it back as "off".
  const off = render({ values: { config: { mode: 'off' } } });
  t.equal(parseConfig(String(get(one(off, 'ConfigMap'), 'data', 'config.yaml'))).mode, 'off');

  t.ok(args(objects).includes('--config=/etc/sidecar-guard/config/config.yaml'));
  const mount = asArray(container(objects)['volumeMounts']).map((m) => asRecord(m)).find((m) => m['name'] === 'config');
  t.equal(mount?.['mountPath'], '/etc/sidecar-guard/config');
  t.notOk(mount && 'subPath' in mount, 'no subPath: kubelet would never update it');
  t.equal(get(volume(objects, 'config'), 'configMap', 'name'), one(objects, 'ConfigMap').metadata.name);
});

t.test('recommended labels on every object of every scenario', async (t) => {
  for (const [name, options] of Object.entries(SCENARIOS)) {
    const objects = render(options);
    const release = options.release ?? 'sidecar-guard';
    for (const o of objects) {
      const labels = o.metadata.labels ?? {};
      t.equal(labels['app.kubernetes.io/name'], 'sidecar-guard', `${name}: ${o.kind} name label`);
      t.equal(labels['app.kubernetes.io/instance'], release, `${name}: ${o.kind} instance label`);
      t.equal(labels['app.kubernetes.io/managed-by'], 'Helm');
      t.equal(labels['app.kubernetes.io/part-of'], 'sidecar-guard');
      t.ok(labels['app.kubernetes.io/version'], 'version label');
      t.ok(labels['app.kubernetes.io/component'], 'component label');
      t.match(labels['helm.sh/chart'] ?? '', /^sidecar-guard-\d+\.\d+\.\d+/);
      for (const value of Object.values(labels)) t.ok(value.length <= 63, 'label values fit 63 characters');
      if (o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding' && !o.kind.endsWith('WebhookConfiguration')) {
        t.equal(o.metadata.namespace, options.namespace ?? 'sidecar-guard', `${name}: ${o.kind} is namespaced to the release`);
      }
    }
  }
});

t.test('TLS self-managed: the pods own the certificate (emptyDir) and are told where to keep it', async (t) => {
  const objects = render();
  t.ok(args(objects).includes('--tls-mode=self-managed'));
  t.ok(args(objects).includes('--service=sidecar-guard'));
  t.ok(args(objects).includes('--namespace=sidecar-guard'));
  t.ok(volume(objects, 'tls')?.['emptyDir'], 'no Secret volume: the webhook reads its Secret through the API');
  for (const kind of ['Certificate', 'Issuer', 'Secret']) t.same(all(objects, kind), [], `no ${kind} rendered`);
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    t.notOk(one(objects, kind).metadata.annotations?.['cert-manager.io/inject-ca-from']);
  }
});

t.test('TLS cert-manager: Issuer, Certificate for the Service names, CA injected into both configurations', async (t) => {
  const objects = render({ release: 'guard', namespace: 'platform', values: { tls: { mode: 'cert-manager' } } });
  const certificate = one(objects, 'Certificate');
  const issuer = one(objects, 'Issuer');
  t.same(get(issuer, 'spec', 'selfSigned'), {});
  t.same(get(certificate, 'spec', 'issuerRef'), { name: issuer.metadata.name, kind: 'Issuer', group: 'cert-manager.io' });
  const dnsNames = asArray(get(certificate, 'spec', 'dnsNames'));
  t.ok(dnsNames.includes('guard-sidecar-guard.platform.svc'), 'the name the API server dials');
  const secretName = get(certificate, 'spec', 'secretName');
  t.equal(get(volume(objects, 'tls'), 'secret', 'secretName'), secretName, 'the pods mount the Secret cert-manager writes');
  t.ok(args(objects).includes('--tls-mode=files'));
  t.ok(args(objects).includes('--cert-dir=/etc/sidecar-guard/tls'));
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    t.equal(one(objects, kind).metadata.annotations?.['cert-manager.io/inject-ca-from'], `platform/${certificate.metadata.name}`);
  }
  const existing = render({ values: { tls: { mode: 'cert-manager', certManager: { issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } } } } });
  t.same(all(existing, 'Issuer'), [], 'no Issuer when one is given');
  t.same(get(one(existing, 'Certificate'), 'spec', 'issuerRef'), { name: 'corp-ca', kind: 'ClusterIssuer' });
});

t.test('TLS secret: your Secret is mounted and your caBundle is set on every webhook', async (t) => {
  const caBundle = Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64');
  const objects = render({ values: { tls: { mode: 'secret', secret: { name: 'my-tls', caBundle } } } });
  t.equal(get(volume(objects, 'tls'), 'secret', 'secretName'), 'my-tls');
  t.ok(args(objects).includes('--tls-mode=files'));
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    for (const w of asArray(one(objects, kind)['webhooks'])) t.equal(get(w, 'clientConfig', 'caBundle'), caBundle);
  }
  t.same(all(objects, 'Certificate'), []);
  const missing = template({ values: { tls: { mode: 'secret' } } });
  t.not(missing.code, 0);
  t.match(missing.stderr, 'tls.secret.name is required when tls.mode is secret');
});

t.test('a NetworkPolicy by default: ingress only on the webhook port, egress only to DNS and the API server ports', async (t) => {
  const objects = render({ values: { webhook: { port: 9443 } } });
  const policy = one(objects, 'NetworkPolicy');
  t.same(get(policy, 'spec', 'podSelector', 'matchLabels'), get(one(objects, 'Deployment'), 'spec', 'selector', 'matchLabels'), 'selects exactly the webhook pods');
  t.same(get(policy, 'spec', 'policyTypes'), ['Ingress', 'Egress'], 'both directions are restricted');
  const containerPort = get(one(objects, 'Deployment'), 'spec', 'template', 'spec', 'containers', 0, 'ports', 0, 'containerPort');
  t.same(get(policy, 'spec', 'ingress'), [{ ports: [{ port: containerPort, protocol: 'TCP' }] }], 'one ingress rule: the serving port, from any source (the API server is no pod)');
  t.same(get(policy, 'spec', 'egress'), [
    { ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] },
    { ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }] },
  ], 'DNS and the API server ports, nothing else');
  const narrowed = one(
    render({ values: { networkPolicy: { ingressFrom: [{ ipBlock: { cidr: '172.16.0.0/28' } }], apiServerTo: [{ ipBlock: { cidr: '172.16.0.2/32' } }], apiServerPorts: [443] } } }),
    'NetworkPolicy',
  );
  t.same(get(narrowed, 'spec', 'ingress', 0, 'from'), [{ ipBlock: { cidr: '172.16.0.0/28' } }]);
  t.same(get(narrowed, 'spec', 'egress', 1), { ports: [{ port: 443, protocol: 'TCP' }], to: [{ ipBlock: { cidr: '172.16.0.2/32' } }] });
  t.same(all(render({ values: { networkPolicy: { enabled: false } } }), 'NetworkPolicy'), [], 'switched off');
});

t.test('optional monitoring, and a narrowed network policy', async (t) => {
  const off = render();
  for (const kind of ['ServiceMonitor', 'PrometheusRule']) t.same(all(off, kind), [], `no ${kind} by default`);
  const on = render(SCENARIOS['everything optional on']);
  const monitor = one(on, 'ServiceMonitor');
  t.same(get(monitor, 'spec', 'endpoints', 0, 'port'), 'https');
  t.same(get(monitor, 'spec', 'endpoints', 0, 'path'), '/metrics');
  t.same(get(monitor, 'spec', 'endpoints', 0, 'scheme'), 'https');
  t.equal(monitor.metadata.labels?.['release'], 'prom');
  const rules = asArray(get(one(on, 'PrometheusRule'), 'spec', 'groups', 0, 'rules')).map((r) => asRecord(r));
  const names = rules.map((r) => r['alert']);
  for (const alert of ['SidecarGuardDown', 'SidecarGuardWebhookCallFailures', 'SidecarGuardApiServerLatencyHigh', 'SidecarGuardDecisionLatencyHigh']) {
    t.ok(names.includes(alert), `alert ${alert}`);
  }
  const exprs = rules.map((r) => String(r['expr'])).join('\n');
  t.match(exprs, /sidecar_guard_decision_duration_seconds_bucket/);
  t.match(exprs, /apiserver_admission_webhook_rejection_count\{name=~"\.\+\\\\\.sidecar-guard\\\\\.io"/);
  t.match(exprs, /sidecar_guard_cache_last_event_age_seconds/);
  const policy = one(on, 'NetworkPolicy');
  t.same(get(policy, 'spec', 'podSelector', 'matchLabels'), get(one(on, 'Deployment'), 'spec', 'selector', 'matchLabels'));
  t.same(get(policy, 'spec', 'ingress', 0, 'ports'), [{ port: 8443, protocol: 'TCP' }]);
  t.same(get(policy, 'spec', 'ingress', 0, 'from'), [{ ipBlock: { cidr: '10.0.0.0/8' } }]);
  t.same(get(policy, 'spec', 'policyTypes'), ['Ingress', 'Egress']);
});
