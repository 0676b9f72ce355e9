import type { Watch } from '@kubernetes/client-node';

/** One page of a LIST, with its items already reduced. */
export interface ListPage<T = unknown> {
  readonly items: readonly T[];
  readonly resourceVersion: string;
  readonly continueToken?: string;
}

export type ListPageFn<T = unknown> = (page: { limit: number; continueToken?: string }) => Promise<ListPage<T>>;

/** A LIST reply (raw JSON), as far as paging reads it. */
export interface ClientList {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

/**
 * A LIST reply as a ListPage, each item reduced by `reduce` as the page arrives (undefined drops
 * it): a full object never outlives its page.
 */
export function toListPage<T>(list: ClientList, reduce: (item: unknown) => T | undefined): ListPage<T> {
  const token = list.metadata?.continue;
  const items = (list.items ?? []).map(reduce).filter((facts) => facts !== undefined);
  return { items, resourceVersion: list.metadata?.resourceVersion ?? '', ...(token ? { continueToken: token } : {}) };
}

export type RestartReason = 'gone' | 'error' | 'closed' | 'stale' | 'list-error';

export interface WatcherEvents<T = unknown> {
  /** The full contents after a (re-)list, as `list` reduced them: replaces everything held before. */
  onReplace(items: readonly T[]): void;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: unknown): void;
  onRestart?(reason: RestartReason, error?: unknown): void;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
};

export interface ResourceWatcherOptions<T = unknown> {
  /** Label for logs and metrics, e.g. `namespaces`. */
  readonly resource: string;
  /** Path of the collection, e.g. `/api/v1/namespaces`. */
  readonly path: string;
  readonly list: ListPageFn<T>;
  /** A label selector for the watch; `list` must apply the same one. */
  readonly labelSelector?: string;
  readonly watch: Pick<Watch, 'watch'>;
  readonly events: WatcherEvents<T>;
  /** A watch with no event or bookmark for this long is restarted; the view counts as stale. */
  readonly staleAfterMs?: number;
  readonly pageSize?: number;
  readonly backoff?: { initialMs: number; maxMs: number };
  readonly clock?: Clock;
}

function isGone(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: number } | undefined;
  return e?.statusCode === 410 || e?.code === 410;
}

/**
 * List-then-watch for one resource, supervised: paged LIST, WATCH from its resourceVersion with
 * bookmarks; 410 Gone re-lists; errors and dropped connections re-list after a capped
 * exponential backoff; a watch that stays silent past `staleAfterMs` is restarted (JS watches can
 * stall without an error). Built on client-node's `Watch` rather than its informer so that sync,
 * staleness and restarts are observable.
 */
export class ResourceWatcher<T = unknown> {
  readonly #options: ResourceWatcherOptions<T>;
  readonly #clock: Clock;
  #stopped = true;
  #listed = false;
  #resourceVersion = '';
  #lastActivity = 0;
  #abort: AbortController | undefined;
  /** Ends the current wait at once: a watch (even before its request has connected) or a backoff. */
  #cancel: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #restarts = 0;

  constructor(options: ResourceWatcherOptions<T>) {
    this.#options = options;
    this.#clock = options.clock ?? SYSTEM_CLOCK;
  }

  get resource(): string {
    return this.#options.resource;
  }

  /** True once listed and while the watch has shown life within the staleness bound. */
  isSynced(): boolean {
    return this.#listed && !this.isStale();
  }

  isStale(): boolean {
    return this.#clock.now() - this.#lastActivity > (this.#options.staleAfterMs ?? 300_000);
  }

  /** Milliseconds since the last list, event, bookmark or successful watch connection. */
  sinceLastActivity(): number {
    return this.#clock.now() - this.#lastActivity;
  }

  get restarts(): number {
    return this.#restarts;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    this.#cancel?.();
    await this.#loop;
  }

