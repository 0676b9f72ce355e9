import type { AuditReport } from '../audit/audit.js';
import { SYSTEM_CLOCK, type Clock } from '../kube/resource-watcher.js';
import type { ReportObject } from './report-objects.js';
import type { ReportWriter, SyncResult } from './report-writer.js';

export interface ReportLoopOptions {
  /** The audit of the cluster now; undefined while the view cannot give a complete one (not synced). */
  readonly audit: (now: Date) => Promise<AuditReport | undefined>;
  readonly build: (report: AuditReport, now: Date) => readonly ReportObject[];
  readonly writer: Pick<ReportWriter, 'sync' | 'reset'>;
  readonly isLeader: () => boolean;
  /** A pass waits this long after a change for more changes to arrive… */
  readonly debounceMs: number;
  /** …but no longer than this after the first one (a steady stream of changes still gets passes). */
  readonly maxDelayMs: number;
  /**
   * A pass this often without any change (workload controllers and pods are read, not watched),
   * re-reading the stored reports first.
   */
  readonly resyncMs: number;
  readonly clock?: Clock;
  readonly onPass?: (result: SyncResult, report: AuditReport) => void;
  readonly onError?: (error: unknown) => void;
}

/**
 * Keeps the reports current while this replica leads: a change (`trigger`) or the resync interval
 * starts a debounced pass (audit → build → write what changed). One pass at a time; a change
 * during a pass gets a pass after it. Not leading: nothing is read or written.
 */
export class ReportLoop {
  readonly #options: ReportLoopOptions;
  readonly #clock: Clock;
  #dirty = false;
  #lastTriggerAt = 0;
  #stopped = false;
  #wakeIdle: (() => void) | undefined;
  #wakeDebounce: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(options: ReportLoopOptions) {
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** Something the reports depend on changed. */
  trigger(): void {
    this.#dirty = true;
    this.#lastTriggerAt = this.#clock.now();
    this.#wakeIdle?.();
  }

  /** This replica became the leader: forget what the writer knew and write everything from our own view. */
  leadershipStarted(): void {
    this.#options.writer.reset();
    this.trigger();
  }

  /** True while no more writes may start (stopping): the writer checks it before each one. */
  get stopping(): boolean {
    return this.#stopped;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Ends the loop; a pass in flight stops before its next write. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeIdle?.();
    this.#wakeDebounce?.();
    await this.#running;
  }

  async #sleep(ms: number, wake: (resolve: () => void) => void): Promise<void> {
    if (this.#stopped || ms <= 0) return;
    await Promise.race([this.#clock.sleep(ms), new Promise<void>((resolve) => wake(resolve))]);
  }

  async #run(): Promise<void> {
    const { debounceMs, maxDelayMs, resyncMs } = this.#options;
    while (!this.#stopped) {
      const resync = !this.#dirty;
      if (resync) await this.#sleep(resyncMs, (resolve) => (this.#wakeIdle = resolve));
      if (this.#stopped) return;
      // A resync also re-reads what is stored, so a report deleted or edited by hand is restored.
      if (resync && !this.#dirty) this.#options.writer.reset();
      if (!this.#options.isLeader()) {
        this.#dirty = false;
        continue;
      }
      // Debounce: until debounceMs after the last change, but no later than maxDelayMs after the first.
      const first = this.#dirty ? Math.min(this.#lastTriggerAt, this.#clock.now()) : this.#clock.now();
      for (;;) {
        const wait = Math.min(Math.max(this.#lastTriggerAt, first) + debounceMs, first + maxDelayMs) - this.#clock.now();
        if (this.#stopped || wait <= 0) break;
        await this.#sleep(wait, (resolve) => (this.#wakeDebounce = resolve));
      }
      this.#dirty = false;
      if (this.#stopped || !this.#options.isLeader()) continue;
      await this.#pass();
    }
  }

  async #pass(): Promise<void> {
    try {
      const now = new Date(this.#clock.now());
      const report = await this.#options.audit(now);
      if (report === undefined) {
        // Not synced yet: try again in a while (at least a second, so a zero debounce does not spin).
        await this.#sleep(Math.max(this.#options.debounceMs, 1000), (resolve) => (this.#wakeDebounce = resolve));
        this.#dirty = true;
        this.#lastTriggerAt = this.#clock.now() - this.#options.debounceMs; // already waited
        return;
      }
      const result = await this.#options.writer.sync(this.#options.build(report, now));
      this.#options.onPass?.(result, report);
    } catch (error) {
      // Retried at the next change or resync, not in a tight loop (a missing CRD or RBAC does not heal in seconds).
      this.#options.onError?.(error);
    }
  }
}
