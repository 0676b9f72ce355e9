import t from 'tap';
import { BUILT_IN_CONFIG } from '../../src/config/load-config.js';
import { buildApp } from '../../src/http/app.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { applyJsonPatch, decodePatch } from '../support/apply-patch.js';
import { MESH_NS, NOW, SCOPING, pod, review, type Json } from '../support/builders.js';
import { MemoryView } from '../support/memory-view.js';

function setup(objects: Json[] = [MESH_NS]) {
  const view = new MemoryView(objects);
  const metrics = createMetrics({ defaultMetrics: false });
  let ready = true;
  const app = buildApp({ config: () => BUILT_IN_CONFIG, view, metrics, now: () => NOW, readiness: () => (ready ? { ready } : { ready, reason: 'draining' }) });
  return { app, view, metrics, setReady: (value: boolean) => (ready = value) };
}

const post = (app: ReturnType<typeof setup>['app'], url: string, payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url, payload: typeof payload === 'string' ? payload : JSON.stringify(payload), headers: { 'content-type': 'application/json', ...headers } });

t.test('validate echoes uid, apiVersion and kind and denies with 403 Forbidden', async (t) => {
  const { app } = setup();
  const body = review(pod({ name: 'web' }), { uid: 'd5e1c1e0-5b7a-4b8a-9f5e-0c1f3f1b2a10' });
  const res = await post(app, '/validate', body);
  t.equal(res.statusCode, 200);
  const json = res.json();
  t.equal(json.apiVersion, 'admission.k8s.io/v1');
  t.equal(json.kind, 'AdmissionReview');
  t.equal(json.response.uid, 'd5e1c1e0-5b7a-4b8a-9f5e-0c1f3f1b2a10');
  t.equal(json.response.allowed, false);
  t.same([json.response.status.code, json.response.status.reason, json.response.status.status], [403, 'Forbidden', 'Failure']);
  t.notOk('patch' in json.response, 'a validating answer never carries a patch');
  t.same(json.response.auditAnnotations.decision, 'denied');
  t.equal(res.headers['content-type'], 'application/json; charset=utf-8', 'the API server reads the answer as JSON');
});

t.test('mutate returns a base64 JSONPatch that applies cleanly', async (t) => {
  const { app } = setup([MESH_NS, SCOPING]);
  const object = pod({ generateName: 'web-', labels: { app: 'web' } });
  const res = await post(app, '/mutate', review(object));
  const json = res.json();
  t.equal(json.response.allowed, true);
  t.equal(json.response.patchType, 'JSONPatch');
  const patched = applyJsonPatch(object, decodePatch(json.response.patch)) as { metadata: { annotations: Json } };
  t.equal(patched.metadata.annotations['sidecar.istio.io/proxyMemoryLimit'], '256Mi');
  t.equal(patched.metadata.annotations['sidecar-guard.io/applied-profile'], 'medium');
  const again = (await post(app, '/mutate', review(patched))).json();
  t.notOk('patch' in again.response, 'idempotent: no second patch');
  t.notOk('patchType' in again.response, 'and no patchType without a patch');
});

