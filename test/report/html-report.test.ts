import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import t from 'tap';
import type { ProfileRecommendation } from '../../src/recommend/recommend-profiles.js';
import { runCli, type CliResult } from '../support/run-cli.js';

// Screenshots land here (gitignored): CI keeps them as artifacts.
const ARTIFACTS = join('test-artifacts', 'html-report');
const STATS = ['--from-files', 'examples/recommend/stats', '--pods', 'examples/recommend/pods.yaml'];

function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

const cli = (args: string[]): Promise<CliResult> => runCli(args);

interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
}

async function open(browser: Browser, file: string, colorScheme: 'light' | 'dark'): Promise<Opened> {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  // Self-contained: anything but the file itself is recorded and refused.
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors, requests };
}

async function seriesPoints(page: Page, chartId: string): Promise<Record<string, number>> {
  return page.$$eval(`#${chartId} g.series`, (groups) => Object.fromEntries(groups.map((g) => [g.getAttribute('data-series') ?? '', g.querySelectorAll('rect.point').length])));
}

const executablePath = findChromium();

t.test('HTML reports render in a real headless Chromium: no console errors, no network, the expected series and points', { skip: executablePath ? false : 'no chromium on PATH (Debian: apt-get install chromium; or set CHROMIUM_PATH)' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sg-html-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  mkdirSync(ARTIFACTS, { recursive: true });
  const profiles = join(dir, 'profiles.html');
  const scope = join(dir, 'scope.html');
  const audit = join(dir, 'audit.html');
  const runs = await Promise.all([
    cli(['recommend', 'profiles', ...STATS, '--html', profiles, '-o', 'json']),
    cli(['recommend', 'scope', ...STATS, '--html', scope, '-o', 'json']),
    cli(['audit', '-f', 'examples/audit/mesh-apps.yaml', '--html', audit, '-o', 'json']),
  ]);
  t.same(runs.map((r) => r.code), [0, 0, 1], runs.map((r) => r.stderr).join('\n'));
  const rec = JSON.parse(runs[0]?.stdout ?? '{}') as ProfileRecommendation;
  const scopes = JSON.parse(runs[1]?.stdout ?? '[]') as unknown[];

  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());

  for (const scheme of ['light', 'dark'] as const) {
    const { page, errors, requests } = await open(browser, profiles, scheme);
    const counted = (values: (number | undefined)[]) => values.filter((v) => v !== undefined).length;
    t.same(
      await seriesPoints(page, 'memory-by-workload'),
      {
        'observed P90': rec.workloads.length,
        'observed peak': rec.workloads.length,
        'profile request': rec.workloads.length,
        'profile limit': rec.workloads.length,
        'current limit': counted(rec.workloads.map((w) => w.currentLimit)),
      },
      `${scheme}: five series, a point per workload (current limit where known)`,
    );
    const namespaces = new Set(rec.workloads.map((w) => w.namespace)).size;
    t.same(await seriesPoints(page, 'namespaces-ranked'), { 'saved request': namespaces }, 'a bar per namespace');
    const values = await page.$$eval('#namespaces-ranked rect.point', (rects) => rects.map((r) => Number(r.getAttribute('data-value'))));
    t.same(values, [...values].sort((a, b) => b - a), 'namespaces ranked, most saved first');
    const background = String(await page.evaluate('getComputedStyle(document.body).backgroundColor'));
    t.equal(background, scheme === 'dark' ? 'rgb(13, 17, 23)' : 'rgb(255, 255, 255)', `${scheme} colour scheme`);
    await page.screenshot({ path: join(ARTIFACTS, `profiles-${scheme}.png`), fullPage: true });
    t.same(errors, [], `${scheme}: no console errors`);
    t.same(requests, [], `${scheme}: no network request`);
  }

  const scopePage = await open(browser, scope, 'light');
  const scopeSeries = await seriesPoints(scopePage.page, 'namespaces-ranked');
  t.same(scopeSeries, { 'clusters now': scopes.length, 'clusters with the Sidecar': scopes.length });
  t.equal(await scopePage.page.locator('button.copy').count(), scopes.length, 'a copy button per suggested Sidecar');
  await scopePage.page.locator('button.copy').first().click();
  const label = await scopePage.page.locator('button.copy').first().textContent();
  t.match(label, /^(Copied|Selected)/, 'the button copies (or selects where the clipboard is not offered)');
  const firstYaml = await scopePage.page.locator('pre').first().textContent();
  t.match(firstYaml, /kind: Sidecar/);
  if (label?.startsWith('Selected')) t.equal(String(await scopePage.page.evaluate('String(window.getSelection())')), firstYaml, 'the whole Sidecar is selected');
  await scopePage.page.screenshot({ path: join(ARTIFACTS, 'scope.png'), fullPage: true });
  t.same(scopePage.errors, []);
  t.same(scopePage.requests, []);

  const auditPage = await open(browser, audit, 'light');
  const meshed = 5; // examples/audit/mesh-apps.yaml: 6 workloads, node-exporter outside the mesh
  const auditSeries = await seriesPoints(auditPage.page, 'memory-by-workload');
  t.same(Object.keys(auditSeries), ['request now', 'limit now', 'request after', 'limit after']);
  t.equal(auditSeries['request after'], meshed, 'every meshed workload has a request after the webhook');
  t.same(await seriesPoints(auditPage.page, 'namespaces-ranked'), { findings: 4 }, 'a bar per namespace');
  t.ok((await auditPage.page.locator('button.copy').count()) >= 2, 'the --fix Sidecars with copy buttons');
  await auditPage.page.screenshot({ path: join(ARTIFACTS, 'audit.png'), fullPage: true });
  t.same(auditPage.errors, []);
  t.same(auditPage.requests, []);
});

t.test('the page names no outside resource and escapes what the data says', async (t) => {
  const { renderPage } = await import('../../src/report/html.js');
  const html = renderPage('<x>', 'meta', [{ kind: 'table', title: 't', head: ['a'], rows: [['<script>alert(1)</script>']] }]);
  t.notMatch(html, /(src|href)=["']?https?:/i, 'no http(s) resource');
  t.notMatch(html, /<script>alert/, 'cell text escaped');
  t.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  t.match(html, /Content-Security-Policy" content="default-src 'none'/, 'and the browser is told to load nothing');
  t.ok(existsSync(join('docs', 'images', 'html-report.png')), 'the README screenshot is checked in');
});

t.test('an --html file that cannot be written is a usage error naming it', async (t) => {
  const { runInProcess } = await import('../support/run-in-process.js');
  const result = await runInProcess(['audit', '-f', 'examples/audit/mesh-apps.yaml', '--html', '/nonexistent-dir/report.html']);
  t.equal(result.code, 2);
  t.match(result.stderr, /--html \/nonexistent-dir\/report\.html: no such file or directory: check the path/);
  t.equal(result.stdout, '', 'no report printed when the page could not be written');
  if (existsSync('/dev/full')) {
    const full = await runInProcess(['audit', '-f', 'examples/audit/mesh-apps.yaml', '--html', '/dev/full']);
    t.equal(full.code, 2);
    t.match(full.stderr, /--html \/dev\/full: no space left on the device/, 'a write failure is worded as one, not as "cannot be read"');
  }
});
