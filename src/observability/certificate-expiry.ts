import { X509Certificate } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';

export const CERTIFICATE_EXPIRY_METRIC = 'sidecar_guard_serving_certificate_expiry_timestamp_seconds';

/**
 * A gauge with the notAfter (Unix seconds) of the certificate the server presents now, read at
 * each scrape from `current`: alert on `… - time() < 7 * 86400`. No sample while there is none.
 */
export function trackCertificateExpiry(registry: Registry, current: () => string | undefined): Gauge<'subject'> {
  if (registry.getSingleMetric(CERTIFICATE_EXPIRY_METRIC)) registry.removeSingleMetric(CERTIFICATE_EXPIRY_METRIC);
  return new Gauge({
    name: CERTIFICATE_EXPIRY_METRIC,
    help: 'Expiry (notAfter, Unix seconds) of the serving certificate presented now, by its subject.',
    // A label, so that no certificate means no series (a label-less gauge would report 0: "expired in 1970").
    labelNames: ['subject'],
    registers: [registry],
    collect() {
      this.reset();
      const pem = current();
      if (pem === undefined) return;
      try {
        const certificate = new X509Certificate(pem);
        const notAfter = Date.parse(certificate.validTo);
        if (Number.isFinite(notAfter)) this.set({ subject: certificate.subject.replace(/\n/g, ', ') }, notAfter / 1000);
      } catch {
        // An unparsable certificate is never installed (CertificateReloader validates); nothing to report.
      }
    },
  });
}
