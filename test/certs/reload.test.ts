import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { connect, type SecureContextOptions } from 'node:tls';
import t from 'tap';
import { generateCertificateAuthority, generateServingCertificate } from '../../src/certs/generate.js';
import { CertificateReloader, type IntervalTimers } from '../../src/certs/reload.js';
import { httpsGet, startHttpsServer, type ClientResult } from './tls-harness.js';

const SERVICE_NAME = 'sidecar-guard.sidecar-guard.svc';
// The TLS stack checks validity against the wall clock, so these certificates are issued "now".
const issued = new Date();
const ca = generateCertificateAuthority({ now: issued });
const first = generateServingCertificate({ ca, now: issued });
const second = generateServingCertificate({ ca, now: issued });
const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;

class RecordingTarget {
  readonly calls: SecureContextOptions[] = [];
  setSecureContext(options: SecureContextOptions): void {
    this.calls.push(options);
  }
}

t.test('update installs a new pair with TLS 1.2 as the floor, and ignores the pair already served', async (t) => {
  const target = new RecordingTarget();
  const reloaded: string[] = [];
  const reloader = new CertificateReloader(target, { initial: first, onReload: (p) => reloaded.push(p.cert) });
  t.equal(reloader.update({ cert: first.cert, key: first.key }), false);
  t.equal(target.calls.length, 0);

  t.equal(reloader.update(second), true);
  t.match(target.calls, [{ cert: second.cert, key: second.key, minVersion: 'TLSv1.2' }]);
  t.same(reloaded, [second.cert]);
  t.same(reloader.current, { cert: second.cert, key: second.key });
});

t.test('extra secure-context options survive a reload', async (t) => {
  const target = new RecordingTarget();
  new CertificateReloader(target, { secureContext: { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', minVersion: 'TLSv1.3' } }).update(first);
  t.match(target.calls, [{ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256', minVersion: 'TLSv1.3', cert: first.cert }]);
});

t.test('a key that does not match the certificate is refused and nothing changes', async (t) => {
  const target = new RecordingTarget();
  const reloader = new CertificateReloader(target, { initial: first });
  t.throws(() => reloader.update({ cert: second.cert, key: first.key }));
  t.throws(() => reloader.update({ cert: 'not a certificate', key: first.key }));
  t.equal(target.calls.length, 0);
  t.same(reloader.current, first);
});

t.test('checkFiles installs changed files and keeps serving through a half-written pair', async (t) => {
  const dir = t.testdir({ 'tls.crt': first.cert, 'tls.key': first.key });
  const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  const errors: unknown[] = [];
  const target = new RecordingTarget();
  const reloader = new CertificateReloader(target, { initial: first, onError: (e) => errors.push(e) });

  t.equal(await reloader.checkFiles(files), false, 'unchanged files');
  await writeFile(files.certFile, second.cert);
  t.equal(await reloader.checkFiles(files), false, 'new cert, old key');
  t.equal(errors.length, 1);
  t.same(reloader.current, first);
  await writeFile(files.keyFile, second.key);
  t.equal(await reloader.checkFiles(files), true);
  t.same(reloader.current, { cert: second.cert, key: second.key });
  t.equal(await reloader.checkFiles({ ...files, keyFile: join(dir, 'missing.key') }), false);
  t.match(errors[1], { code: 'ENOENT' });
});

t.test('watchFiles polls on the injected timer until stopped', async (t) => {
  const dir = t.testdir({ 'tls.crt': second.cert, 'tls.key': second.key });
  let tick: (() => void) | undefined;
  let cleared: unknown;
  const timers: IntervalTimers = {
    setInterval: (fn, ms) => {
      t.equal(ms, 2500);
      tick = fn;
      return 'handle';
    },
    clearInterval: (handle) => (cleared = handle),
  };
  let resolveReload: () => void = () => {};
  const reloadedOnce = new Promise<void>((resolve) => (resolveReload = resolve));
  const reloader = new CertificateReloader(new RecordingTarget(), { initial: first, timers, onReload: () => resolveReload() });
  reloader.watchFiles({ certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') }, { intervalMs: 2500 });
  tick?.();
  await reloadedOnce;
  t.same(reloader.current?.cert, second.cert);
  reloader.stop();
  t.equal(cleared, 'handle');
});

t.test('the default timer is real and stoppable', async (t) => {
  const reloader = new CertificateReloader(new RecordingTarget()).watchFiles({ certFile: 'x', keyFile: 'y' });
  reloader.stop();
  reloader.stop();
  t.pass('stopped twice without error');
});

t.test('a live server keeps TLS 1.2 as the floor after a reload', async (t) => {
  const { server, port } = await startHttpsServer(t, first);
  new CertificateReloader(server, { initial: first }).update(second);
  t.equal((await httpsGet(port, { ca: ca.cert, servername: SERVICE_NAME })).serial, serialOf(second.cert));
  await t.rejects(
    new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, ca: ca.cert, servername: SERVICE_NAME, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }, () => resolve(socket));
      socket.on('error', reject);
    }),
  );
});

t.test('rotation under continuous requests fails none of them', async (t) => {
  const TOTAL = 240;
  const SWAP_AT = 120;
  let handled = 0;
  let swapped = false;
  let reloader: CertificateReloader | undefined;
  const { server, port } = await startHttpsServer(t, first, (_req, res) => {
    handled += 1;
    if (handled === SWAP_AT) {
      // Swap while this request (and its siblings on other sockets) is in flight.
      reloader?.update(second);
      swapped = true;
    }
    setImmediate(() => res.end('ok'));
  });
  reloader = new CertificateReloader(server, { initial: first });

  const keepAlive = new Agent({ keepAlive: true, maxSockets: 2 });
  t.teardown(() => keepAlive.destroy());
  const results: Array<ClientResult & { fresh: boolean; startedAfterSwap: boolean; finishedBeforeSwap: boolean }> = [];
  const failures: unknown[] = [];
  let started = 0;
  const worker = async (fresh: boolean) => {
    while (started < TOTAL) {
      started += 1;
      const startedAfterSwap = swapped;
      try {
        const result = await httpsGet(port, { ca: ca.cert, servername: SERVICE_NAME, agent: fresh ? false : keepAlive });
        results.push({ ...result, fresh, startedAfterSwap, finishedBeforeSwap: !swapped });
      } catch (error) {
        failures.push(error);
      }
    }
  };
  await Promise.all([worker(true), worker(true), worker(false), worker(false), worker(false)]);

  t.same(failures, [], 'no request failed');
  t.equal(results.length, TOTAL);
  t.ok(results.every((r) => r.body === 'ok'));
  t.ok(swapped);
  const freshAfter = results.filter((r) => r.fresh && r.startedAfterSwap);
  t.ok(freshAfter.length > 0, 'fresh connections were made after the swap');
  t.ok(freshAfter.every((r) => r.serial === serialOf(second.cert)), 'every new connection sees the new certificate');
  const finishedBefore = results.filter((r) => r.finishedBeforeSwap);
  t.ok(finishedBefore.length > 0 && finishedBefore.every((r) => r.serial === serialOf(first.cert)), 'before the swap: the old one');
  t.ok(
    results.some((r) => !r.fresh && r.startedAfterSwap && r.serial === serialOf(first.cert)),
    'kept-alive connections opened before the swap carry on with the old certificate',
  );
});
