import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';

// Every SCREAMING_SNAKE string literal in src/policy is a code a user can meet (admission operations aside).
const OPERATIONS = new Set(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']);

t.test('every reason code in src/policy has a row in the README table, with what to do', async (t) => {
  const sources = readdirSync('src/policy').map((file) => readFileSync(join('src/policy', file), 'utf8'));
  const codes = new Set(sources.flatMap((text) => [...text.matchAll(/'([A-Z][A-Z_]{3,})'/g)].map((m) => m[1] ?? '')).filter((c) => !OPERATIONS.has(c)));
  // NO_SIDECAR is internal: validate reports it as MISSING_SIDECAR.
  codes.delete('NO_SIDECAR');
  t.ok(codes.size > 40, `found the codes (${codes.size})`);
  const readme = readFileSync('README.md', 'utf8');
  const rows = readme.split('\n').filter((line) => /^\| `[A-Z_]+`/.test(line));
  for (const code of [...codes, 'UNKNOWN_NAMESPACE']) {
    const row = rows.find((line) => line.split('|')[1]?.includes(`\`${code}\``));
    t.ok(row, `${code} has a row`);
    t.equal(row?.split('|').length, 6, `${code}: code, kind, meaning and what to do`);
  }
});
