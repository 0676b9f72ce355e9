import { tracingChannel } from 'node:diagnostics_channel';
import fastJson, { type ObjectSchema } from 'fast-json-stringify';
import { levels, pino, type BaseLogger } from 'pino';

/** A log line whose fields always have the same shape, serialised by code compiled once from their schema. */
export interface CompiledLogLine<T> {
  /**
   * Writes what `log[level](fields, message)` writes, to the same destination: pino's level, time
   * and bindings, the fields, the message. Nothing when the level is off. Falls back to
   * `log[level]` itself whenever pino would do more than serialise (see `compileLogLine`).
   */
  write(log: LevelLogger, level: 'info' | 'debug', fields: T): void;
}

/** What the line needs of a logger to fall back on: Fastify's request.log and pino's loggers are both. */
export type LevelLogger = Pick<BaseLogger, 'info' | 'debug'>;
type Internals = Record<symbol, unknown>;
interface LineStream { write(line: string): unknown; [needsMetadata: symbol]: unknown }

/** pino's own symbols for its internals (public as `pino.symbols`, "for integration"); msgPrefixSym is not in its types. */
const sym = pino.symbols as typeof pino.symbols & { readonly msgPrefixSym?: symbol };
const { streamSym, lsCacheSym, timeSym, chindingsSym, endSym, levelValSym, serializersSym, stringifiersSym, wildcardFirstSym, formattersSym, hooksSym, mixinSym, nestedKeySym, messageKeySym, errorKeySym, needsMetadataGsym } = sym;
const msgPrefixSym = sym.msgPrefixSym;
/** pino traces its serialisation on this channel (pino/lib/tools.js); with a subscriber, pino does the line. */
const asJsonChannel = tracingChannel('pino_asJson');

/**
 * Compiles the serialiser of one kind of line (fast-json-stringify, as src/admission/respond.ts)
 * for a pino logger. pino's generic walk over the object (a switch per value, its own escaping)
 * was most of a decision line's cost; the compiled one writes the same JSON.
 *
 * The line is `level + time + bindings + fields + msg`, the pieces pino itself keeps for the
 * logger (its level cache, time function, serialised bindings, line end), so a child's bindings
 * (Fastify's reqId) and the base ones (pid, hostname, name) are the same bytes. pino is left to
 * write the line itself when it would change it: a serializer or redaction on any of the fields'
 * keys, a `formatters.log`, a mixin, a nested key, a message prefix or another message key, a
 * logMethod or streamWrite hook, a destination that wants metadata (multistream), a subscriber
 * to its `pino_asJson` channel, or a logger that is not pino.
 *
 * The schema must describe every key the fields can have, in the order they are set, and the
 * top level must be an object with properties (test/observability/compiled-log-line.test.ts
 * holds the decision line to what pino writes).
 */
export function compileLogLine<T>(schema: ObjectSchema, message: string): CompiledLogLine<T> {
  const encode = fastJson(schema) as (fields: T) => string;
  const keys = Object.keys(schema.properties ?? {});
  const messageField = `,"msg":${JSON.stringify(message)}`;
  // Shared by a logger's children unless a child is given its own: checked once per object.
  const once = (check: (table: Record<string | symbol, unknown>) => boolean) => {
    const seen = new WeakMap<object, boolean>();
    return (table: object): boolean => {
      let plain = seen.get(table);
      if (plain === undefined) seen.set(table, (plain = check(table as Record<string | symbol, unknown>)));
      return plain;
    };
  };
  const serializersPlain = once((table) => keys.every((key) => table[key] === undefined));
  const stringifiersPlain = once((table) => table[wildcardFirstSym] === undefined && keys.every((key) => table[key] === undefined) && table.msg === undefined);

  /** The pieces of pino's line for this logger, or undefined when pino must write it. */
  const head = (log: Internals, levelValue: number): string | undefined => {
    const stream = log[streamSym] as LineStream | undefined;
    const lsCache = log[lsCacheSym] as Record<number, string> | undefined;
    const time = log[timeSym];
    const serializers = log[serializersSym];
    const stringifiers = log[stringifiersSym];
    const formatters = log[formattersSym] as { log?: unknown } | undefined;
    const hooks = log[hooksSym] as { logMethod?: unknown; streamWrite?: unknown } | undefined;
    const chindings = log[chindingsSym];
    if (typeof stream?.write !== 'function' || lsCache === undefined || typeof time !== 'function' || typeof chindings !== 'string') return undefined;
    if (typeof serializers !== 'object' || serializers === null || typeof stringifiers !== 'object' || stringifiers === null) return undefined;
    if (formatters?.log !== undefined || hooks?.logMethod !== undefined || hooks?.streamWrite !== undefined) return undefined;
    if (log[mixinSym] || log[nestedKeySym] || log[messageKeySym] !== 'msg' || (msgPrefixSym !== undefined && log[msgPrefixSym] !== undefined)) return undefined;
    if (keys.includes(log[errorKeySym] as string) || stream[needsMetadataGsym] === true || asJsonChannel.hasSubscribers) return undefined;
    if (!serializersPlain(serializers) || !stringifiersPlain(stringifiers)) return undefined;
    const level = lsCache[levelValue];
    if (level === undefined) return undefined;
    return level + (time as () => string)() + chindings;
  };

  return {
    write(log, level, fields) {
      const internals = log as unknown as Internals;
      const levelValue = levels.values[level] as number;
      const current = internals[levelValSym];
      if (typeof current === 'number' && current > levelValue) return;
      const start = head(internals, levelValue);
      if (start === undefined) {
        log[level](fields as object, message);
        return;
      }
      const body = encode(fields);
      // `{"a":1}` without its braces goes between pino's head and the message; a body with no field is `{}`.
      const line = body.length > 2 ? `${start},${body.slice(1, -1)}${messageField}${internals[endSym] as string}` : `${start}${messageField}${internals[endSym] as string}`;
      (internals[streamSym] as LineStream).write(line);
    },
  };
}
