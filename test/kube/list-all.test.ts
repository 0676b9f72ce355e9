import t from 'tap';
import { describeApiError } from '../../src/kube/api-error.js';
import { peekContinueToken, rawListPages } from '../../src/kube/list-all.js';
import { pod } from '../support/builders.js';
import { eventually } from '../support/eventually.js';
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

t.test('list pages share one kept-alive connection, and a server restart between pages is survived', async (t) => {
  const server = await new FakeApiServer().start();
  t.teardown(() => server.stop());
  for (let i = 0; i < 6; i++) server.put(pod({ name: `p${i}`, namespace: 'shop' }));
  const kubeConfig = server.kubeConfig();
  const list = rawListPages(kubeConfig, '/api/v1/pods', nameOf);
  const names: unknown[] = [];
  let token: string | undefined;
  do {
    const page = await list({ limit: 2, ...(token ? { continueToken: token } : {}) });
    names.push(...page.items);
    token = page.continueToken;
  } while (token);
  t.same(names, ['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
  t.equal(server.connections, 1, 'three pages over one connection (client-node alone opens one per request)');

  await server.restart();
  t.same((await list({ limit: 10 })).items, names, 'a connection the server closed is not reused');
  t.equal(server.connections, 2);
});

t.test('the next page is asked for while this one is parsed, and used only for the token it was asked with', async (t) => {
  const server = await new FakeApiServer().start();
  t.teardown(() => server.stop());
  for (let i = 0; i < 5; i++) server.put(pod({ name: `p${i}`, namespace: 'shop' }));
  const list = rawListPages(server.kubeConfig(), '/api/v1/pods', nameOf);
  const lists = () => server.requests.filter((r) => r.startsWith('GET /api/v1/pods?'));

  const first = await list({ limit: 2 });
  const withToken = (token: string | undefined) => lists().filter((r) => r.includes(`continue=${encodeURIComponent(token ?? '')}`));
  await eventually(() => withToken(first.continueToken).length === 1, 'page 2 requested before it was asked for, with page 1\'s continue token');
  const second = await list({ limit: 2, continueToken: first.continueToken });
  t.same(second.items, ['p2', 'p3'], 'the prefetched page is the right one');
  await eventually(() => withToken(second.continueToken).length === 1, 'page 3 requested ahead');
  t.equal(withToken(first.continueToken).length, 1, 'page 2 was not fetched again');

  // An abandoned list (a re-list from the start): the page ahead is not used for it.
  server.put(pod({ name: 'p0a', namespace: 'shop' }));
  const again = await list({ limit: 2 });
  t.same(again.items, ['p0', 'p0a'], 'a fresh first page, with the object added since');
  const next = await list({ limit: 2, continueToken: again.continueToken });
  t.same(next.items, ['p1', 'p2']);
  const limited = await list({ limit: 3, continueToken: next.continueToken });
  t.same(limited.items, ['p3', 'p4'], 'another limit than the page ahead was asked with: fetched afresh');
  t.equal(limited.continueToken, undefined);
  await list({ limit: 3 });
  await eventually(() => lists().length === 9, 'the page after a fresh first page is asked for ahead');
  t.equal(lists().filter((r) => !r.includes('continue=')).length, 3, 'three first pages, none of them prefetched');
});

t.test('peekContinueToken reads the token from the metadata before the items, or gives none', async (t) => {
  const items = Array.from({ length: 3 }, (_, i) => ({ metadata: { name: `x${i}`, annotations: { note: '"items":[1]' } } }));
  t.equal(peekContinueToken(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7', continue: 'abc' }, items })), 'abc');
  t.equal(peekContinueToken(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items })), undefined, 'last page');
  t.equal(peekContinueToken(JSON.stringify({ kind: 'PodList', metadata: { continue: '' }, items })), undefined, 'an empty token is none');
  t.equal(peekContinueToken(JSON.stringify({ items, metadata: { continue: 'abc' } })), undefined, 'metadata after the items: not peeked (the full parse still finds it)');
  t.equal(peekContinueToken('{"metadata":{"continue":"a'), undefined, 'truncated');
  t.equal(peekContinueToken('not json "items": at all'), undefined, 'malformed');
});
