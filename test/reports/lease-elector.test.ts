import t from 'tap';
import { electionTimingProblem, LeaderElector, type LeaseClient, type LeaseRecord, type StoredLease } from '../../src/reports/lease-elector.js';
import { ManualClock, settle } from '../support/manual-clock.js';

/** One Lease in memory with the API server's optimistic concurrency: 409 on a stale resourceVersion or a second create. */
class LeaseStandIn {
  stored: StoredLease | undefined;
  #rv = 0;
  writes: { by: string; record: LeaseRecord }[] = [];

  client(by: string, options: { cutOff?: () => boolean } = {}): LeaseClient {
    const conflict = (message: string) => Object.assign(new Error(message), { code: 409 });
    const unreachable = () => Object.assign(new Error('connect ECONNREFUSED'), { code: undefined });
    return {
      description: 'sidecar-guard/sidecar-guard-reports',
      get: async () => {
        if (options.cutOff?.()) throw unreachable();
        return this.stored && structuredClone(this.stored);
      },
      create: async (record) => {
        if (options.cutOff?.()) throw unreachable();
        if (this.stored) throw conflict('leases "sidecar-guard-reports" already exists');
        return this.#put(by, record);
      },
      update: async (record, resourceVersion) => {
        if (options.cutOff?.()) throw unreachable();
        if (this.stored?.resourceVersion !== resourceVersion) throw conflict('the object has been modified');
        return this.#put(by, record);
      },
    };
  }

