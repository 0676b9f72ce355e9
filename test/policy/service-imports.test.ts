import t from 'tap';
import { computeImports, FIXED_CLUSTERS, hostMatches, isExportedTo, summarizeImports } from '../../src/policy/service-imports.js';
import { parseEgressHost } from '../../src/policy/sidecar-scope.js';
import type { SidecarFacts } from '../../src/policy/types.js';
import { catalogOf, endpointSlice, service, serviceEntry } from '../support/catalog-builders.js';

const sidecar = (namespace: string, hosts: string[] | undefined): SidecarFacts => ({
  namespace,
  name: 'default',
  egressHosts: hosts ?? [],
  hasEgress: hosts !== undefined,
});

// shop (2 services), pay (1 service, 2 ports), ops (1 exported only to ops, 1 to shop), ext (ServiceEntries)
const catalog = catalogOf([
  service('shop', 'web'),
  service('shop', 'cart'),
  service('pay', 'api', { ports: 2 }),
  service('ops', 'private', { exportTo: '.' }),
  service('ops', 'shared', { exportTo: 'shop, billing' }),
  service('ops', 'hidden', { exportTo: '~' }),
  endpointSlice('shop', 'web-a', 'web', 3),
  endpointSlice('shop', 'web-b', 'web', 2),
  endpointSlice('pay', 'api-a', 'api', 4),
  serviceEntry('ext', 'stripe', { hosts: ['api.stripe.com'], resolution: 'DNS' }),
  serviceEntry('ext', 'wild', { hosts: ['*.googleapis.com'], resolution: 'NONE' }),
  serviceEntry('ext', 'static', { hosts: ['db.internal.example'], resolution: 'STATIC', endpoints: 3, exportTo: ['shop'] }),
]);
const options = { clusterDomain: 'cluster.local', list: true };
const names = (namespace: string, hosts: string[] | undefined) =>
  computeImports(namespace, hosts === undefined ? undefined : sidecar(namespace, hosts), catalog, options)
    .imported.map((s) => `${s.namespace}/${s.name}`)
    .sort();

t.test('exportTo variants decide what is visible where', async (t) => {
  const cases: [string[] | undefined, string, string, boolean][] = [
    [undefined, 'a', 'b', true],
    [['*'], 'a', 'b', true],
    [['.'], 'a', 'a', true],
    [['.'], 'a', 'b', false],
    [['~'], 'a', 'a', false],
    [['~'], 'a', 'b', false],
    [['b', 'c'], 'a', 'b', true],
    [['b', 'c'], 'a', 'd', false],
    [['.', 'b'], 'a', 'a', true],
  ];
  for (const [exportTo, owner, namespace, visible] of cases) t.equal(isExportedTo(exportTo, owner, namespace), visible, `${JSON.stringify(exportTo)} from ${owner} seen in ${namespace}`);
});

t.test('no Sidecar, or one without egress, imports everything exported to the namespace', async (t) => {
  const all = ['ext/static', 'ext/stripe', 'ext/wild', 'ops/shared', 'pay/api', 'shop/cart', 'shop/web'];
  t.same(names('shop', undefined), all);
  t.same(names('shop', []), all, 'a Sidecar without egress inherits the defaults');
  t.same(names('billing', undefined), ['ext/stripe', 'ext/wild', 'ops/shared', 'pay/api', 'shop/cart', 'shop/web'], 'exportTo: shop only hides ext/static from billing');
  t.same(names('ops', undefined), ['ext/stripe', 'ext/wild', 'ops/private', 'pay/api', 'shop/cart', 'shop/web'], '"." shows ops/private in ops; ops/shared is exported to shop and billing only');
  t.same(names('shop', ['*/*']), all, '*/* is the whole mesh');
});

t.test('every egress host form', async (t) => {
  const cases: [string[], string[]][] = [
    [['./*'], ['shop/cart', 'shop/web']],
    [['shop/*'], ['shop/cart', 'shop/web']],
    [['pay/*'], ['pay/api']],
    [['./web.shop.svc.cluster.local'], ['shop/web']],
    [['pay/api.pay.svc.cluster.local'], ['pay/api']],
    [['*/api.pay.svc.cluster.local'], ['pay/api']],
    [['*/API.PAY.svc.cluster.local.'], ['pay/api']],
    [['*/*.pay.svc.cluster.local'], ['pay/api']],
    [['*/*.svc.cluster.local'], ['ops/shared', 'pay/api', 'shop/cart', 'shop/web']],
    [['ext/api.stripe.com'], ['ext/stripe']],
    [['ext/*.stripe.com'], ['ext/stripe']],
    [['*/storage.googleapis.com'], ['ext/wild']],
    [['*/*.googleapis.com'], ['ext/wild']],
    [['ext/*.com'], ['ext/stripe', 'ext/wild']],
    [['~/*'], []],
    [['~/web.shop.svc.cluster.local'], []],
    [['ops/*'], ['ops/shared']],
    [['ops/hidden.ops.svc.cluster.local'], []],
    [['no-slash-host'], []],
    [['./*', 'pay/*'], ['pay/api', 'shop/cart', 'shop/web']],
    [['*/*', '~shop/*'], ['ext/static', 'ext/stripe', 'ext/wild', 'ops/shared', 'pay/api']],
    [['./*', '~./cart.shop.svc.cluster.local'], ['shop/web']],
    [['*/*.svc.cluster.local', '~pay/*'], ['ops/shared', 'shop/cart', 'shop/web']],
  ];
  for (const [hosts, expected] of cases) t.same(names('shop', hosts), expected, hosts.join(' '));
});

