import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { INPUT_FORMATS } from '../../src/recommend/sources/detect-input.js';

// The README's table of accepted --from-files inputs must name every format detect-input.ts reads,
// once, and nothing it does not (plus the bug-report tree, which is a layout of those formats).
const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
const start = readme.indexOf('| input | detected by | used for | how to produce it |');
const lines = readme.slice(start).split('\n').slice(2);
const end = lines.findIndex((line) => !line.startsWith('|'));
// The first cell of each row, after the header and its separator.
const rows = lines.slice(0, end).map((line) => line.split(' | ')[0]?.replace(/^\| /, '') ?? '');

// Each format's row, recognised by what its first cell names.
const ROW_OF: Readonly<Record<keyof typeof INPUT_FORMATS, RegExp>> = {
  'prometheus-text': /^Prometheus text/,
  'stats-text': /^Envoy plain `\/stats`/,
  'clusters-text': /^Envoy `\/clusters`$/,
  'clusters-json': /^Envoy `\/clusters\?format=json`/,
  'config-dump': /^Envoy `\/config_dump`/,
  'memory-json': /^Envoy `\/memory`/,
  'prometheus-api': /^Prometheus HTTP API/,
};

t.test('README: one row per accepted input format, and the bug-report tree', async (t) => {
  t.ok(start > 0, 'the table is in the README');
  t.same(Object.keys(ROW_OF).sort(), Object.keys(INPUT_FORMATS).sort(), 'every format the code reads has a row pattern here');
  for (const [format, pattern] of Object.entries(ROW_OF)) {
    t.equal(rows.filter((r) => pattern.test(r)).length, 1, `${format}: one row`);
  }
  t.equal(rows.length, Object.keys(INPUT_FORMATS).length + 1, rows.join('\n'));
  t.match(rows.at(-1), /^`istioctl bug-report` directory/);
});
