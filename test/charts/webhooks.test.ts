/**
 * The webhook configurations: name ordering against Istio's injector (Go byte order), mesh-only
 * namespace selectors (evaluated against real label sets), rules, policies and matchConditions.
 */
import t from 'tap';
import { asArray, asRecord, get, one, render, template, type K8sObject } from './helm.js';

interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** Kubernetes label selector semantics (matchExpressions are ANDed; NotIn matches an absent key). */
function selects(selector: unknown, labels: Record<string, string>): boolean {
  const expressions = (get(selector, 'matchExpressions') ?? []) as Requirement[];
  const matchLabels = (get(selector, 'matchLabels') ?? {}) as Record<string, string>;
  const byLabels = Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
  return (
    byLabels &&
    expressions.every((r) => {
      const has = Object.hasOwn(labels, r.key);
      switch (r.operator) {
        case 'In':
          return has && (r.values ?? []).includes(labels[r.key] as string);
        case 'NotIn':
          return !has || !(r.values ?? []).includes(labels[r.key] as string);
        case 'Exists':
          return has;
        case 'DoesNotExist':
          return !has;
      }
    })
  );
}

/** Go's string < (byte-wise), which kube-apiserver uses to order mutating configurations. */
const goLess = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;

const webhooksOf = (o: K8sObject) => asArray(o['webhooks']).map((w) => asRecord(w));
const ns = (name: string, labels: Record<string, string> = {}) => ({ 'kubernetes.io/metadata.name': name, ...labels });

const ISTIO_INJECTORS = [
  'istio-revision-tag-default',
  'istio-revision-tag-canary-istio-system',
  'istio-revision-tag',
  'istio-sidecar-injector',
  'istio-sidecar-injector-1-24-2',
  'istio-sidecar-injector-canary-istio-ops',
];

t.test('the mutating configuration sorts before every Istio injector configuration', async (t) => {
  for (const options of [{}, { release: 'guard' }, { values: { fullnameOverride: 'zz-top' } }]) {
    const name = one(render(options), 'MutatingWebhookConfiguration').metadata.name;
    t.match(name, /^00-/, `default name ${name}`);
    for (const istio of ISTIO_INJECTORS) t.ok(goLess(name, istio), `${name} < ${istio}`);
    // And it is what the apiserver would run first among them.
    const sorted = [...ISTIO_INJECTORS, name].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    t.equal(sorted[0], name);
  }
  t.equal(one(render({ values: { webhook: { mutating: { name: 'istio-proxy-sizer' } } } }), 'MutatingWebhookConfiguration').metadata.name, 'istio-proxy-sizer');
});

t.test('the chart refuses a mutating name that sorts after (or equal to) an Istio injector', async (t) => {
  for (const name of ['sidecar-guard', 'istio-revision-tag', 'istio-revision-tag-zz', 'istio-sidecar-injector-0', 'istio-z', 'z']) {
    const result = template({ values: { webhook: { mutating: { name } } } });
    t.not(result.code, 0, `${name} is refused`);
    t.match(result.stderr, `webhook.mutating.name "${name}" sorts after Istio's injector`);
    t.match(result.stderr, /reinvocationPolicy=IfNeeded/);
  }
  for (const name of ['a-sidecar-guard', 'istio-proxy-sizer', 'istio-revision-ta', 'hooks.example.com']) {
    t.equal(template({ values: { webhook: { mutating: { name } } } }).code, 0, `${name} is accepted`);
  }
  const optOut = template({ values: { webhook: { mutating: { name: 'sidecar-guard', istioReinvocationIfNeeded: true } } } });
  t.equal(optOut.code, 0, 'accepted when Istio reinvokes its injector (IfNeeded)');
});

