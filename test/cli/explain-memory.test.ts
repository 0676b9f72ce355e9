import t from 'tap';
import { stringify } from 'yaml';
import { MESH_NS, controller, pod, sidecar, type Json } from '../support/builders.js';
import { service } from '../support/catalog-builders.js';
import { runInProcess } from '../support/run-in-process.js';

t.test('explain shows the predicted memory of a workload when the inputs hold Services', async (t) => {
  const objects: Json[] = [MESH_NS, sidecar('shop', 'default', { hosts: ['./*'] }), service('shop', 'web', { ports: 2 }), service('shop', 'api'), controller('Deployment', 'web', pod(), 'shop')];
  const result = await runInProcess(['explain', '-f', '-'], { stdin: objects.map((o) => `---\n${stringify(o)}`).join('') });
  t.equal(result.code, 0, result.stderr);
  // 2 services, 3 ports + 7 fixed = 10 clusters: 36 MiB + 10 × 42,000 bytes ≈ 36.4 MiB, printed as 36 MiB.
  t.match(result.stdout, /predicted memory: imports 2 services \/ 10 clusters \/ 0 endpoints; predicted 36 MiB; profile medium limits 256 MiB/);
});
