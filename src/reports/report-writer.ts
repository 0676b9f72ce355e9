import { apiStatus } from '../kube/api-error.js';
import { SYSTEM_CLOCK, type Clock } from '../kube/resource-watcher.js';
import { HASH_ANNOTATION, type ReportObject } from './report-objects.js';
import { reportKey, type ReportStore, type StoredReport } from './report-store.js';

export type WriteOperation = 'created' | 'updated' | 'deleted';

export interface ReportWriterOptions {
  readonly store: ReportStore;
  /** Writes (create, update, delete) per second at most; bursts of up to this many. */
  readonly writesPerSecond: number;
  /** Checked before every write: false (no longer the leader) ends the pass at once. */
  readonly canWrite: () => boolean;
  readonly clock?: Clock;
  readonly onWrite?: (operation: WriteOperation, report: { namespace?: string; name: string }) => void;
  readonly onError?: (operation: WriteOperation | 'list', report: { namespace?: string; name: string } | undefined, error: unknown) => void;
}

export interface SyncResult {
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
  readonly unchanged: number;
  readonly failed: number;
  /** True when the pass stopped early because `canWrite` turned false. */
  readonly interrupted: boolean;
}

/**
 * Makes the stored reports equal to the desired ones, writing only what changed: a report whose
 * stored hash (annotation sidecar-guard.io/report-hash) equals the desired one is left alone,
 * one that differs is replaced on the resourceVersion last seen (a 409 re-reads and retries once),
 * a new one is created (AlreadyExists re-reads and replaces), and a managed report no longer desired
 * (its namespace gone) is deleted. At most `writesPerSecond` writes start in any second. What it
 * knows of the stored reports is listed after each `reset` (a new leadership, a resync) and kept
 * from its own writes in between.
 */
export class ReportWriter {
  readonly #options: ReportWriterOptions;
  readonly #clock: Clock;
  #known: Map<string, StoredReport> | undefined;
  /** When the last `writesPerSecond` writes started, oldest first. */
  #recent: number[] = [];

  constructor(options: ReportWriterOptions) {
    if (!(options.writesPerSecond > 0)) throw new Error('writesPerSecond must be above zero');
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  /** Forgets what is stored: the next sync lists it again (a new leader starts from the API server's state). */
  reset(): void {
    this.#known = undefined;
  }

  /** A sliding window: at most writesPerSecond writes start in any second. */
  async #take(): Promise<void> {
    const limit = this.#options.writesPerSecond;
    for (;;) {
      const now = this.#clock.now();
      while (this.#recent.length > 0 && (this.#recent[0] ?? 0) <= now - 1000) this.#recent.shift();
      if (this.#recent.length < limit) {
        this.#recent.push(now);
        return;
      }
      await this.#clock.sleep((this.#recent[0] ?? now) + 1000 - now);
    }
  }

  async sync(desired: readonly ReportObject[]): Promise<SyncResult> {
    const counts = { created: 0, updated: 0, deleted: 0, unchanged: 0, failed: 0 };
    if (this.#known === undefined) {
      try {
        this.#known = new Map((await this.#options.store.list()).map((r) => [reportKey(r), r]));
      } catch (error) {
        this.#options.onError?.('list', undefined, error);
        return { ...counts, failed: 1, interrupted: false };
      }
    }
    const known = this.#known;
    const wanted = new Set<string>();
    for (const report of desired) {
      const ref = { ...(report.metadata.namespace !== undefined ? { namespace: report.metadata.namespace } : {}), name: report.metadata.name };
      const key = reportKey(ref);
      wanted.add(key);
      const stored = known.get(key);
      if (stored?.hash !== undefined && stored.hash === report.metadata.annotations[HASH_ANNOTATION]) {
        counts.unchanged += 1;
        continue;
      }
      await this.#take();
      if (!this.#options.canWrite()) return { ...counts, interrupted: true };
      const operation: WriteOperation = stored ? 'updated' : 'created';
      try {
        known.set(key, await this.#write(report, ref, stored));
        counts[operation] += 1;
        this.#options.onWrite?.(operation, ref);
      } catch (error) {
        known.delete(key); // unknown now: re-read before the next write
        counts.failed += 1;
        this.#options.onError?.(operation, ref, error);
      }
    }
    for (const [key, stored] of [...known]) {
      if (wanted.has(key)) continue;
      await this.#take();
      if (!this.#options.canWrite()) return { ...counts, interrupted: true };
      try {
        await this.#delete(stored);
        known.delete(key);
        counts.deleted += 1;
        this.#options.onWrite?.('deleted', stored);
      } catch (error) {
        counts.failed += 1;
        this.#options.onError?.('deleted', stored, error);
      }
    }
    return { ...counts, interrupted: false };
  }

  async #write(report: ReportObject, ref: { namespace?: string; name: string }, stored: StoredReport | undefined): Promise<StoredReport> {
    const { store } = this.#options;
    if (stored === undefined) {
      try {
        return await store.create(report);
      } catch (error) {
        if (apiStatus(error) !== 409) throw error;
      }
    } else {
      try {
        return await store.replace(report, stored.resourceVersion);
      } catch (error) {
        if (apiStatus(error) !== 409 && apiStatus(error) !== 404) throw error;
      }
    }
    // Someone wrote it since we looked (a previous leader, an admin): write ours on what is there now.
    const fresh = await store.get(ref);
    return fresh ? await store.replace(report, fresh.resourceVersion) : await store.create(report);
  }

  async #delete(stored: StoredReport): Promise<void> {
    const { store } = this.#options;
    try {
      await store.delete(stored, stored.resourceVersion);
    } catch (error) {
      if (apiStatus(error) === 404) return;
      if (apiStatus(error) !== 409) throw error;
      const fresh = await store.get(stored);
      if (fresh) await store.delete(fresh, fresh.resourceVersion);
    }
  }
}