t.test('selectors: exactly one entry per rule for mesh namespaces, none for the rest', async (t) => {
  const objects = render({ namespace: 'guard-system' });
  const mutating = webhooksOf(one(objects, 'MutatingWebhookConfiguration'));
  const validating = webhooksOf(one(objects, 'ValidatingWebhookConfiguration'));
  const cases: [string, Record<string, string>, boolean][] = [
    ['injection enabled', ns('shop', { 'istio-injection': 'enabled' }), true],
    ['revision label', ns('pay', { 'istio.io/rev': 'canary' }), true],
    ['revision and injection enabled', ns('both', { 'istio.io/rev': 'canary', 'istio-injection': 'enabled' }), true],
    ['injection disabled wins over revision', ns('off', { 'istio.io/rev': 'canary', 'istio-injection': 'disabled' }), false],
    ['no mesh labels', ns('plain'), false],
    ['ignored by label', ns('legacy', { 'istio-injection': 'enabled', 'sidecar-guard.io/ignore': 'true' }), false],
    ['kube-system', ns('kube-system', { 'istio-injection': 'enabled' }), false],
    ['istio-system', ns('istio-system', { 'istio.io/rev': 'default' }), false],
    ['the release namespace', ns('guard-system', { 'istio-injection': 'enabled' }), false],
    ['kube-public', ns('kube-public', { 'istio-injection': 'enabled' }), false],
  ];
  const namespaceEntry = (w: Record<string, unknown>) => !String(w['name']).startsWith('pod-');
  for (const [groupName, entries] of [
    ['mutating pods', mutating.filter(namespaceEntry)],
    ['validating pods', validating.filter((w) => String(w['name']).includes('.pods.') && namespaceEntry(w))],
    ['validating pod updates', validating.filter((w) => String(w['name']).includes('.pod-updates.'))],
    ['validating workloads', validating.filter((w) => String(w['name']).includes('.workloads.') && namespaceEntry(w))],
    // The unlabelled namespaces' Sidecar entry has its own test below.
    ['validating sidecars', validating.filter((w) => String(w['name']).includes('.sidecars.') && namespaceEntry(w))],
  ] as const) {
    t.equal(entries.length, 2, `${groupName}: an injection and a revision entry`);
    for (const [label, labels, meshed] of cases) {
      const matching = entries.filter((w) => selects(w['namespaceSelector'], labels));
      t.equal(matching.length, meshed ? 1 : 0, `${groupName}: ${label}`);
    }
  }
});

t.test('controllers whose pod template opts in on its own: one entry, unlabelled namespaces only, needs matchConditions', async (t) => {
  const entries = (kubeVersion?: string) => webhooksOf(one(render(kubeVersion ? { kubeVersion } : {}), 'ValidatingWebhookConfiguration')).filter((w) => w['name'] === 'pod-opt-in.workloads.validate.sidecar-guard.io');
  const [entry] = entries();
  t.ok(entry, 'rendered on a cluster with matchConditions');
  t.notOk(selects(entry?.['namespaceSelector'], { 'istio-injection': 'enabled' }), 'not in mesh namespaces (the namespace entries have them)');
  t.notOk(selects(entry?.['namespaceSelector'], { 'istio.io/rev': 'canary' }));
  t.notOk(selects(entry?.['namespaceSelector'], { 'istio-injection': 'disabled' }), 'Istio injects nothing where injection is disabled');
  t.ok(selects(entry?.['namespaceSelector'], { 'kubernetes.io/metadata.name': 'team-a' }), 'an unlabelled namespace');
  const conditions = (entry?.['matchConditions'] ?? []) as { name: string; expression: string }[];
  t.same(conditions.map((c) => c.name), ['pod-template-changed', 'pod-template-opts-in']);
  for (const path of ['object.spec.template.metadata.labels', 'object.spec.jobTemplate.spec.template.metadata.labels']) {
    t.match(conditions[1]?.expression, `${path}['sidecar.istio.io/inject'] == 'true'`, `${path}: the opt-in label`);
    t.match(conditions[1]?.expression, `'istio.io/rev' in ${path}`, `${path}: a revision label`);
  }
  t.same(entries('1.29.0'), [], 'without matchConditions the entry would send every controller in every unlabelled namespace: not rendered');
});

