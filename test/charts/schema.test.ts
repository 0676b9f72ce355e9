/**
 * helm lint --strict and helm template for each TLS mode and edge values, and every rendered
 * object validated against the Kubernetes (and cert-manager / prometheus-operator) schemas.
 */
import t from 'tap';
import { lint, one, render, type K8sObject } from './helm.js';
import { unknownFields, validateObject } from './k8s-schema.js';
import { SCENARIOS } from './scenarios.js';

t.test('the validator itself catches typos and wrong types (so a pass means something)', async (t) => {
  const objects = render();
  const deployment = structuredClone(one(objects, 'Deployment'));
  t.same(validateObject(deployment), [], 'the rendered Deployment is valid');

  const typo = structuredClone(deployment);
  (typo.spec as Record<string, unknown>)['replicsa'] = 3;
  t.match(validateObject(typo).join('\n'), /\.spec\.replicsa: unknown field of V1DeploymentSpec/);

  const wrongType = structuredClone(deployment);
  (wrongType.spec as Record<string, unknown>)['replicas'] = 'three';
  t.match(validateObject(wrongType).join('\n'), /replicas must be integer/);

  const webhook = structuredClone(one(objects, 'ValidatingWebhookConfiguration'));
  const entries = webhook['webhooks'] as Record<string, unknown>[];
  (entries[0] as Record<string, unknown>)['matchCondition'] = [];
  t.match(validateObject(webhook).join('\n'), /webhooks\[0\]\.matchCondition: unknown field/);

  t.same(unknownFields({ name: 'x', image: 'y', imagePullPolicy: 'Always' }, 'V1Container'), []);
  t.same(validateObject({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } } as K8sObject), [
    'example.com/v1/Thing: no schema known to the tests',
  ]);
});

for (const [name, options] of Object.entries(SCENARIOS)) {
  t.test(`scenario: ${name}`, async (t) => {
    const linted = lint(options.values, options.kubeVersion);
    t.equal(linted.code, 0, `helm lint --strict passes\n${linted.stdout}${linted.stderr}`);
    t.match(linted.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);

    const objects = render(options);
    for (const kind of ['ConfigMap', 'Service', 'Deployment', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
      t.equal(objects.filter((o) => o.kind === kind).length, 1, `renders one ${kind}`);
    }
    for (const object of objects) {
      t.same(validateObject(object), [], `${object.kind} ${object.metadata.name} matches its schema`);
    }
    const seen = new Set<string>();
    for (const object of objects) {
      const key = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
      t.notOk(seen.has(key), `${key} is rendered once`);
      seen.add(key);
    }
  });
}
