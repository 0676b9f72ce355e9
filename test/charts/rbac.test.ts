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

  t.same(all(objects, 'ClusterRole').map((o) => o.metadata.name).sort(), ['guard-sidecar-guard-cluster-view', 'guard-sidecar-guard-webhook-ca']);
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

  const role = one(objects, 'Role');
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
        t.notOk(rule.verbs.some((v) => ['delete', 'deletecollection', 'escalate', 'bind', 'impersonate'].includes(v)), 'no destructive verbs');
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
    t.same(all(objects, 'Role'), [], `${values.tls.mode}: no Role`);
    t.same(all(objects, 'ClusterRole').map((o) => o.metadata.name), ['sidecar-guard-cluster-view'], `${values.tls.mode}: only the cluster view`);
  }
});

t.test('rbac.create=false renders no RBAC; serviceAccount.create=false uses the named account', async (t) => {
  const objects = render({ values: { rbac: { create: false }, serviceAccount: { create: false, name: 'preexisting' } } });
  for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount']) t.same(all(objects, kind), [], `no ${kind}`);
  t.equal(asRecord(asRecord(asRecord(one(objects, 'Deployment')['spec'])['template'])['spec'])['serviceAccountName'], 'preexisting');
});
