import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { describeFileError } from '../fs-errors.js';
import { parseConfigWithNotices, BUILT_IN_CONFIG } from './load-config.js';
import type { Config } from './types.js';

export interface ConfigStoreEvents {
  onReload?: (config: Config) => void;
  onReject?: (error: Error) => void;
  /** What loading (or reloading) a file decided on the user's behalf, e.g. a built-in rule left out. */
  onNotice?: (notice: string) => void;
}

/**
 * Holds the current configuration. With a file, it polls the file and swaps in a new config
 * when it changes and validates; a bad file is rejected and the last good config stays.
 */
export class ConfigStore {
  #current: Config;
  #path: string | undefined;
  #events: ConfigStoreEvents;
  #listener: ((current: Stats, previous: Stats) => void) | undefined;

  private constructor(config: Config, path: string | undefined, events: ConfigStoreEvents) {
    this.#current = config;
    this.#path = path;
    this.#events = events;
  }

  /** A store over the built-in defaults, or over `path` (which must load, or this throws). */
  static async open(path: string | undefined, events: ConfigStoreEvents = {}): Promise<ConfigStore> {
    if (path === undefined) return new ConfigStore(BUILT_IN_CONFIG, undefined, events);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw describeFileError(error, `configuration file ${path}`, path);
    }
    const { config, notices } = parseConfigWithNotices(text, path);
    for (const notice of notices) events.onNotice?.(notice);
    return new ConfigStore(config, path, events);
  }

  /** A fixed config (tests, offline commands). */
  static of(config: Config): ConfigStore {
    return new ConfigStore(config, undefined, {});
  }

  current(): Config {
    return this.#current;
  }

  /** Re-reads the file now; resolves to true when a new config was taken. */
  async reload(): Promise<boolean> {
    if (this.#path === undefined) return false;
    try {
      const { config: next, notices } = parseConfigWithNotices(await readFile(this.#path, 'utf8'), this.#path);
      this.#current = next;
      this.#events.onReload?.(next);
      for (const notice of notices) this.#events.onNotice?.(notice);
      return true;
    } catch (error) {
      this.#events.onReject?.(error as Error);
      return false;
    }
  }

  /** Polls the file every `intervalMs` (polling survives ConfigMap symlink swaps). */
  watch(intervalMs = 2000): void {
    if (this.#path === undefined || this.#listener) return;
    this.#listener = (current, previous) => {
      if (current.mtimeMs !== previous.mtimeMs || current.size !== previous.size || current.ino !== previous.ino) void this.reload();
    };
    watchFile(this.#path, { interval: intervalMs, persistent: false }, this.#listener);
  }

  close(): void {
    if (this.#path !== undefined && this.#listener) unwatchFile(this.#path, this.#listener);
    this.#listener = undefined;
  }
}
