import { readFileSync } from 'node:fs';
import t from 'tap';
import { REASON_CATALOG, reasonFor } from '../../src/audit/reason-catalog.js';

t.test('the catalog is the README reason-code table, row for row', async (t) => {
  const rows = readFileSync('README.md', 'utf8')
    .split('\n')
    .filter((line) => /^\| `[A-Z_]+`/.test(line))
    .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));
  const fromReadme = rows.map(([codes = '', kind, meaning, action]) => ({
    codes: [...codes.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]),
    kind,
    meaning,
    action,
  }));
  t.same(REASON_CATALOG, fromReadme, 'edit both: README.md and src/audit/reason-catalog.ts');
});

t.test('every code resolves to its row', async (t) => {
  t.equal(reasonFor('MISSING_SIDECAR')?.kind, 'deny');
  t.equal(reasonFor('EXEMPTION_EXPIRED')?.codes.length, 6, 'shared rows resolve for each of their codes');
  t.equal(reasonFor('NOT_A_CODE'), undefined);
});
