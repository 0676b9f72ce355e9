/**
 * Hostile bodies: the webhook answers every request with a 4xx error or a valid
 * AdmissionReview, never a 500, a stack trace or a crash. Fixed seed, bounded runs
 * (FUZZ_RUNS / FUZZ_SEED for a longer run, see fuzz-support.ts).
 */
import fc from 'fast-check';
import t from 'tap';
import { controller, injectedPod, MESH_NS, namespace, pod, review, SCOPING, sidecar, type Json } from '../support/builders.js';
import { anyJson, annotationKey, annotationValue, contractViolation, fuzzApp, fuzzParameters, oddString, post, stringMapArb } from './fuzz-support.js';

const CLUSTER = [MESH_NS, SCOPING, namespace('payments', { 'istio.io/rev': 'stable' }), namespace('legacy', { 'istio-injection': 'enabled', 'sidecar-guard.io/mode': 'audit' })];
const app = fuzzApp(CLUSTER);
t.teardown(() => app.close());

const WEBHOOKS = ['/validate', '/mutate'] as const;

/** Well-formed reviews of every kind the webhook handles, as the starting point for corruption. */
const validReview = fc.constantFrom(
  review(pod({ name: 'web', labels: { app: 'web' } })),
  review(injectedPod({ generateName: 'cart-' })),
  review(controller('Deployment', 'web', pod({ labels: { app: 'web' } }), 'shop')),
  review(controller('CronJob', 'nightly', pod({}), 'shop')),
  review(sidecar('shop', 'extra', { selector: { app: 'x' } })),
  review(null, { operation: 'DELETE', oldObject: sidecar('shop', 'default'), kind: 'Sidecar' }),
  review(pod({ name: 'web' }), { operation: 'UPDATE', oldObject: pod({ name: 'web' }) }),
  review(pod({ name: 'x' }), { namespace: 'payments' }),
  review(pod({ name: 'x' }), { namespace: 'legacy' }),
);

/** Every path (as keys) inside a JSON value, arrays included. */
function paths(value: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const path = [...prefix, Array.isArray(value) ? Number(key) : key];
      out.push(path);
      paths(child, path, out);
    }
  }
  return out;
}

