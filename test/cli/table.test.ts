import { stripVTControlCharacters } from 'node:util';
import t from 'tap';
import { colourEnabled, paint, renderTable, visibleWidth } from '../../src/cli/table.js';

/** Where each column starts on screen, per line: equal offsets mean aligned columns. */
function columnStarts(output: string): number[][] {
  return output
    .trimEnd()
    .split('\n')
    .map((line) => [...stripVTControlCharacters(line).matchAll(/(?:^|(?<=  ))\S/g)].map((m) => m.index ?? -1));
}

t.test('coloured cells line up with plain ones: widths are measured on visible text', async (t) => {
  const header = ['NAME', 'VERDICT', 'REASON'];
  const rows = [
    ['a', { text: 'DENY', tone: 'red' as const }, 'MISSING_SIDECAR'],
    ['longer-name', { text: 'pass', tone: 'green' as const }, 'OK'],
  ];
  const coloured = renderTable(header, rows, { colour: true });
  const plain = renderTable(header, rows, { colour: false });
  t.match(coloured, '\u001b[31mDENY\u001b[0m', 'colour is there');
  t.notMatch(plain, /\u001b/, 'no escape codes without colour');
  t.equal(stripVTControlCharacters(coloured), plain, 'the same text on screen either way');
  t.same(columnStarts(coloured), [[0, 13, 22], [0, 13, 22], [0, 13, 22]], 'every column starts at the same place on every line');
  t.equal(plain, 'NAME         VERDICT  REASON\na            DENY     MISSING_SIDECAR\nlonger-name  pass     OK\n');
});

t.test('cells that already hold escape codes are measured without them', async (t) => {
  const out = renderTable(['A', 'B'], [[paint('xx', 'red', true), 'y'], ['xxxx', 'z']]);
  t.same(columnStarts(out), [[0, 6], [0, 6], [0, 6]]);
  t.equal(visibleWidth('\u001b[33mabc\u001b[0m'), 3);
});

t.test('no trailing blanks, the last column unpadded, short rows allowed', async (t) => {
  t.equal(renderTable(['A', 'LONG HEADER'], [['x'], ['yy', '']]), 'A   LONG HEADER\nx\nyy\n');
});

t.test('colour: only on a terminal; NO_COLOR (not empty) turns it off; FORCE_COLOR turns it on', async (t) => {
  t.equal(colourEnabled({ isTTY: true }, {}), true);
  t.equal(colourEnabled({ isTTY: false }, {}), false, 'a pipe or file gets no escape codes');
  t.equal(colourEnabled({}, {}), false);
  t.equal(colourEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  t.equal(colourEnabled({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset (no-color.org)');
  t.equal(colourEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  t.equal(colourEnabled({ isTTY: true }, { FORCE_COLOR: '0' }), true, 'FORCE_COLOR=0 does not force, the terminal still decides');
  t.equal(colourEnabled({ isTTY: false }, { FORCE_COLOR: '0' }), false);
  t.equal(colourEnabled({ isTTY: true }, { NO_COLOR: '1', FORCE_COLOR: '1' }), false, 'NO_COLOR wins');
});
