/**
 * Serves the large cluster from the stand-in API server (test/support/fake-apiserver.ts) in its
 * own process, so the webhook process being measured holds only its own memory. Every object is
 * JSON-encoded once before it listens: the real API server encodes in Go on its own cores, this
 * stand-in in JavaScript on the two cores the view is measured on.
 * Prints `listening <url>`; stops on SIGTERM.
 */
import { fileURLToPath } from 'node:url';
import { EXT } from './child.js';
import { scaleClusterObjects } from './cluster-objects.js';
import { BENCH_ENDPOINTS, BENCH_SERVICES, scaleCatalogObjects } from './catalog-objects.js';

interface FakeApiServerLike {
  put(object: Record<string, unknown>): unknown;
  preEncode?(): void;
  start(port?: number): Promise<unknown>;
  stop(): Promise<void>;
  readonly url: string;
}

// Imported by path at run time: the benchmark typechecks whether or not the stand-in is in the tree.
const modulePath = fileURLToPath(new URL(`../test/support/fake-apiserver${EXT}`, import.meta.url));
const { FakeApiServer } = (await import(modulePath)) as { FakeApiServer: new () => FakeApiServerLike };
const server = new FakeApiServer();
for (const object of scaleClusterObjects(Number(process.env.BENCH_NAMESPACES ?? 10_000), Number(process.env.BENCH_SIDECARS ?? 20_000))) server.put(object);
for (const object of scaleCatalogObjects(Number(process.env.BENCH_NAMESPACES ?? 10_000), BENCH_SERVICES, BENCH_ENDPOINTS)) server.put(object);
// Encoded before the clock starts (BENCH_STANDIN_ENCODE=per-list encodes every list as it is asked for, as before).
if (process.env.BENCH_STANDIN_ENCODE !== 'per-list') server.preEncode?.();
await server.start();
process.stdout.write(`listening ${server.url}\n`);
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
