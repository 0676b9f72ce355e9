/** RBAC: least privilege per TLS mode, resourceNames tied to the rendered names. */
import t from 'tap';
import { all, asArray, asRecord, one, render, type K8sObject } from './helm.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
const rulesOf = (o: K8sObject) => asArray(o['rules']).map((r) => asRecord(r) as unknown as Rule);

t.test('self-managed: exactly the permissions the webhook needs', async (t) => {
  const objects = render({ release: 'guard', namespace: 'platform' });
  const mutating = one(objects, 'MutatingWebhookConfiguration').metadata.name;
  const validating = one(objects, 'ValidatingWebhookConfiguration').metadata.name;

  t.same(all(objects, 'ClusterRole').map((o) => o.metadata.name).sort(), ['guard-sidecar-guard-cluster-view', 'guard-sidecar-guard-reports', 'guard-sidecar-guard-webhook-ca']);
  t.same(rulesOf(one(objects, 'ClusterRole', 'guard-sidecar-guard-cluster-view')), [
    { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
    { apiGroups: ['networking.istio.io'], resources: ['sidecars'], verbs: ['list', 'watch'] },
    // Opted-in pods outside mesh namespaces (the view asks only for those labels; RBAC cannot say so).
    { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
    { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
    { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
    { apiGroups: ['networking.istio.io'], resources: ['serviceentries'], verbs: ['list', 'watch'] },
  ]);
  t.same(rulesOf(one(objects, 'ClusterRole', 'guard-sidecar-guard-webhook-ca')), [
    { apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], resourceNames: [mutating], verbs: ['get', 'patch'] },
    { apiGroups: ['admissionregistration.k8s.io'], resources: ['validatingwebhookconfigurations'], resourceNames: [validating], verbs: ['get', 'patch'] },
  ]);

  const role = one(objects, 'Role', 'guard-sidecar-guard-tls');
  t.equal(role.metadata.namespace, 'platform', 'Secret access is namespaced to the release');
  const secretName = 'guard-sidecar-guard-tls';
  t.same(rulesOf(role), [
    { apiGroups: [''], resources: ['secrets'], resourceNames: [secretName], verbs: ['get', 'update'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
  ]);
  const env = asArray(asRecord(asArray(asRecord(asRecord(asRecord(one(objects, 'Deployment')['spec'])['template'])['spec'])['containers'])[0])['env']);
  t.ok(
    env.some((e) => asRecord(e)['name'] === 'SIDECAR_GUARD_TLS_SECRET' && asRecord(e)['value'] === secretName),
    'the pods are told the Secret name the Role allows',
  );
});

t.test('no wildcards, no cluster-wide secrets, no escalation verbs, in any mode', async (t) => {
  for (const mode of ['self-managed', 'cert-manager', 'secret']) {
    const values = mode === 'secret' ? { tls: { mode, secret: { name: 'mine' } } } : { tls: { mode } };
    const objects = render({ values });
    for (const role of [...all(objects, 'ClusterRole'), ...all(objects, 'Role')]) {
      for (const rule of rulesOf(role)) {
        for (const field of [rule.apiGroups, rule.resources, rule.verbs]) t.notOk(field.includes('*'), `${mode} ${role.metadata.name}: no *`);
        t.notOk(rule.verbs.some((v) => ['deletecollection', 'escalate', 'bind', 'impersonate'].includes(v)), 'no destructive verbs');
        if (rule.verbs.includes('delete')) {
          t.same(rule.resources, ['policyreports', 'clusterpolicyreports'], `${mode} ${role.metadata.name}: delete only on our reports`);
          t.same(rule.resourceNames, ['sidecar-guard'], 'and only those named sidecar-guard');
        }
        if (role.kind === 'ClusterRole') t.notOk(rule.resources.includes('secrets'), `${mode}: no cluster-wide Secret access`);
        if (rule.verbs.includes('patch') || rule.verbs.includes('update')) {
          t.ok((rule.resourceNames ?? []).length > 0, `${mode} ${role.metadata.name}: writes are limited by resourceNames`);
        }
      }
    }
    for (const binding of [...all(objects, 'ClusterRoleBinding'), ...all(objects, 'RoleBinding')]) {
      const subjects = asArray(binding['subjects']).map((s) => asRecord(s));
      t.same(subjects, [{ kind: 'ServiceAccount', name: 'sidecar-guard', namespace: 'sidecar-guard' }], `${binding.metadata.name} binds only our ServiceAccount`);
      const roleRef = asRecord(binding['roleRef']);
      const target = binding.kind === 'RoleBinding' ? 'Role' : 'ClusterRole';
      t.equal(roleRef['kind'], target);
      t.ok(objects.some((o) => o.kind === target && o.metadata.name === roleRef['name']), `${binding.metadata.name} refers to a rendered ${target}`);
    }
  }
});

t.test('cert-manager and secret modes get no Secret or webhook-configuration permissions', async (t) => {
  for (const values of [{ tls: { mode: 'cert-manager' } }, { tls: { mode: 'secret', secret: { name: 'mine' } } }]) {
    const objects = render({ values });
    t.same(all(objects, 'Role').map((o) => o.metadata.name), ['sidecar-guard-reports-lease'], `${values.tls.mode}: no Secret Role (the reports Lease only)`);
    t.same(all(objects, 'ClusterRole').map((o) => o.metadata.name), ['sidecar-guard-cluster-view', 'sidecar-guard-reports'], `${values.tls.mode}: only the cluster view and the reports`);
  }
});

t.test('rbac.create=false renders no RBAC; serviceAccount.create=false uses the named account', async (t) => {
  const objects = render({ values: { rbac: { create: false }, serviceAccount: { create: false, name: 'preexisting' } } });
  for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount']) t.same(all(objects, kind), [], `no ${kind}`);
  t.equal(asRecord(asRecord(asRecord(one(objects, 'Deployment')['spec'])['template'])['spec'])['serviceAccountName'], 'preexisting');
});

t.test('reports: exactly the two report resources of reports.api (named sidecar-guard), the workload lists, and the one Lease', async (t) => {
  const objects = render({ release: 'guard', namespace: 'platform' });
  t.same(rulesOf(one(objects, 'ClusterRole', 'guard-sidecar-guard-reports')), [
    { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports', 'clusterpolicyreports'], verbs: ['list', 'create'] },
    { apiGroups: ['wgpolicyk8s.io'], resources: ['policyreports', 'clusterpolicyreports'], resourceNames: ['sidecar-guard'], verbs: ['get', 'update', 'delete'] },
    { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'], verbs: ['list'] },
    { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: ['list'] },
  ]);
  const lease = one(objects, 'Role', 'guard-sidecar-guard-reports-lease');
  t.equal(lease.metadata.namespace, 'platform', 'the Lease is in the release namespace only');
  t.same(rulesOf(lease), [
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: ['guard-sidecar-guard-reports'], verbs: ['get', 'update'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
  ]);
  const args = asArray(asRecord(asArray(asRecord(asRecord(asRecord(one(objects, 'Deployment')['spec'])['template'])['spec'])['containers'])[0])['args']).map(String);
  t.ok(args.includes('--reports-lease-name=guard-sidecar-guard-reports'), 'the pods campaign for the Lease the Role names');

  const open = render({ values: { reports: { api: 'openreports' } } });
  t.same(rulesOf(one(open, 'ClusterRole', 'sidecar-guard-reports')).slice(0, 2), [
    { apiGroups: ['openreports.io'], resources: ['reports', 'clusterreports'], verbs: ['list', 'create'] },
    { apiGroups: ['openreports.io'], resources: ['reports', 'clusterreports'], resourceNames: ['sidecar-guard'], verbs: ['get', 'update', 'delete'] },
  ], 'openreports: its resources, not the wgpolicyk8s ones');

  const off = render({ values: { reports: { enabled: false } } });
  t.same(all(off, 'ClusterRole').map((o) => o.metadata.name).sort(), ['sidecar-guard-cluster-view', 'sidecar-guard-webhook-ca'], 'reports off: no report or workload permissions');
  t.same(all(off, 'Role').map((o) => o.metadata.name), ['sidecar-guard-tls'], 'and no Lease');
});