  #touch(): void {
    this.#lastActivity = this.#clock.now();
  }

  /**
   * The backoff before the next try; stop() ends it at once. The clock's sleep alone would hold
   * stop() for up to `backoff.maxMs`, and the system clock's timer is unref'd: with nothing else
   * keeping the process alive, stop() would never resolve.
   */
  async #backoff(ms: number): Promise<void> {
    if (this.#stopped) return;
    await new Promise<void>((resolve) => {
      this.#cancel = resolve;
      void this.#clock.sleep(ms).then(resolve);
    });
  }

  #restart(reason: RestartReason, error?: unknown): void {
    this.#restarts += 1;
    this.#options.events.onRestart?.(reason, error);
  }

  async #list(): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.#options.list({ limit: this.#options.pageSize ?? 500, ...(continueToken ? { continueToken } : {}) });
      for (const item of page.items) items.push(item);
      resourceVersion ||= page.resourceVersion;
      continueToken = page.continueToken;
    } while (continueToken && !this.#stopped);
    this.#resourceVersion = resourceVersion;
    this.#options.events.onReplace(items);
    this.#listed = true;
    this.#touch();
  }

  /** Runs one watch until it ends; resolves with why it ended. */
  async #watchOnce(): Promise<{ reason: RestartReason | 'stopped'; error?: unknown }> {
    const staleAfter = this.#options.staleAfterMs ?? 300_000;
    return new Promise((resolve) => {
      let settled = false;
      let gone = false;
      const finish = (result: { reason: RestartReason | 'stopped'; error?: unknown }) => {
        if (settled) return;
        settled = true;
        this.#clock.clearInterval(timer);
        resolve(result);
      };
      this.#cancel = () => finish({ reason: 'stopped' });
      const timer = this.#clock.setInterval(() => {
        if (this.#clock.now() - this.#lastActivity > staleAfter) {
          finish({ reason: 'stale' });
          this.#abort?.abort();
        }
      }, Math.max(10, Math.floor(staleAfter / 4)));
      const selector = this.#options.labelSelector;
      const query = { resourceVersion: this.#resourceVersion, allowWatchBookmarks: true, ...(selector ? { labelSelector: selector } : {}) };
      const onEvent = (type: string, object: unknown) => {
        this.#touch();
        if (type === 'BOOKMARK' || type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
          const rv = (object as { metadata?: { resourceVersion?: string } } | null)?.metadata?.resourceVersion;
          if (type !== 'BOOKMARK') this.#options.events.onEvent(type, object);
          if (rv) this.#resourceVersion = rv;
        } else if (type === 'ERROR') {
          gone = isGone(object);
        }
      };
      const onDone = (error: unknown) => {
        if (this.#stopped) return finish({ reason: 'stopped' });
        if (gone || isGone(error)) return finish({ reason: 'gone' });
        if (error && (error as { name?: string }).name !== 'AbortError') return finish({ reason: 'error', error });
        finish({ reason: 'closed' });
      };
      this.#options.watch.watch(this.#options.path, query, onEvent, onDone).then(
        (controller) => {
          this.#abort = controller;
          if (settled || this.#stopped) controller.abort();
          else this.#touch();
        },
        (error: unknown) => onDone(error),
      );
    });
  }

  async #run(): Promise<void> {
    const backoff = this.#options.backoff ?? { initialMs: 250, maxMs: 30_000 };
    let delay = backoff.initialMs;
    let needList = true;
    while (!this.#stopped) {
      if (needList) {
        try {
          await this.#list();
          needList = false;
        } catch (error) {
          if (this.#stopped) break;
          this.#restart('list-error', error);
          await this.#backoff(delay);
          delay = Math.min(delay * 2, backoff.maxMs);
          continue;
        }
      }
      const ended = await this.#watchOnce();
      if (ended.reason === 'stopped' || this.#stopped) break;
      this.#restart(ended.reason, ended.error);
      if (ended.reason === 'gone' || ended.reason === 'error') needList = true;
      if (ended.reason === 'error') {
        await this.#backoff(delay);
        delay = Math.min(delay * 2, backoff.maxMs);
      } else {
        delay = backoff.initialMs;
      }
    }
  }
}
