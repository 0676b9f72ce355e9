import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { REASON_CATALOG, reasonFor } from '../../src/audit/reason-catalog.js';

// The README's reason-code table, once: its rows as cells between the pipes.
const README_ROWS = readFileSync('README.md', 'utf8')
  .split('\n')
  .filter((line) => /^\| `[A-Z_]+`/.test(line))
  .map((line) => line.split('|').slice(1, -1).map((cell) => cell.trim()));

t.test('the catalog is the README reason-code table, row for row', async (t) => {
  const fromReadme = README_ROWS.map(([codes = '', kind, meaning, action]) => ({
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

// Every SCREAMING_SNAKE string literal in src/policy is a code a user can meet (admission operations aside).
const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

t.test('every reason code in src/policy has a row in the README table, with what to do', async (t) => {
  const sources = readdirSync('src/policy').map((file) => readFileSync(join('src/policy', file), 'utf8'));
  const codes = new Set(sources.flatMap((text) => [...text.matchAll(/'([A-Z][A-Z_]{3,})'/g)].map((m) => m[1] ?? '')).filter((c) => !OPERATIONS.has(c)));
  // NO_SIDECAR is internal: validate reports it as MISSING_SIDECAR.
  codes.delete('NO_SIDECAR');
  t.ok(codes.size > 40, `found the codes (${codes.size})`);
  for (const code of [...codes, 'UNKNOWN_NAMESPACE']) {
    const row = README_ROWS.find((cells) => cells[0]?.includes(`\`${code}\``));
    t.ok(row, `${code} has a row`);
    t.equal(row?.length, 4, `${code}: code, kind, meaning and what to do`);
    t.ok(reasonFor(code), `${code} is in the catalog (SARIF rules, JUnit "What to do")`);
  }
});
