import t from 'tap';
import { describeApiError } from '../../src/kube/api-error.js';
import { rawListPages } from '../../src/kube/list-all.js';
import { pod } from '../support/builders.js';
import { FakeApiServer } from '../support/fake-apiserver.js';

const nameOf = (item: unknown) => (item as { metadata?: { name?: string } }).metadata?.name;

t.test('rawListPages reads raw list pages: limit, continue, label selector, reduced items', async (t) => {
  const server = await new FakeApiServer().start();
  t.teardown(() => server.stop());
  for (let i = 0; i < 5; i++) server.put(pod({ name: `p${i}`, namespace: 'shop', labels: i % 2 === 0 ? { 'sidecar.istio.io/inject': 'true' } : {} }));
  const list = rawListPages(server.kubeConfig(), '/api/v1/pods', (item) => (nameOf(item) === 'p4' ? undefined : nameOf(item)));

  const first = await list({ limit: 2 });
  t.same(first.items, ['p0', 'p1']);
  t.ok(first.continueToken, 'a continue token while more remain');
  t.match(first.resourceVersion, /^\d+$/);
  const second = await list({ limit: 2, continueToken: first.continueToken });
  t.same(second.items, ['p2', 'p3']);
  const last = await list({ limit: 2, continueToken: second.continueToken });
  t.same(last.items, [], 'reduce dropped p4');
  t.equal(last.continueToken, undefined, 'no token on the last page');

  const labelled = rawListPages(server.kubeConfig(), '/api/v1/pods', nameOf, 'sidecar.istio.io/inject');
  t.same((await labelled({ limit: 10 })).items, ['p0', 'p2', 'p4'], 'the label selector goes to the API server');
});

t.test('a refused list rejects with the HTTP code and the API server message, as a typed client would', async (t) => {
  const server = await new FakeApiServer({ served: ['v1'] }).start();
  t.teardown(() => server.stop());
  const list = rawListPages(server.kubeConfig(), '/apis/networking.istio.io/v1/sidecars', nameOf);
  const error = await list({ limit: 10 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.equal((error as { code?: number }).code, 404);
  t.match(describeApiError(error), /^HTTP 404(: .+)?$/);
});
