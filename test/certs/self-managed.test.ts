import { X509Certificate } from 'node:crypto';
import t, { type Test } from 'tap';
import { generateCertificateAuthority, generateServingCertificate } from '../../src/certs/generate.js';
import {
  SECRET_KEYS,
  SelfManagedCertificates,
  caBundlePatch,
  splitPemBundle,
  type SelfManagedOptions,
  type ServingMaterial,
} from '../../src/certs/self-managed.js';
import { InMemorySelfManagedApi } from './in-memory-self-managed-api.js';

// Written against an in-memory SelfManagedApi: test/support/fake-apiserver.ts had not landed yet.
const DAY = 24 * 60 * 60 * 1000;
const T0 = new Date('2030-01-01T00:00:00Z').getTime();
const NS = 'sidecar-guard';
const WEBHOOKS = { mutating: 'a-sidecar-guard', validating: 'sidecar-guard' };

function setup(overrides: Partial<SelfManagedOptions> = {}) {
  const api = new InMemorySelfManagedApi();
  api.addConfiguration('mutating', WEBHOOKS.mutating, ['resources.sidecar-guard.io']);
  api.addConfiguration('validating', WEBHOOKS.validating, ['sidecars.sidecar-guard.io', 'exemptions.sidecar-guard.io']);
  const clock = { now: T0 };
  const changes: ServingMaterial[] = [];
  const errors: unknown[] = [];
  const make = (extra: Partial<SelfManagedOptions> = {}) =>
    new SelfManagedCertificates({
      api,
      service: 'sidecar-guard',
      namespace: NS,
      webhookConfigurations: WEBHOOKS,
      now: () => new Date(clock.now),
      onChange: (m) => changes.push(m),
      onError: (e) => errors.push(e),
      ...overrides,
      ...extra,
    });
  return { api, clock, changes, errors, make, certs: make() };
}

const x509 = (pem: string) => new X509Certificate(pem);
const expiry = (pem: string) => new Date(x509(pem).validTo).getTime();
const issuedBy = (leaf: string, ca: string) => x509(leaf).checkIssued(x509(ca)) && x509(leaf).verify(x509(ca).publicKey);

/** The invariant that keeps the apiserver calling us: both configurations trust the served certificate's issuer. */
function assertApiserverTrusts(t: Test, api: InMemorySelfManagedApi, material: ServingMaterial): void {
  for (const [kind, name] of [['mutating', WEBHOOKS.mutating], ['validating', WEBHOOKS.validating]] as const) {
    const trusted = splitPemBundle(api.trustedBundle(kind, name));
    t.ok(trusted.some((ca) => issuedBy(material.cert, ca)), `${kind} configuration trusts the served certificate`);
  }
}

function secretOf(api: InMemorySelfManagedApi) {
  const secret = api.secrets.get(`${NS}/sidecar-guard-tls`);
  if (secret === undefined) throw new Error('no Secret');
  return secret.data;
}

t.test('the first sync creates the Secret and publishes its CA to every webhook', async (t) => {
  const { api, certs, changes } = setup();
  const material = await certs.sync();
  const data = secretOf(api);
  t.same(Object.keys(data).sort(), Object.values(SECRET_KEYS).sort());
  t.equal(data[SECRET_KEYS.cert], material.cert);
  t.ok(issuedBy(material.cert, material.caCert));
  t.equal(splitPemBundle(material.caBundle).length, 1);
  t.equal(x509(material.cert).checkHost('sidecar-guard.sidecar-guard.svc', { subject: 'never' }), 'sidecar-guard.sidecar-guard.svc');
  t.equal(api.trustedBundle('validating', WEBHOOKS.validating), material.caBundle);
  t.equal(api.trustedBundle('mutating', WEBHOOKS.mutating), material.caBundle);
  t.equal(changes.length, 1);

  api.calls.length = 0;
  const again = await certs.sync();
  t.equal(again.cert, material.cert);
  t.same(api.calls, [`read ${NS}/sidecar-guard-tls`], 'a second pass only reads');
  t.equal(changes.length, 1, 'no change, no callback');
});

t.test('two instances racing to create the Secret end with one CA', async (t) => {
  const { api, make, changes } = setup({ onChange: undefined });
  const [a, b] = await Promise.all([make().sync(), make().sync()]);
  t.equal(api.calls.filter((c) => c.startsWith('create')).length, 2, 'both tried to create');
  t.equal(a.caCert, b.caCert, 'the loser serves the winner’s CA');
  t.equal(a.cert, b.cert);
  t.equal(secretOf(api)[SECRET_KEYS.caCert], a.caCert);
  t.equal(splitPemBundle(api.trustedBundle('validating', WEBHOOKS.validating)).length, 1);
  t.equal(changes.length, 0);
});

