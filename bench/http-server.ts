/**
 * One HTTPS server for the throughput benchmark, in its own process so its CPU can be measured:
 * `guard` is the real sidecar-guard (startWebhookServer, production logger and metrics),
 * `guard-quiet` is the same with the decision log off,
 * `bare` is a Fastify HTTPS server that parses the same bodies and answers a fixed "allowed".
 * Prints `listening <url>` when ready; stops on SIGTERM.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { createServerLogger } from '../src/observability/logger.js';
import { ensureCertDir } from '../src/certs/cert-dir.js';
import { FileClusterView } from '../src/cluster/file-cluster-view.js';
import { ConfigStore } from '../src/config/config-store.js';
import { BUILT_IN_CONFIG } from '../src/config/load-config.js';
import { BODY_LIMIT_BYTES } from '../src/http/app.js';
import { createMetrics } from '../src/observability/metrics.js';
import { startWebhookServer } from '../src/server.js';
import { BENCH_NOW, benchCluster } from './workload.js';

const kind = process.argv[2];
const certDir = process.argv[3] ?? (await mkdtemp(join(tmpdir(), 'sg-bench-')));
const tls = await ensureCertDir(certDir, { service: 'sidecar-guard', namespace: 'sidecar-guard' });

async function startGuard(): Promise<{ url: string; stop: () => Promise<void> }> {
  // As `serve` runs it: pino at info (a line per denial, patch, warning or exemption), default metrics on.
  // The log goes to /dev/null so its serialisation is paid but no terminal slows it down.
  // `guard-quiet` is the same server with the decision log off, to show what logging costs.
  const logLevel = kind === 'guard-quiet' ? 'silent' : (process.env.BENCH_LOG_LEVEL ?? 'info');
  // The logger `serve` uses (asynchronous, buffered), writing to /dev/null.
  const { logger } = createServerLogger(logLevel, '/dev/null');
  const server = await startWebhookServer({
    port: 0,
    host: '127.0.0.1',
    tls: { key: tls.key, cert: tls.cert },
    configStore: ConfigStore.of(BUILT_IN_CONFIG),
    view: FileClusterView.fromObjects(benchCluster()),
    metrics: createMetrics(),
    logger,
    now: () => BENCH_NOW,
  });
  return { url: server.url, stop: () => server.shutdown() };
}

async function startBare(): Promise<{ url: string; stop: () => Promise<void> }> {
  const app = Fastify({ https: { key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, bodyLimit: BODY_LIMIT_BYTES, keepAliveTimeout: 90_000, logger: false });
  const answer = async (request: { body: unknown }) => {
    const uid = (request.body as { request?: { uid?: unknown } } | null)?.request?.uid;
    return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: typeof uid === 'string' ? uid : '', allowed: true } };
  };
  app.post('/validate', answer);
  app.post('/mutate', answer);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, stop: () => app.close() };
}

if (kind !== 'guard' && kind !== 'guard-quiet' && kind !== 'bare') throw new Error('usage: http-server.ts guard|guard-quiet|bare [certDir]');
const server = kind === 'bare' ? await startBare() : await startGuard();
process.stdout.write(`listening ${server.url} ${join(certDir, 'ca.crt')}\n`);
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
