import { X509Certificate } from 'node:crypto';
import { Registry } from 'prom-client';
import t from 'tap';
import { generateCertificateAuthority, generateServingCertificate } from '../../src/certs/generate.js';
import { CERTIFICATE_EXPIRY_METRIC, trackCertificateExpiry } from '../../src/observability/certificate-expiry.js';

async function sample(registry: Registry): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === CERTIFICATE_EXPIRY_METRIC);
  return metric?.values[0]?.value;
}

t.test('the gauge follows the certificate served now', async (t) => {
  const now = new Date('2026-01-01T00:00:00Z');
  const ca = generateCertificateAuthority({ now });
  const first = generateServingCertificate({ ca, now, validityDays: 30 }).cert;
  const second = generateServingCertificate({ ca, now, validityDays: 90 }).cert;
  const registry = new Registry();
  let current: string | undefined;
  trackCertificateExpiry(registry, () => current);
  t.equal(await sample(registry), undefined, 'no certificate, no sample');
  current = first;
  t.equal(await sample(registry), Date.parse(new X509Certificate(first).validTo) / 1000);
  t.equal(await sample(registry), Date.parse('2026-01-31T00:00:00Z') / 1000, '30 days after issue');
  current = second;
  t.equal(await sample(registry), Date.parse(new X509Certificate(second).validTo) / 1000, 'a rotated certificate shows at the next scrape');
  current = 'not a certificate';
  t.equal(await sample(registry), undefined, 'garbage gives no sample, not an exception');
});
