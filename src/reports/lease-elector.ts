/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics
 * (k8s.io/client-go/tools/leaderelection, leaderelection.go; sources in docs/policy-reports.md):
 * - tryAcquireOrRenew: create the Lease when absent; else take it when its holder is empty or the
 *   record has not changed for a lease duration as seen on our own clock (observedTime, so clock
 *   skew between replicas does not matter), or renew it when we hold it. Every write is an update
 *   on the resourceVersion read, so of two candidates exactly one wins (the other gets 409).
 * - acquireTime and leaseTransitions move only when the holder changes.
 * - The leader renews every retry period and steps down when no renewal succeeded for the renew
 *   deadline, or at once when it sees another holder.
 * - On stop, a leader releases the Lease as ReleaseOnCancel does: holder cleared, duration 1 s.
 * The JavaScript client has no elector of its own; this is the small piece client-go's is.
 */
import { SYSTEM_CLOCK, type Clock } from '../kube/resource-watcher.js';

export interface LeaseRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: Date;
  readonly renewTime?: Date;
  readonly leaseTransitions: number;
}

export interface StoredLease {
  readonly record: LeaseRecord;
  readonly resourceVersion: string;
}

/** The Lease API as the elector uses it; errors carry the HTTP status as `code` (409 on a lost race). */
export interface LeaseClient {
  /** The Lease, or undefined when there is none (404). */
  get(): Promise<StoredLease | undefined>;
  create(record: LeaseRecord): Promise<StoredLease>;
  /** Replaces the Lease if it is still at `resourceVersion`; rejects with code 409 otherwise. */
  update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease>;
  /** Where the Lease lives, for logs: `namespace/name`. */
  readonly description: string;
}

export interface LeaderElectorOptions {
  readonly client: LeaseClient;
  /** This replica's identity (the pod name; hostname_uid as client-go's examples). */
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly clock?: Clock;
  /** 0 ≤ x < 1; client-go's JitterFactor 1.2 spreads acquire retries over retry × [1, 2.2). */
  readonly random?: () => number;
  readonly onStartedLeading?: () => void;
  /** Leadership lost (renewal failed, another holder) or released on stop. */
  readonly onStoppedLeading?: (reason: 'lost' | 'released') => void;
  /** The holder changed as this replica observed it (empty when released). */
  readonly onNewLeader?: (identity: string) => void;
  readonly onError?: (error: unknown) => void;
}

const JITTER_FACTOR = 1.2;

/** client-go's validation: leaseDuration > renewDeadline > JitterFactor × retryPeriod, all positive. */
export function electionTimingProblem(timing: Pick<LeaderElectorOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>): string | undefined {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timing;
  if (retryPeriodMs <= 0) return 'the retry period must be above zero';
  if (leaseDurationMs <= renewDeadlineMs) return `the lease duration (${leaseDurationMs / 1000} s) must be longer than the renew deadline (${renewDeadlineMs / 1000} s)`;
  if (renewDeadlineMs <= JITTER_FACTOR * retryPeriodMs) return `the renew deadline (${renewDeadlineMs / 1000} s) must be longer than ${JITTER_FACTOR} × the retry period (${retryPeriodMs / 1000} s)`;
  return undefined;
}

function sameRecord(a: LeaseRecord | undefined, b: LeaseRecord | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.leaseTransitions === b.leaseTransitions &&
    a.acquireTime?.getTime() === b.acquireTime?.getTime() &&
    a.renewTime?.getTime() === b.renewTime?.getTime()
  );
}

export class LeaderElector {
  readonly #options: LeaderElectorOptions;
  readonly #clock: Clock;
  #observed: StoredLease | undefined;
  /** Our clock's time when #observed last changed. */
  #observedAt = 0;
  /** Our clock's time of our last successful acquire or renew. */
  #renewedAt = 0;
  #leading = false;
  #stopped = false;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #lastLeader: string | undefined;

