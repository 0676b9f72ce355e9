import { pino, type Logger } from 'pino';

/** Lines are handed to the destination in blocks of this many bytes at least (or on a flush). */
export const LOG_BUFFER_BYTES = 4096;
/** The longest a line waits in the buffer on a quiet server. */
export const LOG_FLUSH_INTERVAL_MS = 1000;

export interface ServerLogger {
  readonly logger: Logger;
  /** Writes out what the buffer still holds; call before the process ends. */
  flush(): void;
}

/**
 * The server's pino logger on an asynchronous, buffered destination: a log line never waits for
 * stdout on the request path, and lines go out in blocks, flushed at least every second and when
 * the process ends (so nothing is lost on exit).
 *
 * @example const { logger, flush } = createServerLogger('info'); process.once('exit', flush)
 */
export function createServerLogger(level: string, dest: number | string = 1): ServerLogger {
  const destination = pino.destination({ dest, sync: false, minLength: LOG_BUFFER_BYTES });
  const logger = pino({ level, name: 'sidecar-guard' }, destination);
  const timer = setInterval(() => logger.flush(), LOG_FLUSH_INTERVAL_MS);
  timer.unref();
  return {
    logger,
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // Not open yet, or the destination is gone: nothing more can be written.
      }
    },
  };
}