t.test('the serving certificate is renewed renewBefore its expiry, under the same CA', async (t) => {
  const { api, certs, clock, changes } = setup();
  const first = await certs.sync();
  clock.now = expiry(first.cert) - 31 * DAY;
  t.equal((await certs.sync()).cert, first.cert, 'not yet due');
  clock.now += 2 * DAY;
  const renewed = await certs.sync();
  t.not(renewed.cert, first.cert);
  t.equal(renewed.caCert, first.caCert);
  t.equal(renewed.caBundle, first.caBundle);
  t.ok(expiry(renewed.cert) > clock.now + 300 * DAY);
  t.equal(changes.length, 2);
  assertApiserverTrusts(t, api, renewed);
});

t.test('a CA rotation publishes the new CA before any replica serves a certificate it signed', async (t) => {
  const { api, certs, clock } = setup({ caValidityDays: 400, servingValidityDays: 365 });
  const first = await certs.sync();
  const oldCa = first.caCert;

  clock.now = T0 + 371 * DAY; // the CA (400 d) is within 30 days of expiry
  const pass1 = await certs.sync();
  t.not(pass1.caCert, oldCa, 'a new CA signs from now on');
  t.equal(pass1.cert, first.cert, 'the serving certificate waits');
  t.same(splitPemBundle(pass1.caBundle).map((p) => x509(p).fingerprint256), [x509(pass1.caCert).fingerprint256, x509(oldCa).fingerprint256]);
  assertApiserverTrusts(t, api, pass1);

  const pass2 = await certs.sync();
  t.ok(issuedBy(pass2.cert, pass2.caCert), 'the serving certificate moves to the new CA once it is published');
  t.equal(pass2.caBundle, pass1.caBundle, 'the old CA stays trusted');
  assertApiserverTrusts(t, api, pass2);

  clock.now = expiry(oldCa) + 1000;
  const pass3 = await certs.sync();
  t.equal(splitPemBundle(pass3.caBundle).length, 1, 'the expired CA is dropped');
  t.equal(api.trustedBundle('mutating', WEBHOOKS.mutating), pass3.caBundle);
  assertApiserverTrusts(t, api, pass3);
});

t.test('replicas renewing at the same moment agree on one result', async (t) => {
  const { api, make, clock } = setup({ caValidityDays: 400 });
  await make().sync();
  clock.now = T0 + 371 * DAY;
  const replicas = [make(), make(), make()];
  const pass1 = await Promise.all(replicas.map((r) => r.sync()));
  t.equal(new Set(pass1.map((m) => m.caBundle)).size, 1, 'one new CA');
  t.equal(splitPemBundle(pass1[0]?.caBundle ?? '').length, 2);
  const pass2 = await Promise.all(replicas.map((r) => r.sync()));
  t.equal(new Set(pass2.map((m) => m.cert)).size, 1, 'one new serving certificate');
  for (const material of pass2) assertApiserverTrusts(t, api, material);
  t.equal(api.trustedBundle('validating', WEBHOOKS.validating), secretOf(api)[SECRET_KEYS.caBundle]);
});

t.test('a caBundle wiped by a chart upgrade is restored before a due certificate is renewed', async (t) => {
  const { api, certs, clock } = setup();
  const first = await certs.sync();
  api.addConfiguration('validating', WEBHOOKS.validating, ['sidecars.sidecar-guard.io']);
  clock.now = expiry(first.cert) - 10 * DAY;
  const pass1 = await certs.sync();
  t.equal(pass1.cert, first.cert, 'not renewed while the configuration does not trust the CA');
  t.equal(api.trustedBundle('validating', WEBHOOKS.validating), first.caBundle, 'republished');
  const pass2 = await certs.sync();
  t.not(pass2.cert, first.cert);
  assertApiserverTrusts(t, api, pass2);
});

t.test('a missing configuration is skipped; unreadable ones are reported and block renewal', async (t) => {
  const { api, certs, clock, errors } = setup();
  api.configurations.delete(`mutating/${WEBHOOKS.mutating}`);
  const first = await certs.sync();
  t.equal(api.trustedBundle('validating', WEBHOOKS.validating), first.caBundle);
  t.same(errors, []);

  api.readWebhookCaBundles = async () => {
    throw new Error('forbidden');
  };
  clock.now = expiry(first.cert) - 10 * DAY;
  t.equal((await certs.sync()).cert, first.cert);
  t.match(errors, [{ message: 'forbidden' }]);
});

t.test('a failed caBundle patch is reported and serving goes on', async (t) => {
  const { api, certs, errors } = setup();
  api.patchWebhookConfiguration = async () => {
    throw new Error('admission webhook configurations are immutable today');
  };
  const material = await certs.sync();
  t.ok(material.cert);
  t.equal(errors.length, 2);
});

t.test('a service rename re-issues the serving certificate with the new names', async (t) => {
  const { api, make } = setup();
  const first = await make().sync();
  const renamed = await make({ secretName: 'sidecar-guard-tls', service: 'guard' }).sync();
  t.not(renamed.cert, first.cert);
  t.equal(x509(renamed.cert).checkHost('guard.sidecar-guard.svc', { subject: 'never' }), 'guard.sidecar-guard.svc');
  t.equal(renamed.caCert, first.caCert);
  t.equal(api.secrets.size, 1);
});

