import t from 'tap';
import { ResourceWatcher, type RestartReason } from '../../src/kube/resource-watcher.js';

t.test('stop() ends a backoff at once (the system clock sleeps on an unref timer that alone would never resolve it)', async (t) => {
  const restarts: RestartReason[] = [];
  const watcher = new ResourceWatcher({
    resource: 'things',
    path: '/api/v1/things',
    list: () => Promise.reject(new Error('connection refused')),
    watch: { watch: () => Promise.reject(new Error('not reached')) },
    events: { onReplace: () => {}, onEvent: () => {}, onRestart: (reason) => restarts.push(reason) },
    backoff: { initialMs: 60_000, maxMs: 60_000 },
  });
  watcher.start();
  while (restarts.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  t.same(restarts, ['list-error'], 'the failed list backs off');
  const started = Date.now();
  await watcher.stop();
  t.ok(Date.now() - started < 1000, 'stopped without waiting out the 60 s backoff');
});