t.test('bad bodies get a 400 naming what is wrong, and the server keeps serving', async (t) => {
  const { app, metrics } = setup();
  const good = review(pod({}));
  const cases: [string, unknown, RegExp][] = [
    ['malformed JSON', '{"kind": "AdmissionReview", ', /^body is not valid JSON$/],
    ['empty body', '', /empty/],
    ['a JSON array', '[]', /body must be object/],
    ['wrong apiVersion', { ...good, apiVersion: 'admission.k8s.io/v1beta1' }, /apiVersion must be "admission.k8s.io\/v1"/],
    ['wrong kind', { ...good, kind: 'Pod' }, /kind must be "AdmissionReview"/],
    ['no request', { kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' }, /request is required/],
    ['missing uid', { ...good, request: { ...(good.request as Json), uid: undefined } }, /request.uid is required/],
    ['empty uid', { ...good, request: { ...(good.request as Json), uid: '' } }, /request.uid must NOT have fewer than 1 characters/],
    ['numeric uid', { ...good, request: { ...(good.request as Json), uid: 42 } }, /request.uid must be string/],
    ['unknown operation', { ...good, request: { ...(good.request as Json), operation: 'PATCH' } }, /request.operation must be one of/],
    ['labels not strings', { ...good, request: { ...(good.request as Json), object: { metadata: { labels: { a: 1 } } } } }, /request.object.metadata.labels.a must be string/],
    ['CREATE without object', { ...good, request: { ...(good.request as Json), object: null } }, /request.object is required for CREATE/],
    ['prototype poisoning', '{"kind":"AdmissionReview","__proto__":{"x":1}}', /not valid JSON/],
  ];
  for (const [name, payload, message] of cases) {
    for (const url of ['/validate', '/mutate']) {
      const res = await post(app, url, payload);
      t.equal(res.statusCode, 400, `${name} ${url}`);
      t.match(res.json().message, message, `${name} ${url}`);
      t.notMatch(res.body, /at .*\.ts:\d+/, 'no stack trace');
    }
  }
  const wrongType = await post(app, '/validate', '<x/>', { 'content-type': 'application/xml' });
  t.equal(wrongType.statusCode, 415);
  t.match(wrongType.json().message, /application\/json/);
  const huge = await post(app, '/validate', JSON.stringify({ pad: 'x'.repeat(8 * 1024 * 1024) }));
  t.equal(huge.statusCode, 413);
  t.match(huge.json().message, /7 MiB/);
  const afterwards = await post(app, '/validate', good);
  t.equal(afterwards.statusCode, 200, 'still serving');
  t.match(await metrics.registry.metrics(), /sidecar_guard_rejected_reviews_total\{webhook="validate",code="SG_ERR_BAD_REVIEW"\} \d+/);
});

t.test('health, readiness and metrics', async (t) => {
  const { app, view, setReady } = setup([MESH_NS, SCOPING]);
  t.equal((await app.inject('/healthz')).statusCode, 200);
  t.equal((await app.inject('/readyz')).statusCode, 200);
  setReady(false);
  const draining = await app.inject('/readyz');
  t.same([draining.statusCode, draining.json().reason], [503, 'draining']);
  view.synced = false;
  await post(app, '/mutate', review(pod({}), { dryRun: true }));
  await post(app, '/validate', review(pod({})));
  const metrics = (await app.inject('/metrics')).body;
  t.match(metrics, /sidecar_guard_decisions_total\{webhook="mutate",verdict="allowed",reason="CLUSTER_VIEW_NOT_SYNCED",mode="enforce",dry_run="true"\} 1/);
  t.match(metrics, /sidecar_guard_decision_duration_seconds_bucket\{le="0.005",webhook="validate"\} 1/);
  t.equal((await app.inject('/nope')).statusCode, 404);
});

t.test('exemptions are counted and audit mode counts violations', async (t) => {
  const exempted = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'legacy',
      labels: { 'istio-injection': 'enabled', 'sidecar-guard.io/mode': 'audit' },
      annotations: { 'sidecar-guard.io/exempt': 'resources', 'sidecar-guard.io/exempt-reason': 'VPA sizes these' },
    },
  };
  const { app, metrics } = setup([exempted]);
  const res = (await post(app, '/validate', review(pod({ name: 'web' }), { namespace: 'legacy' }))).json();
  t.equal(res.response.allowed, true, 'audit never denies');
  t.match(res.response.warnings.join('\n'), /\[audit\] enforce would deny/);
  t.equal(res.response.auditAnnotations.decision, 'would-deny');
  for (const key of Object.keys(res.response.auditAnnotations)) {
    t.ok(/^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(key) && key.length <= 63, `audit key ${key} is a qualified name`);
  }
  await post(app, '/mutate', review(pod({ name: 'web' }), { namespace: 'legacy' }));
  const text = await metrics.registry.metrics();
  t.match(text, /sidecar_guard_decisions_total\{webhook="validate",verdict="audit_violation",reason="MISSING_SIDECAR",mode="audit",dry_run="false"\} 1/);
  t.match(text, /sidecar_guard_exemptions_total\{webhook="mutate",target="namespace",kind="resources",dry_run="false"\} 1/);
});

t.test('warnings carry no control characters', async (t) => {
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'istio-injection': 'enabled', 'sidecar-guard.io/mode': 'audit' } } };
  const { app } = setup([ns]);
  const res = (await post(app, '/mutate', review(pod({ annotations: { 'sidecar-guard.io/profile': 'bad\nname\u0007' } })))).json();
  t.ok(res.response.warnings.length > 0);
  for (const warning of res.response.warnings as string[]) t.notMatch(warning, /[\u0000-\u001f\u007f]/);
});

t.test('HTTP edges: 415 for anything but JSON, 405 with Allow for other methods, every one counted', async (t) => {
  const { app, metrics } = setup();
  const good = JSON.stringify(review(pod({})));
  for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'application/jsonx']) {
    const res = await app.inject({ method: 'POST', url: '/validate', payload: good, headers: { 'content-type': type } });
    t.equal(res.statusCode, 415, type);
    t.same(res.json(), { error: 'SG_ERR_MEDIA_TYPE', message: 'Content-Type must be application/json' }, type);
  }
  const untyped = await app.inject({ method: 'POST', url: '/mutate', payload: good, headers: { 'content-type': '' } });
  t.equal(untyped.statusCode, 415, 'no content type');
  t.equal((await post(app, '/mutate', good, { 'content-type': 'application/json; charset=utf-8' })).statusCode, 200, 'JSON with a charset is JSON');
  for (const url of ['/validate', '/mutate']) {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'] as const) {
      const res = await app.inject({ method, url });
      t.equal(res.statusCode, 405, `${method} ${url}`);
      t.equal(res.headers.allow, 'POST', `${method} ${url} says what is allowed`);
      if (method !== 'HEAD') t.match(res.json().message, new RegExp(`${method} is not allowed on ${url}: send POST`));
    }
  }
  await post(app, '/validate', '{"kind": ');
  await post(app, '/mutate', JSON.stringify({ pad: 'x'.repeat(8 * 1024 * 1024) }));
  const text = await metrics.registry.metrics();
  const count = (webhook: string, code: string) => Number(new RegExp(`sidecar_guard_rejected_reviews_total\\{webhook="${webhook}",code="${code}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  t.equal(count('validate', 'SG_ERR_MEDIA_TYPE'), 4);
  t.equal(count('mutate', 'SG_ERR_MEDIA_TYPE'), 1);
  t.equal(count('validate', 'SG_ERR_METHOD'), 6);
  t.equal(count('mutate', 'SG_ERR_METHOD'), 6);
  t.equal(count('validate', 'SG_ERR_BAD_JSON'), 1);
  t.equal(count('mutate', 'SG_ERR_TOO_LARGE'), 1);
  t.equal((await app.inject('/nope')).statusCode, 404, 'other paths are still 404');
  t.notMatch(text, /webhook="undefined"/);
});
