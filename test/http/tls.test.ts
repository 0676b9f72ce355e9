import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ensureCertDir } from '../../src/certs/cert-dir.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { BUILT_IN_CONFIG } from '../../src/config/load-config.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { startWebhookServer } from '../../src/server.js';
import { MESH_NS, pod, review } from '../support/builders.js';
import { postJson } from '../support/https-client.js';
import { MemoryView } from '../support/memory-view.js';

async function startOnGeneratedCerts(t: Test, options: { drainDelaySeconds?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'sg-tls-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tls = await ensureCertDir(dir, { service: 'sidecar-guard', namespace: 'sidecar-guard' });
  const server = await startWebhookServer({
    port: 0,
    host: '127.0.0.1',
    tls: { key: tls.key, cert: tls.cert },
    configStore: ConfigStore.of(BUILT_IN_CONFIG),
    view: new MemoryView([MESH_NS]),
    metrics: createMetrics({ defaultMetrics: false }),
    ...options,
  });
  return { server, ca: tls.ca ?? '' };
}

t.test('the webhook serves AdmissionReviews over TLS verifiable against the generated ca.crt', async (t) => {
  const { server, ca } = await startOnGeneratedCerts(t);
  t.teardown(() => server.shutdown());

  const answer = await postJson(server.url, '/validate', review(pod({ name: 'web' }), { uid: 'tls-1' }), { ca });
  t.equal(answer.status, 200);
  t.match(answer.protocol, /^TLSv1\.[23]$/);
  const json = JSON.parse(answer.body);
  t.equal(json.response.uid, 'tls-1');
  t.equal(json.response.allowed, false);

  await t.rejects(postJson(server.url, '/validate', review(pod({})), { ca, servername: 'evil.example.com' }), /altnames|Hostname/i, 'a wrong server name fails verification');
  const otherDir = await mkdtemp(join(tmpdir(), 'sg-tls-other-'));
  t.teardown(() => rm(otherDir, { recursive: true, force: true }));
  const otherCa = (await ensureCertDir(otherDir, { service: 'sidecar-guard', namespace: 'sidecar-guard' })).ca ?? '';
  await t.rejects(postJson(server.url, '/validate', review(pod({})), { ca: otherCa }), /certificate/i, 'another CA is not trusted');
});

t.test('shutdown fails readiness first and lets in-flight requests finish', async (t) => {
  const { server, ca } = await startOnGeneratedCerts(t, { drainDelaySeconds: 0 });
  const warm = await postJson(server.url, '/mutate', review(pod({})), { ca });
  t.equal(warm.status, 200);
  const inFlight = Array.from({ length: 20 }, (_, i) => postJson(server.url, '/mutate', review(pod({}), { uid: `u${i}` }), { ca }));
  const closing = server.shutdown();
  const ready = await server.app.inject('/readyz');
  t.equal(ready.statusCode, 503, 'readyz fails once shutdown starts');
  const answers = await Promise.allSettled(inFlight);
  await closing;
  for (const answer of answers) {
    if (answer.status === 'fulfilled') t.equal(answer.value.status, 200);
    else t.match(String(answer.reason), /ECONNREFUSED|ECONNRESET|socket hang up/, 'only never-accepted connections may fail');
  }
  t.equal(server.app.server.listening, false, 'the listener is closed');
});