t.test('clusters are service × port (ServiceEntry host × port) plus the fixed ones; endpoints count per cluster', async (t) => {
  const result = computeImports('shop', sidecar('shop', ['./*', 'pay/*', 'ext/*']), catalog, options);
  // web 1 port 5 endpoints, cart 1 port 0, api 2 ports × 4, stripe DNS 1 host × 1 port × 1, wild NONE 0, static 3 endpoints
  t.equal(result.services, 6);
  t.equal(result.clusters, 1 + 1 + 2 + 1 + 1 + 1 + FIXED_CLUSTERS.length);
  t.equal(result.endpoints, 5 + 0 + 8 + 1 + 0 + 3);
  t.equal(result.unscoped, false);
  t.equal(FIXED_CLUSTERS.length, 7);
  const nothing = computeImports('shop', sidecar('shop', ['~/*']), catalog, options);
  t.same([nothing.services, nothing.clusters, nothing.endpoints], [0, FIXED_CLUSTERS.length, 0], '~/* keeps only the fixed clusters');
});

t.test('a root-namespace Sidecar reads "." as the workload namespace', async (t) => {
  const root = { ...sidecar('istio-system', ['./*']), namespace: 'istio-system' };
  t.same(computeImports('pay', root, catalog, options).imported.map((s) => s.name), ['api']);
});

t.test('summaries are memoised per catalog version and follow changes', async (t) => {
  const local = catalogOf([service('a', 'one'), endpointSlice('a', 'one-x', 'one', 2)]);
  const first = summarizeImports('a', undefined, local, options);
  t.equal(summarizeImports('a', undefined, local, options), first, 'same object while nothing changed');
  local.putService(service('a', 'two', { ports: 3 }));
  const second = summarizeImports('a', undefined, local, options);
  t.equal(second.clusters, first.clusters + 3);
  local.putEndpointSlice(endpointSlice('a', 'one-x', 'one', 5));
  t.equal(summarizeImports('a', undefined, local, options).endpoints, 5, 'a changed slice replaces its old count');
  local.deleteEndpointSlice(endpointSlice('a', 'one-x', 'one', 5));
  t.equal(summarizeImports('a', undefined, local, options).endpoints, 0);
});

t.test('host parsing and matching', async (t) => {
  t.same(parseEgressHost('./*', 'shop'), { namespace: 'shop', dnsName: '*', exclude: false });
  t.same(parseEgressHost('~/*', 'shop'), { namespace: undefined, dnsName: '*', exclude: false });
  t.same(parseEgressHost('~pay/*', 'shop'), { namespace: 'pay', dnsName: '*', exclude: true });
  t.equal(parseEgressHost('*', 'shop'), undefined);
  t.equal(parseEgressHost('/x', 'shop'), undefined);
  t.ok(hostMatches('*.example.com', 'a.example.com'));
  t.notOk(hostMatches('*.example.com', 'example.com'), 'a wildcard needs a label in front');
  t.ok(hostMatches('a.example.com', '*.example.com'), 'a wildcard ServiceEntry matches a concrete egress host');
  t.ok(hostMatches('*.com', '*.example.com'));
  t.notOk(hostMatches('*.org', '*.example.com'));
  t.notOk(hostMatches('a.example.com', 'b.example.com'));
});

t.test('the unscoped fast path agrees with the full walk for every namespace and exportTo mix', async (t) => {
  for (const namespace of ['shop', 'billing', 'ops', 'pay', 'ext', 'nowhere']) {
    for (const hosts of [undefined, [], ['*/*']]) {
      const side = hosts === undefined ? undefined : sidecar(namespace, hosts);
      const full = computeImports(namespace, side, catalog, options);
      const fast = summarizeImports(namespace, side, catalog, options);
      t.same(fast, { services: full.services, clusters: full.clusters, endpoints: full.endpoints, unscoped: true }, `${namespace} ${JSON.stringify(hosts)}`);
    }
  }
});

t.test("the mesh's defaultServiceExportTo applies to what sets no exportTo of its own", async (t) => {
  const privateByDefault = { ...options, defaultExportTo: ['.'] };
  const namesUnder = (namespace: string, hosts: string[] | undefined, opts: typeof options) =>
    computeImports(namespace, hosts === undefined ? undefined : sidecar(namespace, hosts), catalog, opts)
      .imported.map((s) => `${s.namespace}/${s.name}`)
      .sort();
  t.same(namesUnder('shop', undefined, privateByDefault), ['ext/static', 'ops/shared', 'shop/cart', 'shop/web'], "with ['.'], only shop's own and what is exported to shop by name");
  t.same(namesUnder('pay', ['*/*'], privateByDefault), ['pay/api'], 'a */* Sidecar sees no more than the mesh exports to it');
  t.same(namesUnder('shop', ['pay/*'], privateByDefault), [], 'a Sidecar cannot import what is not exported to its namespace');
  t.equal(isExportedTo(undefined, 'a', 'b', ['b']), true, 'a named default');
  t.equal(isExportedTo(['*'], 'a', 'b', ['~']), true, "the object's own exportTo wins over the default");
  t.equal(isExportedTo(undefined, 'a', 'a', ['~']), false);

  for (const namespace of ['shop', 'billing', 'ops', 'pay', 'ext']) {
    const full = computeImports(namespace, undefined, catalog, privateByDefault);
    const fast = summarizeImports(namespace, undefined, catalog, privateByDefault);
    t.same(fast, { services: full.services, clusters: full.clusters, endpoints: full.endpoints, unscoped: true }, `the unscoped fast path agrees in ${namespace}`);
    t.not(summarizeImports(namespace, undefined, catalog, options).services, fast.services, `and is not served from the cache of the "*" default in ${namespace}`);
  }
});