t.test('a Secret without the expected keys is an error, not overwritten', async (t) => {
  const { api, certs } = setup();
  api.secrets.set(`${NS}/sidecar-guard-tls`, { data: { 'tls.crt': 'x' }, resourceVersion: '7' });
  await t.rejects(certs.sync(), /sidecar-guard\/sidecar-guard-tls has no (ca|tls)\.(crt|key)/);
  t.equal(api.secrets.get(`${NS}/sidecar-guard-tls`)?.resourceVersion, '7');
});

t.test('endless conflicts give up with an error', async (t) => {
  const { api, certs, clock } = setup();
  const first = await certs.sync();
  clock.now = expiry(first.cert) - 10 * DAY;
  api.replaceSecret = async () => {
    const { ConflictError } = await import('../../src/certs/self-managed.js');
    throw new ConflictError('the object has been modified');
  };
  await t.rejects(certs.sync(), /after 5 conflicting writes/);
});

t.test('other Secret errors propagate', async (t) => {
  const { api, certs } = setup();
  api.readSecret = async () => {
    throw new Error('connection refused');
  };
  await t.rejects(certs.sync(), /connection refused/);
});

t.test('caBundlePatch guards each write with the webhook name and the caBundle it replaces', async (t) => {
  t.same(caBundlePatch([{ name: 'a', caBundle: 'QQ==' }, { name: 'b' }, { name: 'c', caBundle: 'Qg==' }], 'Qg=='), [
    { op: 'test', path: '/webhooks/0/name', value: 'a' },
    { op: 'test', path: '/webhooks/0/clientConfig/caBundle', value: 'QQ==' },
    { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: 'Qg==' },
    { op: 'test', path: '/webhooks/1/name', value: 'b' },
    { op: 'add', path: '/webhooks/1/clientConfig/caBundle', value: 'Qg==' },
  ]);
});

t.test('a publish that lost a race is retried against the newer state', async (t) => {
  const { api, certs } = setup();
  const first = await certs.sync();
  // Another writer changes the caBundle between this replica's read and its patch.
  const foreign = generateCertificateAuthority({ now: new Date(T0) });
  const realRead = api.readWebhookCaBundles.bind(api);
  let raced = false;
  api.readWebhookCaBundles = async (kind, name) => {
    const result = await realRead(kind, name);
    if (!raced && kind === 'validating') {
      raced = true;
      api.addConfiguration('validating', name, ['sidecars.sidecar-guard.io'], Buffer.from(foreign.cert).toString('base64'));
    }
    return result;
  };
  api.addConfiguration('validating', WEBHOOKS.validating, ['sidecars.sidecar-guard.io']);
  await certs.sync();
  t.ok(raced);
  t.equal(api.trustedBundle('validating', WEBHOOKS.validating), first.caBundle, 'ends on the Secret’s bundle');
});

t.test('renewBefore must be shorter than the certificates live', async (t) => {
  t.throws(() => setup({ renewBeforeMs: 365 * DAY }), RangeError);
  t.throws(() => setup({ caValidityDays: 20 }), RangeError);
});

t.test('start syncs on the injected timer and reports failures', async (t) => {
  let tick: (() => void) | undefined;
  const cleared: unknown[] = [];
  let changed: (m: ServingMaterial) => void = () => {};
  let failed: (e: unknown) => void = () => {};
  const { certs, api } = setup({
    timers: { setInterval: (fn) => ((tick = fn), 'handle'), clearInterval: (h) => cleared.push(h) },
    onChange: (m) => changed(m),
    onError: (e) => failed(e),
  });
  certs.start({ intervalMs: 5000 });
  const firstChange = new Promise<ServingMaterial>((resolve) => (changed = resolve));
  tick?.();
  t.ok((await firstChange).cert);
  api.readSecret = async () => {
    throw new Error('boom');
  };
  const firstError = new Promise<unknown>((resolve) => (failed = resolve));
  tick?.();
  t.match(await firstError, { message: 'boom' });
  certs.stop();
  t.same(cleared, ['handle']);
  t.equal(certs.secretName, 'sidecar-guard-tls');
});

t.test('a Secret issued elsewhere (no bundle key) is served with its CA as the bundle', async (t) => {
  const { api, certs } = setup();
  const ca = generateCertificateAuthority({ now: new Date(T0) });
  const serving = generateServingCertificate({ ca, now: new Date(T0) });
  api.secrets.set(`${NS}/sidecar-guard-tls`, {
    data: { 'tls.crt': serving.cert, 'tls.key': serving.key, 'ca.crt': ca.cert, 'ca.key': ca.key },
    resourceVersion: '1',
  });
  const material = await certs.sync();
  t.equal(material.cert, serving.cert);
  t.equal(splitPemBundle(material.caBundle)[0]?.trim(), ca.cert.trim());
});
