/** A clock that moves only when a test says so: sleeps resolve as `advance` passes their time. */
import type { Clock } from '../../src/kube/resource-watcher.js';

interface Sleeper {
  at: number;
  resolve: () => void;
}

/** Lets every promise chain that can run, run (in-memory stand-ins answer in microtasks). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

export class ManualClock implements Clock {
  #now: number;
  #sleepers: Sleeper[] = [];

  constructor(start = Date.UTC(2026, 11, 3, 9, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#sleepers.push({ at: this.#now + Math.max(0, ms), resolve }));
  }

  setInterval(): unknown {
    throw new Error('ManualClock has no intervals');
  }

  clearInterval(): void {}

  /** Sleeps pending. */
  get sleeping(): number {
    return this.#sleepers.length;
  }

  /** Moves time forward by `ms`, waking each sleeper at its own time, in order, and letting it run. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (;;) {
      this.#sleepers.sort((a, b) => a.at - b.at);
      const next = this.#sleepers[0];
      if (!next || next.at > target) break;
      this.#sleepers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.resolve();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}
