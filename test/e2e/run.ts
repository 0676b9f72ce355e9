/**
 * npm run test:e2e: uses the running environment (npm run e2e:up) or starts one for the run and
 * stops it afterwards, then runs every test/e2e/suite/*.e2e.ts file with tap, one file at a time
 * (they share one control plane and some take the webhook down on purpose).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../charts/helm.js';
import { down, isUp, readState, up } from './harness/environment.js';

const suiteDir = join(ROOT, 'test', 'e2e', 'suite');
const only = process.argv.slice(2);
const files = only.length > 0 ? only : readdirSync(suiteDir).filter((f) => f.endsWith('.e2e.ts')).sort().map((f) => join('test', 'e2e', 'suite', f));

let started = false;
let status = 1;
try {
  if (!isUp(readState())) {
    await up((line) => console.error(`e2e: ${line}`));
    started = true;
  } else {
    console.error('e2e: using the running environment (npm run e2e:up)');
  }
  const tap = spawnSync(join(ROOT, 'node_modules', '.bin', 'tap'), ['--jobs=1', '--disable-coverage', '--timeout=300', ...files], { cwd: ROOT, stdio: 'inherit' });
  status = tap.status ?? 1;
} catch (error) {
  console.error(`e2e: ${(error as Error).message}`);
  // The closing line CI counts: the suite did not run.
  console.log('# { total: 1, pass: 0, fail: 1 }');
} finally {
  if (started) await down();
}
process.exit(status);
