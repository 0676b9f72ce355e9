import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { FileClusterView, loadFileClusterView } from '../../src/cluster/file-cluster-view.js';
import { clusterViewContract } from './cluster-view-contract.js';

t.test('contract: from files on disk', async (t) => {
  clusterViewContract(t, async (t, objects) => {
    const dir = await mkdtemp(join(tmpdir(), 'sg-view-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'nested'));
    const half = Math.ceil(objects.length / 2);
    await writeFile(join(dir, 'a.yaml'), objects.slice(0, half).map((o) => `---\n${stringify(o)}`).join(''));
    await writeFile(join(dir, 'nested', 'b.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects.slice(half) }));
    await writeFile(join(dir, 'README.md'), 'not a manifest: ignored');
    return loadFileClusterView([dir]);
  });
});

t.test('contract: from objects in memory', async (t) => {
  clusterViewContract(t, async (_t, objects) => FileClusterView.fromObjects(objects));
});

t.test('Sidecars without a namespace take the default one', async (t) => {
  const view = FileClusterView.fromObjects([{ apiVersion: 'networking.istio.io/v1alpha3', kind: 'Sidecar', metadata: { name: 'x' }, spec: { egress: [{ hosts: ['./*'] }] } }], 'team-a');
  t.same(view.sidecars('team-a').map((s) => s.name), ['x']);
});

t.test('a YAML error names the file and the line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-view-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [oops\n');
  await t.rejects(loadFileClusterView([dir]), { message: /broken\.yaml:\d+/ });
  const missing = join(dir, 'missing');
  await t.rejects(loadFileClusterView([missing]), { message: `${missing}: no such file or directory: check the path` }, 'the path and what to do, not ENOENT');
  await writeFile(join(dir, 'locked.yaml'), 'kind: Namespace\n', { mode: 0o000 });
  if (process.getuid?.() !== 0) await t.rejects(loadFileClusterView([join(dir, 'locked.yaml')]), { message: /locked\.yaml: permission denied: check the file mode/ });
});
