import t from 'tap';
import { parseManifests } from '../../src/cluster/file-cluster-view.js';
import { sourceOf } from '../../src/cluster/manifest-source.js';

function nameOf(object: unknown): string {
  return (object as { metadata: { name: string } }).metadata.name;
}

t.test('each document, and each item of a List, keeps the file and the line where it starts', async (t) => {
  const text = [
    '# leading comment', // 1
    '---', // 2
    'apiVersion: v1', // 3
    'kind: Namespace', // 4
    'metadata: {name: a}', // 5
    '---', // 6
    '', // 7
    'apiVersion: v1', // 8
    'kind: List', // 9
    'items:', // 10
    '- apiVersion: v1', // 11
    '  kind: Pod', // 12
    '  metadata: {name: p}', // 13
    '- {apiVersion: v1, kind: Pod, metadata: {name: q}}', // 14
  ].join('\n');
  const objects = parseManifests(text, 'dir/x.yaml');
  t.same(
    objects.map((o) => [nameOf(o), sourceOf(o)]),
    [
      ['a', { file: 'dir/x.yaml', line: 3 }],
      ['p', { file: 'dir/x.yaml', line: 11 }],
      ['q', { file: 'dir/x.yaml', line: 14 }],
    ],
  );
});

t.test('CRLF files and JSON documents count lines the same way', async (t) => {
  const crlf = parseManifests('apiVersion: v1\r\nkind: Namespace\r\nmetadata: {name: a}\r\n---\r\napiVersion: v1\r\nkind: Namespace\r\nmetadata: {name: b}\r\n', 'c.yaml');
  t.same(crlf.map((o) => sourceOf(o)?.line), [1, 5]);
  const json = parseManifests('\n\n{"apiVersion": "v1", "kind": "Namespace",\n "metadata": {"name": "j"}}\n', 'j.json');
  t.same(sourceOf(json[0]), { file: 'j.json', line: 3 });
});

t.test('objects not parsed from a manifest have no source', async (t) => {
  t.equal(sourceOf({ apiVersion: 'v1' }), undefined);
  t.equal(sourceOf('text'), undefined);
  t.equal(sourceOf(null), undefined);
});