  constructor(options: LeaderElectorOptions) {
    const problem = electionTimingProblem(options);
    if (problem !== undefined) throw new Error(`leader election: ${problem}`);
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** The holder as last observed (empty when released or unknown). */
  get observedLeader(): string {
    return this.#observed?.record.holderIdentity ?? '';
  }

  /**
   * True while this replica holds the Lease: it leads, last saw itself as holder, and renewed
   * within the renew deadline (so a replica cut off from the API server stops writing on its own
   * before the lease can expire for the others).
   */
  isLeader(): boolean {
    return this.#leading && this.observedLeader === this.#options.identity && this.#clock.now() - this.#renewedAt < this.#options.renewDeadlineMs;
  }

  /** One attempt, as client-go's tryAcquireOrRenew: true when we hold the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity, leaseDurationMs } = this.#options;
    const now = this.#clock.now();
    const leaseDurationSeconds = Math.ceil(leaseDurationMs / 1000);
    try {
      const current = await client.get();
      if (current === undefined) {
        const created = await client.create({ holderIdentity: identity, leaseDurationSeconds, acquireTime: new Date(now), renewTime: new Date(now), leaseTransitions: 0 });
        this.#observe(created, now);
        this.#renewedAt = now;
        return true;
      }
      if (!sameRecord(this.#observed?.record, current.record) || this.#observed?.resourceVersion !== current.resourceVersion) this.#observe(current, now);
      const holder = current.record.holderIdentity;
      const held = holder !== '' && holder !== identity;
      const validFor = Math.max(current.record.leaseDurationSeconds, 0) * 1000;
      if (held && this.#observedAt + validFor > now) return false;
      const mine = holder === identity;
      const record: LeaseRecord = {
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: mine ? current.record.acquireTime ?? new Date(now) : new Date(now),
        renewTime: new Date(now),
        leaseTransitions: mine ? current.record.leaseTransitions : current.record.leaseTransitions + 1,
      };
      const updated = await client.update(record, current.resourceVersion);
      this.#observe(updated, now);
      this.#renewedAt = now;
      return true;
    } catch (error) {
      this.#options.onError?.(error);
      return false;
    }
  }

  #observe(lease: StoredLease, now: number): void {
    this.#observed = lease;
    this.#observedAt = now;
    const holder = lease.record.holderIdentity;
    if (holder !== this.#lastLeader) {
      this.#lastLeader = holder;
      this.#options.onNewLeader?.(holder);
    }
  }

  /** Campaigns in the background until `stop`: acquire, lead while renewals succeed, campaign again after a loss. */
  start(): void {
    this.#running ??= this.#run();
  }

  async #sleep(ms: number): Promise<void> {
    if (this.#stopped) return;
    await Promise.race([this.#clock.sleep(ms), new Promise<void>((resolve) => (this.#wake = resolve))]);
  }

  async #run(): Promise<void> {
    const { retryPeriodMs, renewDeadlineMs } = this.#options;
    const random = this.#options.random ?? Math.random;
    while (!this.#stopped) {
      while (!this.#stopped && !(await this.tryAcquireOrRenew())) await this.#sleep(retryPeriodMs * (1 + JITTER_FACTOR * random()));
      if (this.#stopped) return;
      this.#leading = true;
      this.#options.onStartedLeading?.();
      while (!this.#stopped) {
        await this.#sleep(retryPeriodMs);
        if (this.#stopped) return;
        const renewed = await this.tryAcquireOrRenew();
        const taken = this.observedLeader !== this.#options.identity;
        if (!renewed && (taken || this.#clock.now() - this.#renewedAt >= renewDeadlineMs)) break;
      }
      if (this.#stopped) return;
      this.#leading = false;
      this.#options.onStoppedLeading?.('lost');
    }
  }

  /**
   * Stops campaigning; a leader releases the Lease (holder cleared, duration 1 s, transitions
   * kept) so another replica takes over at its next retry instead of after the lease duration.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    await this.#running;
    if (!this.#leading) return;
    this.#leading = false;
    const observed = this.#observed;
    if (observed && observed.record.holderIdentity === this.#options.identity) {
      const now = new Date(this.#clock.now());
      try {
        const released = await this.#options.client.update(
          { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: observed.record.leaseTransitions },
          observed.resourceVersion,
        );
        this.#observe(released, this.#clock.now());
      } catch (error) {
        this.#options.onError?.(error);
      }
    }
    this.#options.onStoppedLeading?.('released');
  }
}
