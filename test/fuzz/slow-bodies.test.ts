/**
 * Abuse: clients that open connections and never finish their bodies (or headers) are cut off by
 * the server's own timeouts, the connection cap holds, and real requests keep being answered.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import t, { type Test } from 'tap';
import { ensureCertDir } from '../../src/certs/cert-dir.js';
import { ConfigStore } from '../../src/config/config-store.js';
import { BUILT_IN_CONFIG } from '../../src/config/load-config.js';
import { DEFAULT_LIMITS } from '../../src/http/app.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { startWebhookServer } from '../../src/server.js';
import { MESH_NS, pod, review } from '../support/builders.js';
import { eventually } from '../support/eventually.js';
import { postJson } from '../support/https-client.js';
import { MemoryView } from '../support/memory-view.js';

const SHORT = { requestTimeoutMs: 1_000, headersTimeoutMs: 500, checkIntervalMs: 100, maxConnections: 30 };

async function start(t: Test) {
  const dir = await mkdtemp(join(tmpdir(), 'sg-slow-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tls = await ensureCertDir(dir, { service: 'sidecar-guard', namespace: 'sidecar-guard' });
  const server = await startWebhookServer({
    port: 0,
    host: '127.0.0.1',
    tls: { key: tls.key, cert: tls.cert },
    configStore: ConfigStore.of(BUILT_IN_CONFIG),
    view: new MemoryView([MESH_NS]),
    metrics: createMetrics({ defaultMetrics: false }),
    limits: SHORT,
  });
  t.teardown(() => server.shutdown());
  return { server, ca: tls.ca ?? '', port: Number(new URL(server.url).port) };
}

/** A TLS connection that sends `prefix` and then nothing; `closed` flips when the server hangs up. */
function stall(port: number, prefix: string): Promise<{ socket: TLSSocket; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      socket.write(prefix);
      resolve({ socket, closed: () => closed });
    });
    // Read (and drop) what the server sends, or the socket never sees the server's FIN.
    socket.resume();
    socket.on('close', () => (closed = true));
    socket.on('error', () => (closed = true));
    socket.once('error', reject);
  });
}

const SLOW_BODY = 'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 7000000\r\n\r\n{"kind":"AdmissionReview",';
const SLOW_HEADERS = 'POST /validate HTTP/1.1\r\nHost: x\r\n';

t.test('stalled bodies and headers are closed by the server while real requests are answered', async (t) => {
  const { server, ca, port } = await start(t);
  const bodies = await Promise.all(Array.from({ length: 10 }, () => stall(port, SLOW_BODY)));
  const headers = await Promise.all(Array.from({ length: 10 }, () => stall(port, SLOW_HEADERS)));
  t.teardown(() => [...bodies, ...headers].forEach((c) => c.socket.destroy()));

  const answer = await postJson(server.url, '/validate', review(pod({ name: 'web' }), { uid: 'during-attack' }), { ca });
  t.equal(answer.status, 200, 'a real review is answered while 20 connections stall');
  t.equal(JSON.parse(answer.body).response.uid, 'during-attack');

  await eventually(() => bodies.every((c) => c.closed()), 'every stalled body closed by the server', 15_000, 50);
  await eventually(() => headers.every((c) => c.closed()), 'every stalled header closed by the server', 15_000, 50);
  t.pass('all 20 stalled connections were closed by the server');
});

t.test('connections beyond the cap are refused; the server keeps serving once they go', async (t) => {
  const { server, ca, port } = await start(t);
  const held = await Promise.all(Array.from({ length: SHORT.maxConnections + 10 }, () => stall(port, SLOW_HEADERS).catch(() => undefined)));
  t.teardown(() => held.forEach((c) => c?.socket.destroy()));
  await eventually(() => held.filter((c) => c === undefined || c.closed()).length >= 10, 'the connections over the cap are dropped', 5_000, 20);
  held.forEach((c) => c?.socket.destroy());
  await eventually(() => held.every((c) => c === undefined || c.closed()), 'the held connections are gone', 5_000, 20);
  const answer = await postJson(server.url, '/validate', review(pod({ name: 'web' }), { uid: 'after-cap' }), { ca });
  t.equal(answer.status, 200);
});

t.test('the production limits sit inside the API server webhook timeout', async (t) => {
  t.ok(DEFAULT_LIMITS.requestTimeoutMs <= 10_000, 'a body must be complete within 10 s');
  t.ok(DEFAULT_LIMITS.headersTimeoutMs < DEFAULT_LIMITS.requestTimeoutMs, 'headers first');
  t.ok(DEFAULT_LIMITS.checkIntervalMs <= 1_000, 'checked every second, not Node\'s 30 s');
  t.ok(DEFAULT_LIMITS.maxConnections > 0);
});
