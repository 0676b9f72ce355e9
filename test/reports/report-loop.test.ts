import t from 'tap';
import type { AuditReport } from '../../src/audit/audit.js';
import type { ReportObject } from '../../src/reports/report-objects.js';
import { ReportLoop } from '../../src/reports/report-loop.js';
import type { SyncResult } from '../../src/reports/report-writer.js';
import { ManualClock } from '../support/manual-clock.js';

const EMPTY: AuditReport = { namespaces: [], workloads: [], summary: { namespaces: 0, meshNamespaces: 0, workloads: 0, meshWorkloads: 0, unknown: 0, denied: 0, namespaceProblems: 0 } };
const DONE: SyncResult = { created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0, interrupted: false };

function loop(options: { leader?: () => boolean; synced?: () => boolean } = {}) {
  const clock = new ManualClock();
  const events: string[] = [];
  const audits: number[] = [];
  const passes = { count: 0 };
  const instance = new ReportLoop({
    audit: async (now) => {
      if (options.synced && !options.synced()) return undefined;
      audits.push(now.getTime() - START);
      return EMPTY;
    },
    build: () => [] as ReportObject[],
    writer: {
      sync: async () => {
        events.push(`sync@${clock.now() - START}`);
        return DONE;
      },
      reset: () => events.push(`reset@${clock.now() - START}`),
    },
    isLeader: options.leader ?? (() => true),
    debounceMs: 2_000,
    maxDelayMs: 10_000,
    resyncMs: 60_000,
    clock,
    onPass: () => (passes.count += 1),
  });
  const START = clock.now();
  instance.start();
  t.teardown(() => instance.stop());
  return { clock, events, audits, passes, loop: instance };
}

t.test('changes within the debounce make one pass, written after the last change settles', async (t) => {
  const { clock, events, passes, loop: l } = loop();
  l.trigger();
  await clock.advance(1_000);
  l.trigger();
  await clock.advance(1_000);
  l.trigger();
  await clock.advance(1_999);
  t.same(events, [], 'still settling');
  await clock.advance(2_001);
  t.same(events, ['sync@4000'], 'one pass, 2 s after the last of three changes');
  t.equal(passes.count, 1);
});

t.test('a steady stream of changes still gets a pass every max delay', async (t) => {
  const { clock, events, loop: l } = loop();
  for (let i = 0; i < 25; i++) {
    l.trigger();
    await clock.advance(1_000);
  }
  t.same(events, ['sync@10000', 'sync@20000'], 'every 10 s, not never');
});

t.test('a follower reads and writes nothing; becoming the leader resets the writer and writes at once (after the debounce)', async (t) => {
  let leader = false;
  const { clock, events, audits, loop: l } = loop({ leader: () => leader });
  l.trigger();
  await clock.advance(5_000);
  await clock.advance(60_000);
  t.same(events, ['reset@60000'], 'no pass as a follower (the resync only forgets what it knew)');
  t.same(audits, [], 'not even an audit');
  leader = true;
  l.leadershipStarted();
  await clock.advance(2_000);
  t.same(events, ['reset@60000', 'reset@65000', 'sync@67000']);
});

t.test('the resync interval makes a pass without any change, re-reading the stored reports first', async (t) => {
  const { clock, events } = loop();
  await clock.advance(59_999);
  t.same(events, []);
  await clock.advance(2_001);
  t.same(events, ['reset@60000', 'sync@62000']);
});

t.test('not synced: no pass yet, and another try after a debounce until it is', async (t) => {
  let synced = false;
  const { clock, events, loop: l } = loop({ synced: () => synced });
  l.trigger();
  await clock.advance(6_000);
  t.same(events, []);
  synced = true;
  await clock.advance(2_000);
  t.same(events, ['sync@8000']);
});

t.test('stop ends the loop at once, mid-debounce', async (t) => {
  const { clock, events, loop: l } = loop();
  l.trigger();
  await clock.advance(500);
  await l.stop();
  t.equal(l.stopping, true);
  await clock.advance(10_000);
  t.same(events, [], 'no pass after stop');
});