  #put(by: string, record: LeaseRecord): StoredLease {
    this.#rv += 1;
    this.stored = { record: structuredClone(record), resourceVersion: String(this.#rv) };
    this.writes.push({ by, record });
    return structuredClone(this.stored);
  }
}

const TIMING = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

function elector(lease: LeaseStandIn, clock: ManualClock, identity: string, events: string[] = [], cutOff?: () => boolean): LeaderElector {
  return new LeaderElector({
    client: lease.client(identity, cutOff ? { cutOff } : {}),
    identity,
    ...TIMING,
    clock,
    random: () => 0,
    onStartedLeading: () => events.push(`${identity} started`),
    onStoppedLeading: (reason) => events.push(`${identity} stopped (${reason})`),
  });
}

t.test("client-go's timing rules: lease duration > renew deadline > 1.2 × retry period", async (t) => {
  t.equal(electionTimingProblem(TIMING), undefined);
  t.match(electionTimingProblem({ ...TIMING, renewDeadlineMs: 15_000 }), /lease duration \(15 s\) must be longer than the renew deadline \(15 s\)/);
  t.match(electionTimingProblem({ ...TIMING, retryPeriodMs: 9_000 }), /renew deadline \(10 s\) must be longer than 1.2 × the retry period \(9 s\)/);
  t.throws(() => new LeaderElector({ client: new LeaseStandIn().client('a'), identity: 'a', ...TIMING, renewDeadlineMs: 20_000 }), /leader election: the lease duration/);
});

t.test('acquire: the first candidate creates the Lease with itself as holder; renewals keep acquireTime and transitions', async (t) => {
  const lease = new LeaseStandIn();
  const clock = new ManualClock();
  const a = elector(lease, clock, 'a');
  t.equal(await a.tryAcquireOrRenew(), true);
  const created = lease.stored?.record;
  t.same(created?.holderIdentity, 'a');
  t.equal(created?.leaseDurationSeconds, 15);
  t.equal(created?.leaseTransitions, 0);
  t.equal(created?.acquireTime?.getTime(), clock.now());
  await clock.advance(2_000);
  t.equal(await a.tryAcquireOrRenew(), true);
  t.equal(lease.stored?.record.acquireTime?.getTime(), created?.acquireTime?.getTime(), 'acquireTime kept on renewal');
  t.equal(lease.stored?.record.renewTime?.getTime(), clock.now(), 'renewTime moved');
  t.equal(lease.stored?.record.leaseTransitions, 0);
});

t.test('a held, fresh Lease is not taken; after a lease duration without change (on our own clock) it is, and transitions count', async (t) => {
  const lease = new LeaseStandIn();
  const clock = new ManualClock();
  const a = elector(lease, clock, 'a');
  const b = elector(lease, clock, 'b');
  t.ok(await a.tryAcquireOrRenew());
  t.equal(await b.tryAcquireOrRenew(), false, 'b sees a fresh holder');
  t.equal(b.observedLeader, 'a');
  await clock.advance(14_000);
  t.equal(await b.tryAcquireOrRenew(), false, 'still within the 15 s lease duration since b first saw the record');
  await clock.advance(1_000);
  t.equal(await b.tryAcquireOrRenew(), true, 'taken once the record has not changed for 15 s');
  t.equal(lease.stored?.record.holderIdentity, 'b');
  t.equal(lease.stored?.record.leaseTransitions, 1);
  t.equal(lease.stored?.record.acquireTime?.getTime(), clock.now(), 'a new holder gets a new acquireTime');
  t.equal(await a.tryAcquireOrRenew(), false, 'a, back, does not take it back from the fresh holder');
  t.equal(a.observedLeader, 'b');
});

t.test('a renewal by the holder restarts the follower\'s wait: the record changed', async (t) => {
  const lease = new LeaseStandIn();
  const clock = new ManualClock();
  const a = elector(lease, clock, 'a');
  const b = elector(lease, clock, 'b');
  await a.tryAcquireOrRenew();
  await b.tryAcquireOrRenew();
  await clock.advance(10_000);
  await a.tryAcquireOrRenew();
  await b.tryAcquireOrRenew();
  await clock.advance(10_000);
  t.equal(await b.tryAcquireOrRenew(), false, '20 s since b first looked, but only 10 s since the record last changed');
});

t.test('lose on conflict: two candidates racing for an expired Lease, exactly one wins', async (t) => {
  const lease = new LeaseStandIn();
  const clock = new ManualClock();
  const a = elector(lease, clock, 'a');
  const b = elector(lease, clock, 'b');
  const c = elector(lease, clock, 'c');
  await c.tryAcquireOrRenew();
  await Promise.all([a.tryAcquireOrRenew(), b.tryAcquireOrRenew()]);
  await clock.advance(15_000);
  const [wonA, wonB] = await Promise.all([a.tryAcquireOrRenew(), b.tryAcquireOrRenew()]);
  t.equal(Number(wonA) + Number(wonB), 1, 'one of the two wins, the other got 409');
  t.equal(lease.stored?.record.holderIdentity, wonA ? 'a' : 'b');
  t.equal(lease.stored?.record.leaseTransitions, 1, 'one transition, not two');
});

t.test('the running elector: leads, renews every retry period, and on stop releases (holder cleared, 1 s) so a follower takes over at its next retry', async (t) => {
  const lease = new LeaseStandIn();
  const clock = new ManualClock();
  const events: string[] = [];
  const a = elector(lease, clock, 'a', events);
  const b = elector(lease, clock, 'b', events);
  a.start();
  await settle();
  b.start();
  await settle();
  t.same(events, ['a started']);
  t.ok(a.isLeader());
  t.notOk(b.isLeader());
  await clock.advance(6_000);
  t.equal(lease.writes.filter((w) => w.by === 'a').length, 4, 'created, then renewed at 2, 4 and 6 s');
  t.notOk(b.isLeader());

  await a.stop();
  t.same(lease.stored?.record.holderIdentity, '', 'released: holder cleared');
  t.equal(lease.stored?.record.leaseDurationSeconds, 1);
  t.equal(lease.stored?.record.leaseTransitions, 0, 'transitions kept on release');
  t.notOk(a.isLeader());
  t.same(events, ['a started', 'a stopped (released)']);
  // b retries every 2 s × (1 + 1.2 × jitter) = 2 s here: it takes an empty holder at once.
  await clock.advance(2_000);
  t.ok(b.isLeader(), 'b took over within one retry period, not a lease duration');
  t.equal(lease.stored?.record.holderIdentity, 'b');
  t.equal(lease.stored?.record.leaseTransitions, 1);
  t.same(events, ['a started', 'a stopped (released)', 'b started']);
  await b.stop();
});

t.test('a leader that cannot renew stops leading after the renew deadline, before the lease expires for the others', async (t) => {
  const lease = new LeaseStandIn();
  const clock = new ManualClock();
  const events: string[] = [];
  let partitioned = false;
  const a = elector(lease, clock, 'a', events, () => partitioned);
  const b = elector(lease, clock, 'b', events);
  a.start();
  await settle();
  b.start();
  await settle();
  t.ok(a.isLeader());
  partitioned = true;
  await clock.advance(9_000);
  t.ok(a.isLeader(), 'within the renew deadline it still leads');
  await clock.advance(1_000);
  t.notOk(a.isLeader(), 'no renewal for 10 s: it stops writing at once (isLeader is false)');
  await clock.advance(2_000);
  t.ok(events.includes('a stopped (lost)'), 'and the loop steps down');
  t.notOk(b.isLeader(), 'b still waits: the lease has not expired on its clock yet');
  await clock.advance(4_000);
  t.ok(b.isLeader(), 'b takes over once the lease expired (15 s after it last changed)');
  t.equal(lease.stored?.record.holderIdentity, 'b');
  t.equal(lease.stored?.record.leaseTransitions, 1);
  partitioned = false;
  await clock.advance(2_000);
  t.notOk(a.isLeader(), 'a, reconnected, campaigns again and finds b holding it');
  t.equal(a.observedLeader, 'b');
  await a.stop();
  await b.stop();
  t.equal(lease.stored?.record.holderIdentity, '', 'b released on stop');
});

t.test('a leader that sees another holder steps down at once', async (t) => {
  const lease = new LeaseStandIn();
  const clock = new ManualClock();
  const events: string[] = [];
  const a = elector(lease, clock, 'a', events);
  a.start();
  await settle();
  t.ok(a.isLeader());
  // Someone overwrote the Lease (an admin, a replica with a skewed view): a must not keep writing.
  const stored = lease.stored;
  if (!stored) throw new Error('no lease');
  await lease.client('x').update({ ...stored.record, holderIdentity: 'x', leaseTransitions: 1 }, stored.resourceVersion);
  await clock.advance(2_000);
  t.notOk(a.isLeader());
  t.same(events, ['a started', 'a stopped (lost)']);
  await a.stop();
  t.equal(lease.stored?.record.holderIdentity, 'x', 'a non-leader does not release what it does not hold');
});
