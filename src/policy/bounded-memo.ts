/**
 * The longest text a tenant writes (a quantity, an annotation value) that a memo keeps as a key:
 * longer texts are computed each time, so they cost time, never memory.
 */
export const MEMO_TEXT_MAX = 32;

/**
 * A memo of values computed from request text: at most `capacity` entries, emptied when full, keys
 * longer than `keyMax` never kept. Many distinct keys (a tenant writing ever new values) cost
 * recomputation, not memory.
 */
export class BoundedMemo<V> {
  readonly #entries = new Map<string, V>();

  constructor(
    private readonly capacity: number,
    private readonly keyMax = Number.POSITIVE_INFINITY,
  ) {}

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /** Keeps `value` under `key` (unless the key is too long) and returns it. */
  set(key: string, value: V): V {
    if (key.length > this.keyMax) return value;
    if (this.#entries.size >= this.capacity) this.#entries.clear();
    this.#entries.set(key, value);
    return value;
  }

  get size(): number {
    return this.#entries.size;
  }
}