function setAt(root: unknown, path: readonly (string | number)[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

/** Posts the payload; returns what is wrong with the answer, or undefined. */
async function problemWith(url: string, payload: string, uid?: string): Promise<string | undefined> {
  const res = await post(app, url, payload);
  const problem = contractViolation({ statusCode: res.statusCode, body: res.body }, uid);
  return problem && `${url}: ${problem}`;
}

/** For properties: throws (so fast-check shrinks and reports the counterexample) when the answer breaks the contract. */
async function holds(url: string, payload: string, uid?: string): Promise<boolean> {
  const problem = await problemWith(url, payload, uid);
  if (problem) throw new Error(problem);
  return true;
}

t.test('arbitrary JSON bodies get 400 or an AdmissionReview', async (t) => {
  await fc.assert(
    fc.asyncProperty(anyJson, fc.constantFrom(...WEBHOOKS), async (body, url) => holds(url, JSON.stringify(body))),
    fuzzParameters(),
  );
});

t.test('arbitrary JSON inside a valid envelope: in request, object, metadata, spec', async (t) => {
  await fc.assert(
    fc.asyncProperty(validReview, fc.constantFrom(...WEBHOOKS), anyJson, fc.constantFrom('request', 'object', 'metadata', 'spec', 'template'), async (base, url, junk, where) => {
      const body = structuredClone(base) as { request: Json & { object: Json | null } };
      const object = body.request.object;
      if (where === 'request') body.request = { ...body.request, object: junk } as typeof body.request;
      else if (where === 'object') body.request.object = junk as Json;
      else if (object && where === 'metadata') object.metadata = junk;
      else if (object && where === 'spec') object.spec = junk;
      else if (object && where === 'template') object.spec = { template: junk, jobTemplate: { spec: { template: junk } } };
      return holds(url, JSON.stringify(body), body.request.uid as string);
    }),
    fuzzParameters(),
  );
});

t.test('truncated bodies get 400, never 500', async (t) => {
  await fc.assert(
    fc.asyncProperty(validReview, fc.constantFrom(...WEBHOOKS), fc.double({ min: 0, max: 1, noNaN: true }), async (body, url, at) => {
      const text = JSON.stringify(body);
      const cut = text.slice(0, Math.floor(text.length * at));
      const res = await post(app, url, cut);
      t.ok(res.statusCode === 400 || (cut === text && res.statusCode === 200), `truncated at ${cut.length}/${text.length}: HTTP ${res.statusCode}`);
      return holds(url, cut);
    }),
    fuzzParameters(),
  );
});

t.test('a wrong type (or nothing) in any field of a valid review', async (t) => {
  const replacement = fc.oneof(anyJson, fc.constant(undefined), fc.constantFrom(null, 0, -1, 1e308, true, '', [], {}, 'CREATE', '0'));
  await fc.assert(
    fc.asyncProperty(
      validReview.chain((body) => fc.tuple(fc.constant(body), fc.constantFrom(...paths(body)))),
      fc.constantFrom(...WEBHOOKS),
      replacement,
      async ([body, path], url, value) => {
        const changed = setAt(body, path, value);
        const uid = (changed as { request?: { uid?: unknown } }).request?.uid;
        return holds(url, JSON.stringify(changed), typeof uid === 'string' && uid !== '' ? uid : undefined);
      },
    ),
    fuzzParameters(2),
  );
});

t.test('odd labels, annotations and names on pods, controllers and namespaces', async (t) => {
  const containers = fc.array(
    fc.record({ name: fc.oneof(fc.constantFrom('istio-proxy', 'app', ''), oddString), resources: fc.option(fc.record({ requests: stringMapArb, limits: stringMapArb }), { nil: undefined }) }, { requiredKeys: ['name'] }),
    { maxLength: 4 },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.record({ labels: stringMapArb, annotations: stringMapArb, name: oddString, containers, initContainers: containers, hostNetwork: fc.boolean() }),
      fc.constantFrom('Pod', 'Deployment', 'CronJob'),
      fc.constantFrom('shop', 'payments', 'legacy', 'kube-system', '', 'ns/with/slash', '漢字'),
      fc.constantFrom(...WEBHOOKS),
      async (shape, kind, ns, url) => {
        const object = pod({ name: shape.name, labels: shape.labels, annotations: shape.annotations, containers: shape.containers, initContainers: shape.initContainers, hostNetwork: shape.hostNetwork });
        const body = review(kind === 'Pod' ? object : controller(kind, shape.name || 'w', object, ns), { namespace: ns });
        return holds(url, JSON.stringify(body), (body.request as Json).uid as string);
      },
    ),
    fuzzParameters(2),
  );
});

t.test('odd namespace labels and annotations in the cluster view', async (t) => {
  await fc.assert(
    fc.asyncProperty(stringMapArb, stringMapArb, fc.constantFrom(...WEBHOOKS), async (labels, annotations, url) => {
      const local = fuzzApp([namespace('shop', { 'istio-injection': 'enabled', ...labels }, annotations), SCOPING]);
      try {
        const body = review(pod({ generateName: 'web-', labels: { app: 'web' } }));
        const res = await post(local, url, JSON.stringify(body));
        const problem = contractViolation({ statusCode: res.statusCode, body: res.body }, (body.request as Json).uid as string);
        if (problem) t.fail(problem, { labels, annotations });
        return problem === undefined && res.statusCode === 200;
      } finally {
        await local.close();
      }
    }),
    fuzzParameters(0.5),
  );
});

t.test('huge and deeply nested objects', async (t) => {
  const base = review(pod({ generateName: 'web-' }));
  // Built as text: the test's own JSON.stringify would overflow the stack at these depths.
  const nest = (depth: number): string => {
    let open = '';
    let close = '';
    for (let i = 0; i < depth; i++) {
      open += i % 2 === 0 ? '{"a":' : '[';
      close = (i % 2 === 0 ? '}' : ']') + close;
    }
    return `${open}"leaf"${close}`;
  };
  const text = JSON.stringify(base);
  const uid = (base.request as Json).uid as string;
  for (const depth of [100, 10_000, 100_000]) {
    const deep = nest(depth);
    const variants = {
      spec: text.replace('"spec":{', `"spec":{"deep":${deep},`),
      annotations: text.replace('"metadata":{', `"metadata":{"annotations":{"deep":${deep}},`),
      containers: text.replace('"containers":[', `"containers":[{"name":"istio-proxy","resources":{"limits":{"cpu":${deep}}}},`),
      object: text.replace('"object":{', `"object":{"deep":${deep},`),
    };
    for (const [where, payload] of Object.entries(variants)) {
      t.not(payload, text, `${where} variant built`);
      for (const url of WEBHOOKS) t.notOk(await problemWith(url, payload, uid), `depth ${depth} in ${where} ${url}`);
    }
  }
  const wide = structuredClone(base) as { request: { uid: string; object: { metadata: Json; spec: Json } } };
  wide.request.object.metadata.annotations = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}.example.com/a`, 'v'.repeat(20)]));
  wide.request.object.spec.containers = Array.from({ length: 5_000 }, (_, i) => ({ name: i === 4_999 ? 'istio-proxy' : `c${i}` }));
  for (const url of WEBHOOKS) t.notOk(await problemWith(url, JSON.stringify(wide), wide.request.uid), `50k annotations and 5k containers ${url}`);
  const longString = structuredClone(base) as { request: { uid: string; object: { metadata: Json } } };
  longString.request.object.metadata.annotations = { 'sidecar.istio.io/proxyCPU': '1'.repeat(1_000_000), 'sidecar-guard.io/profile': 'x'.repeat(1_000_000) };
  for (const url of WEBHOOKS) t.notOk(await problemWith(url, JSON.stringify(longString), longString.request.uid), `megabyte annotation values ${url}`);
});

t.test('duplicate keys, empty keys and odd key spellings in the JSON text', async (t) => {
  const base = JSON.stringify(review(pod({ generateName: 'web-', annotations: { a: 'b' } })));
  const variants = [
    base.replace('"annotations":{', '"annotations":{"sidecar.istio.io/proxyCPU":"1","sidecar.istio.io/proxyCPU":"999",'),
    base.replace('"annotations":{', '"annotations":{"":"","":"x",'),
    base.replace('"metadata":{', '"metadata":{"annotations":5,'),
    base.replace('"request":{', '"request":{"uid":"first",'),
    base.replace('"kind":"AdmissionReview"', '"kind":"AdmissionReview","kind":"AdmissionReview"'),
    base.replace('"annotations":{', '"annotations":{"constructor":{"prototype":{"x":1}},'),
    base.replace('"annotations":{', '"annotations":{"\\u0000\\ud800":"\\udfff",'),
    `\ufeff${base}`,
    ` \n\t${base}\n `,
  ];
  for (const [i, payload] of variants.entries()) {
    for (const url of WEBHOOKS) {
      const res = await post(app, url, payload);
      const problem = contractViolation({ statusCode: res.statusCode, body: res.body }, undefined);
      t.notOk(problem, `variant ${i} ${url}: ${problem ?? 'ok'} (HTTP ${res.statusCode})`);
    }
  }
});

t.test('the server is still answering after all of that', async (t) => {
  const body = review(pod({ generateName: 'web-', labels: { app: 'web' } }));
  const res = await post(app, '/mutate', JSON.stringify(body));
  t.equal(res.statusCode, 200);
  t.equal(res.json().response.uid, (body.request as Json).uid);
});

// Keep the arbitraries referenced by name for readers tuning them.
void annotationKey;
void annotationValue;
