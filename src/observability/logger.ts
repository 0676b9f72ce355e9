import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Lines are handed to the destination in blocks of about this many characters (or on a flush):
 * each block is one write on libuv's thread pool, some 25-50 µs of CPU here whatever its size, so
 * 16 KiB blocks (sonic-boom's own largest write) cost a 400-byte line about a quarter of 4 KiB ones.
 */
export const LOG_BUFFER_BYTES = 16 * 1024;
/** The longest a line waits in the buffer on a quiet server. */
export const LOG_FLUSH_INTERVAL_MS = 1000;

export interface ServerLogger {
  readonly logger: Logger;
  /** Writes out what the buffer still holds; call before the process ends. */
  flush(): void;
}

/**
 * Collects pino's lines in an array and hands them to `out` joined, a block at a time.
 * sonic-boom's own `minLength` buffering measures the UTF-8 length of everything it already holds
 * on every write (Buffer.byteLength of its pending block): on Node 20 that was most of a log
 * line's cost. Here a line costs an array push; the block is measured once.
 */
export class LineBlocks implements DestinationStream {
  private lines: string[] = [];
  private size = 0;

  constructor(
    private readonly out: { write(block: string): unknown },
    private readonly blockSize = LOG_BUFFER_BYTES,
  ) {}

  write(line: string): void {
    this.lines.push(line);
    this.size += line.length;
    if (this.size >= this.blockSize) this.handOver();
  }

  /** Passes on what is collected, however little. */
  handOver(): void {
    if (this.lines.length === 0) return;
    const block = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join('');
    this.lines = [];
    this.size = 0;
    this.out.write(block);
  }
}

/**
 * The server's pino logger on an asynchronous, buffered destination: a log line never waits for
 * stdout on the request path, and lines go out in blocks, at least every second and when the
 * process ends (so nothing is lost on exit). sonic-boom does the writing (EAGAIN on a pipe,
 * partial writes, flushSync on exit).
 *
 * @example const { logger, flush } = createServerLogger('info'); process.once('exit', flush)
 */
export function createServerLogger(level: string, dest: number | string = 1): ServerLogger {
  const destination = pino.destination({ dest, sync: false, minLength: 0 });
  const blocks = new LineBlocks(destination);
  // No logger `name`: the decision line's own `name` (the object's) would be a second key of that
  // name, which strict JSON parsers (Elasticsearch's ingest, for one) refuse.
  const logger = pino({ level }, blocks);
  const timer = setInterval(() => blocks.handOver(), LOG_FLUSH_INTERVAL_MS);
  timer.unref();
  return {
    logger,
    flush: () => {
      blocks.handOver();
      try {
        destination.flushSync();
      } catch {
        // Not open yet, or the destination is gone: nothing more can be written.
      }
    },
  };
}