t.test('mutating entries: pods CREATE, opted-out pods skipped, Ignore by default', async (t) => {
  const entries = webhooksOf(one(render(), 'MutatingWebhookConfiguration'));
  t.same(
    entries.map((w) => w['name']),
    ['injection', 'revision', 'pod-inject', 'pod-revision'].map((k) => `${k}.pods.mutate.sidecar-guard.io`),
  );
  for (const w of entries.filter((e) => !String(e['name']).startsWith('pod-'))) {
    t.same(w['rules'], [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'], scope: 'Namespaced' }]);
    t.equal(get(w, 'clientConfig', 'service', 'path'), '/mutate');
    t.equal(w['failurePolicy'], 'Ignore');
    t.equal(w['reinvocationPolicy'], 'Never');
    t.equal(w['sideEffects'], 'None');
    t.same(w['admissionReviewVersions'], ['v1']);
    t.equal(w['timeoutSeconds'], 5);
    t.notOk(selects(w['objectSelector'], { 'sidecar.istio.io/inject': 'false' }), 'opted-out pod skipped');
    t.ok(selects(w['objectSelector'], {}), 'unlabelled pod called');
    t.ok(selects(w['objectSelector'], { 'sidecar.istio.io/inject': 'true' }), 'opted-in pod called');
  }
});

t.test('validating entries: pods, workload controllers and Sidecars, Fail by default', async (t) => {
  const entries = webhooksOf(one(render(), 'ValidatingWebhookConfiguration'));
  const byName = new Map(entries.map((w) => [String(w['name']), w]));
  t.same(
    [...byName.keys()].sort(),
    [
      ...['pods', 'pod-updates', 'workloads', 'sidecars'].flatMap((r) => [`injection.${r}.validate.sidecar-guard.io`, `revision.${r}.validate.sidecar-guard.io`]),
      'pod-inject.pods.validate.sidecar-guard.io',
      'pod-revision.pods.validate.sidecar-guard.io',
      'pod-opt-in.workloads.validate.sidecar-guard.io',
      'pod-opt-in.sidecars.validate.sidecar-guard.io',
    ].sort(),
  );
  for (const kind of ['injection', 'revision']) {
    const create = byName.get(`${kind}.pods.validate.sidecar-guard.io`);
    const update = byName.get(`${kind}.pod-updates.validate.sidecar-guard.io`);
    t.same(get(create, 'rules'), [
      { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'], scope: 'Namespaced' },
    ], `${kind}: pod CREATE on an entry of its own`);
    t.notOk(create && 'matchConditions' in create, `${kind}: no matchConditions on CREATE (any would make the API server convert every new pod for CEL)`);
    t.same(get(update, 'rules'), [
      { apiGroups: [''], apiVersions: ['v1'], resources: ['pods', 'pods/status'], operations: ['UPDATE'], scope: 'Namespaced' },
    ], `${kind}: pod and pods/status UPDATE (narrowed to label changes by matchConditions; pods/status can rewrite labels)`);
    t.same(get(update, 'namespaceSelector'), get(create, 'namespaceSelector'), `${kind}: both in the same namespaces`);
    t.equal(get(update, 'clientConfig', 'service', 'path'), '/validate');
  }
  for (const kind of ['pod-inject', 'pod-revision']) {
    t.same(get(byName.get(`${kind}.pods.validate.sidecar-guard.io`), 'rules'), [
      { apiGroups: [''], apiVersions: ['v1'], resources: ['pods', 'pods/status'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' },
    ], `${kind}: pod and pods/status UPDATE too (narrowed to label changes by matchConditions; pods/status can rewrite labels)`);
  }
  for (const kind of ['injection', 'revision']) {
    t.same(get(byName.get(`${kind}.workloads.validate.sidecar-guard.io`), 'rules'), [
      { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments', 'statefulsets', 'daemonsets', 'replicasets'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' },
      { apiGroups: ['batch'], apiVersions: ['v1'], resources: ['jobs', 'cronjobs'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' },
    ]);
  }
  for (const kind of ['injection', 'revision', 'pod-opt-in']) {
    t.same(get(byName.get(`${kind}.sidecars.validate.sidecar-guard.io`), 'rules'), [
      { apiGroups: ['networking.istio.io'], apiVersions: ['v1', 'v1beta1', 'v1alpha3'], resources: ['sidecars'], operations: ['CREATE', 'UPDATE', 'DELETE'], scope: 'Namespaced' },
    ]);
  }
  for (const w of entries) {
    t.equal(w['failurePolicy'], 'Fail', `${w['name']} fails closed`);
    t.equal(w['sideEffects'], 'None');
    t.same(w['admissionReviewVersions'], ['v1']);
    t.notOk('reinvocationPolicy' in w, 'validating entries have no reinvocationPolicy');
    t.equal(get(w, 'clientConfig', 'service', 'path'), '/validate');
    if (!String(w['name']).startsWith('pod-')) t.notOk('objectSelector' in w, 'namespace entries see every object in mesh namespaces');
  }
});

t.test('entry names are DNS subdomains with at least three segments, unique per configuration', async (t) => {
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    const names = webhooksOf(one(render(), kind)).map((w) => String(w['name']));
    t.equal(new Set(names).size, names.length);
    for (const name of names) t.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?){2,}$/);
  }
});

t.test('clientConfig points at the chart Service and its port', async (t) => {
  const objects = render({ release: 'guard', namespace: 'platform' });
  const service = one(objects, 'Service');
  const port = get(service, 'spec', 'ports', 0, 'port');
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']) {
    for (const w of webhooksOf(one(objects, kind))) {
      t.same(get(w, 'clientConfig', 'service', 'name'), service.metadata.name);
      t.same(get(w, 'clientConfig', 'service', 'namespace'), 'platform');
      t.same(get(w, 'clientConfig', 'service', 'port'), port);
      t.notOk(get(w, 'clientConfig', 'caBundle'), 'no caBundle rendered in self-managed mode (the pods own it; helm upgrades keep it)');
    }
  }
});

t.test('values drive names, failure policies, timeouts, reinvocation and Sidecar versions', async (t) => {
  const objects = render({
    values: {
      webhook: {
        timeoutSeconds: 3,
        mutating: { name: 'istio-proxy-sizer', failurePolicy: 'Fail', reinvocationPolicy: 'IfNeeded' },
        validating: { name: 'guard-validation', failurePolicy: 'Ignore' },
        sidecarApiVersions: ['v1'],
        excludedNamespaces: ['ops'],
      },
    },
  });
  const mutating = one(objects, 'MutatingWebhookConfiguration', 'istio-proxy-sizer');
  const validating = one(objects, 'ValidatingWebhookConfiguration', 'guard-validation');
  for (const w of webhooksOf(mutating)) {
    t.equal(w['failurePolicy'], 'Fail');
    t.equal(w['reinvocationPolicy'], 'IfNeeded');
    t.equal(w['timeoutSeconds'], 3);
  }
  for (const w of webhooksOf(validating)) {
    t.equal(w['failurePolicy'], 'Ignore');
    t.equal(w['timeoutSeconds'], 3);
    t.notOk(selects(w['namespaceSelector'], ns('ops', { 'istio-injection': 'enabled' })), 'ops excluded');
    t.ok(selects(w['namespaceSelector'], ns('istio-system', { 'istio-injection': 'enabled' })) || /^(revision|pod-)/.test(String(w['name'])), 'istio-system no longer excluded when the list is replaced');
    t.notOk(selects(w['namespaceSelector'], ns('kube-system', { 'istio-injection': 'enabled' })), 'kube-system is always excluded');
  }
  const sidecarEntry = webhooksOf(validating).find((w) => String(w['name']).includes('.sidecars.'));
  t.same(get(sidecarEntry, 'rules', 0, 'apiVersions'), ['v1']);
  // The self-managed pods are told the configured names.
  const env = asArray(get(one(objects, 'Deployment'), 'spec', 'template', 'spec', 'containers', 0, 'env')).map((e) => asRecord(e));
  t.equal(env.find((e) => e['name'] === 'SIDECAR_GUARD_MUTATING_WEBHOOK_CONFIGURATION')?.['value'], 'istio-proxy-sizer');
  t.equal(env.find((e) => e['name'] === 'SIDECAR_GUARD_VALIDATING_WEBHOOK_CONFIGURATION')?.['value'], 'guard-validation');
});

t.test('matchConditions: rendered from Kubernetes 1.30, guarded against errors; pod UPDATE only for label changes', async (t) => {
  const on = webhooksOf(one(render({ kubeVersion: '1.30.0' }), 'ValidatingWebhookConfiguration'));
  for (const w of on) {
    const name = String(w['name']);
    const conditions = (w['matchConditions'] ?? []) as { name: string; expression: string }[];
    // The opt-in controllers' entry adds a second condition, the opt-in pod entries two (their own tests cover them).
    if (/^(injection|revision)\.pods\./.test(name)) {
      t.notOk('matchConditions' in w, `${name}: CREATE only, no condition to evaluate`);
      continue;
    }
    const extra = name.startsWith('pod-opt-in.workloads') ? 1 : /^pod-(inject|revision)\.pods\./.test(name) ? 2 : 0;
    t.equal(conditions.length, 1 + extra, `${name} has its matchConditions`);
    const expression = conditions[0]?.expression ?? '';
    t.match(expression, /^request\.operation != 'UPDATE' \|\|/, 'CREATE and DELETE always call the webhook');
    if (name.includes('.pods.') || name.includes('.pod-updates.')) {
      t.equal(conditions[0]?.name, 'pod-labels-changed');
      t.match(expression, /has\(object\.metadata\.labels\) != has\(oldObject\.metadata\.labels\)/, 'labels added or all removed count as a change');
      t.match(expression, /\(has\(object\.metadata\.labels\) && object\.metadata\.labels != oldObject\.metadata\.labels\)/, 'labels are compared only when present');
      t.notMatch(expression, /spec|annotations/, 'nothing but the labels lets a pod UPDATE through');
      continue;
    }
    t.match(expression, /!has\(object\.spec\) \|\| !has\(oldObject\.spec\)/, 'missing specs call the webhook instead of erroring');
    if (name.includes('.workloads.')) {
      t.match(expression, /object\.spec\.template != oldObject\.spec\.template/);
      t.match(expression, /object\.spec\.jobTemplate != oldObject\.spec\.jobTemplate/, 'CronJobs compare their job template');
    } else {
      t.match(expression, /object\.spec != oldObject\.spec/);
    }
  }
  for (const w of webhooksOf(one(render({ kubeVersion: '1.30.0' }), 'MutatingWebhookConfiguration'))) {
    t.notOk('matchConditions' in w);
    t.same(get(w, 'rules', 0, 'operations'), ['CREATE'], `${w['name']}: mutation is never called on a pod UPDATE`);
  }
  // Without matchConditions a pod UPDATE rule would send every pod update (finalizers, owner
  // references) to a fail-closed webhook: pods are then checked on CREATE only.
  for (const options of [{ kubeVersion: '1.29.9' }, { values: { webhook: { matchConditions: false } } }]) {
    for (const w of webhooksOf(one(render(options), 'ValidatingWebhookConfiguration'))) {
      t.notOk('matchConditions' in w, `${w['name']}: none (${JSON.stringify(options)})`);
      t.notOk(String(w['name']).includes('.pod-updates.'), `${w['name']}: no pod UPDATE entry (${JSON.stringify(options)})`);
      if (String(w['name']).includes('.pods.')) {
        t.same(get(w, 'rules', 0, 'operations'), ['CREATE'], `${w['name']}: no pod UPDATE without them`);
        t.same(get(w, 'rules', 0, 'resources'), ['pods'], `${w['name']}: nor pods/status`);
      }
    }
  }
});

/**
 * The `pod-injected-by-istio` condition of the opt-in pod entries, for a CREATE, read by hand: its
 * CEL is evaluated for real by the API server in test/e2e/suite/tenant-attacks.e2e.ts. Here the
 * expression text is pinned to the selector it stands for (Istio's object selectors, as the
 * mutating entries' objectSelectors state them).
 */
function createCondition(w: Record<string, unknown>, podLabels: Record<string, string>): boolean {
  const condition = ((w['matchConditions'] ?? []) as { name: string; expression: string }[]).find((c) => c.name === 'pod-injected-by-istio');
  if (!condition) return true;
  const inject = podLabels['sidecar.istio.io/inject'];
  const rev = Object.hasOwn(podLabels, 'istio.io/rev');
  if (String(w['name']).startsWith('pod-inject.')) {
    if (!condition.expression.includes("object.metadata.labels['sidecar.istio.io/inject'] == 'true' && !('istio.io/rev' in object.metadata.labels)")) throw new Error('pod-inject CREATE condition changed');
    return inject === 'true' && !rev;
  }
  if (!condition.expression.includes("'istio.io/rev' in object.metadata.labels && !('sidecar.istio.io/inject' in object.metadata.labels && object.metadata.labels['sidecar.istio.io/inject'] == 'false')")) throw new Error('pod-revision CREATE condition changed');
  return rev && inject !== 'false';
}

t.test('opt-in pod entries: UPDATEs of any pod carrying an opt-in label (as the view watches them), CREATE as Istio injects', async (t) => {
  const validating = webhooksOf(one(render(), 'ValidatingWebhookConfiguration')).filter((w) => /^pod-(inject|revision)\.pods\./.test(String(w['name'])));
  t.equal(validating.length, 2);
  const labelSets: Record<string, string>[] = [
    {},
    { 'sidecar.istio.io/inject': 'true' },
    { 'sidecar.istio.io/inject': 'false' },
    { 'sidecar.istio.io/inject': 'yes' },
    { 'istio.io/rev': 'canary' },
    { 'istio.io/rev': 'canary', 'sidecar.istio.io/inject': 'false' },
    { 'istio.io/rev': 'canary', 'sidecar.istio.io/inject': 'true' },
    { app: 'web' },
  ];
  for (const labels of labelSets) {
    const hasKey = Object.hasOwn(labels, 'sidecar.istio.io/inject') || Object.hasOwn(labels, 'istio.io/rev');
    const matching = validating.filter((w) => selects(w['objectSelector'], labels));
    t.equal(matching.length, hasKey ? 1 : 0, `${JSON.stringify(labels)}: ${hasKey ? 'exactly one entry, so a relabel through "false" to no label is sent at every step' : 'none'}`);
  }
  for (const w of validating) {
    const conditions = (w['matchConditions'] ?? []) as { name: string; expression: string }[];
    t.same(conditions.map((c) => c.name), ['pod-labels-changed', 'pod-injected-by-istio', 'pod-runs-proxy'], String(w['name']));
    t.match(conditions[1]?.expression, /^request\.operation != 'CREATE' \|\|\s*\(has\(object\.metadata\.labels\) &&/, 'CREATE narrowed; absent labels guarded');
    t.match(conditions[2]?.expression, /^request\.operation != 'UPDATE' \|\| object\.spec\.containers\.exists\(c, c\.name == 'istio-proxy'\) \|\|\s*\(has\(object\.spec\.initContainers\) && object\.spec\.initContainers\.exists\(c, c\.name == 'istio-proxy'\)\)$/);
  }
  // Without matchConditions there is no UPDATE rule: the entries keep Istio's exact selectors.
  const old = webhooksOf(one(render({ kubeVersion: '1.29.9' }), 'ValidatingWebhookConfiguration')).filter((w) => /^pod-(inject|revision)\.pods\./.test(String(w['name'])));
  t.notOk(old.some((w) => selects(w['objectSelector'], { 'sidecar.istio.io/inject': 'false' })), 'before 1.30: an opted-out pod is not sent');
});

t.test('Sidecars: exactly one entry for every namespace where a proxy can run, including unlabelled ones', async (t) => {
  const entries = webhooksOf(one(render({ namespace: 'guard-system' }), 'ValidatingWebhookConfiguration')).filter((w) => String(w['name']).includes('.sidecars.'));
  const cases: [string, Record<string, string>, number][] = [
    ['istio-injection=enabled', ns('shop', { 'istio-injection': 'enabled' }), 1],
    ['istio.io/rev', ns('shop', { 'istio.io/rev': 'canary' }), 1],
    ['unlabelled (pods may opt in on their own)', ns('team-a'), 1],
    ['istio-injection=disabled (Istio injects nothing there)', ns('off', { 'istio-injection': 'disabled' }), 0],
    ['kube-system', ns('kube-system'), 0],
    ['the release namespace', ns('guard-system'), 0],
    ['the root namespace istio-system (excluded by default: the admin\'s)', ns('istio-system'), 0],
    ['sidecar-guard.io/ignore', ns('legacy', { 'sidecar-guard.io/ignore': 'true' }), 0],
  ];
  for (const [label, labels, count] of cases) t.equal(entries.filter((w) => selects(w['namespaceSelector'], labels)).length, count, label);
  const optIn = entries.find((w) => w['name'] === 'pod-opt-in.sidecars.validate.sidecar-guard.io');
  t.notOk(optIn && 'objectSelector' in optIn, "a Sidecar's own labels do not matter");
  t.same(((optIn?.['matchConditions'] ?? []) as { name: string }[]).map((c) => c.name), ['sidecar-spec-changed'], 'metadata-only UPDATEs skipped');
  const old = webhooksOf(one(render({ kubeVersion: '1.29.9' }), 'ValidatingWebhookConfiguration'));
  t.ok(old.some((w) => w['name'] === 'pod-opt-in.sidecars.validate.sidecar-guard.io'), 'rendered without matchConditions too (no CEL needed)');
});

// Istio's injector webhooks (istio-discovery chart, templates/mutatingwebhook.yaml) select by
// namespace label, or, in a namespace with neither label, by the pod's own labels. Every pod Istio
// injects must reach exactly one entry of each group; pods it does not inject, none.
t.test('pods: one entry for every pod Istio injects (namespace or pod opt-in), none for the rest', async (t) => {
  const objects = render({ namespace: 'guard-system' });
  const groups = {
    mutating: webhooksOf(one(objects, 'MutatingWebhookConfiguration')),
    // Every entry whose rules take a pod CREATE.
    validating: webhooksOf(one(objects, 'ValidatingWebhookConfiguration')).filter((w) =>
      asArray(w['rules']).some((r) => asArray(asRecord(r)['resources']).includes('pods') && asArray(asRecord(r)['operations']).includes('CREATE')),
    ),
  };
  const cases: [string, Record<string, string>, Record<string, string>, boolean | 'validating-only'][] = [
    ['meshed namespace, plain pod', ns('shop', { 'istio-injection': 'enabled' }), {}, true],
    // Validation still sees it (and allows it as opted out): only the mutating entries skip it by selector.
    ['meshed namespace, pod opted out', ns('shop', { 'istio-injection': 'enabled' }), { 'sidecar.istio.io/inject': 'false' }, 'validating-only'],
    ['meshed namespace, pod label yes (Istio injects: only "false" opts out at the selector)', ns('shop', { 'istio-injection': 'enabled' }), { 'sidecar.istio.io/inject': 'yes' }, true],
    ['unlabelled namespace, pod inject=true', ns('plain'), { 'sidecar.istio.io/inject': 'true' }, true],
    ['unlabelled namespace, pod istio.io/rev', ns('plain'), { 'istio.io/rev': 'canary' }, true],
    ['unlabelled namespace, pod inject=true and istio.io/rev', ns('plain'), { 'sidecar.istio.io/inject': 'true', 'istio.io/rev': 'canary' }, true],
    ['unlabelled namespace, pod istio.io/rev but inject=false', ns('plain'), { 'istio.io/rev': 'canary', 'sidecar.istio.io/inject': 'false' }, false],
    ['unlabelled namespace, pod inject=yes (the selector wants "true")', ns('plain'), { 'sidecar.istio.io/inject': 'yes' }, false],
    ['unlabelled namespace, plain pod', ns('plain'), {}, false],
    ['namespace injection disabled, pod inject=true', ns('off', { 'istio-injection': 'disabled' }), { 'sidecar.istio.io/inject': 'true' }, false],
    ['kube-system, pod inject=true', ns('kube-system'), { 'sidecar.istio.io/inject': 'true' }, false],
    ['ignored namespace, pod inject=true', ns('legacy', { 'sidecar-guard.io/ignore': 'true' }), { 'sidecar.istio.io/inject': 'true' }, false],
  ];
  for (const [group, entries] of Object.entries(groups)) {
    for (const [label, nsLabels, podLabels, called] of cases) {
      const matching = entries.filter(
        (w) => selects(w['namespaceSelector'], nsLabels) && (w['objectSelector'] === undefined || selects(w['objectSelector'], podLabels)) && createCondition(w, podLabels),
      );
      const expected = called === 'validating-only' ? group === 'validating' : called;
      t.equal(matching.length, expected ? 1 : 0, `${group}: ${label}`);
    }
  }
});
