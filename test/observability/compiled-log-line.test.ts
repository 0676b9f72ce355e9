import { tracingChannel } from 'node:diagnostics_channel';
import fc from 'fast-check';
import { pino, type ChildLoggerOptions, type LoggerOptions } from 'pino';
import t from 'tap';
import { decisionLogLine, type DecisionLogFields } from '../../src/http/decision-log.js';
import { fuzzParameters, oddString } from '../fuzz/fuzz-support.js';

/**
 * A root pino logger writing into an array and a child carrying a reqId, as Fastify makes one per
 * request; `viaPino` counts the lines pino serialised itself (its asJson), so each case shows which
 * path wrote the line.
 */
function capture(options: LoggerOptions = {}, childOptions?: ChildLoggerOptions) {
  const lines: string[] = [];
  const root = pino(Object.assign({ name: 'sidecar-guard' }, options), { write: (line: string) => void lines.push(line) });
  const internals = root as unknown as Record<symbol, (...args: unknown[]) => string>;
  const asJson = internals[pino.symbols.asJsonSym] as (...args: unknown[]) => string;
  const counter = { viaPino: 0 };
  internals[pino.symbols.asJsonSym] = function (this: unknown, ...args: unknown[]) {
    counter.viaPino++;
    return asJson.apply(this, args);
  };
  return { lines, counter, log: root.child({ reqId: 'req-7', pod: 'sidecar-guard-0' }, childOptions) };
}

/** The line with its time taken out (two calls never share a millisecond for sure). */
const withoutTime = (line: string) => line.replace(/,"time":("[^"]*"|\d+)/, '');

/** The same call through pino and through the compiled line: both lines, time removed. */
function bothLines(fields: DecisionLogFields, options: LoggerOptions = {}, childOptions?: ChildLoggerOptions, level: 'info' | 'debug' = 'info') {
  const { lines, counter, log } = capture(options, childOptions);
  log[level](fields, 'admission decision');
  const pinoLines = lines.splice(0);
  const before = counter.viaPino;
  decisionLogLine.write(log, level, fields);
  return { pinoLine: pinoLines.map(withoutTime)[0], compiledLine: lines.map(withoutTime)[0], compiledViaPino: counter.viaPino > before, lines };
}

const exemption = fc.record(
  { target: fc.constantFrom('namespace', 'workload'), kinds: fc.subarray(['scope', 'resources'] as const, { minLength: 1 }), reason: oddString, until: oddString },
  { requiredKeys: ['target', 'kinds', 'reason'] },
);
const refusal = fc.record({ target: fc.constantFrom('namespace', 'workload'), code: fc.constantFrom('EXEMPTION_INVALID', 'EXEMPTION_EXPIRED'), message: oddString });
const HUGE = 'n'.repeat(256 * 1024);
const name = fc.oneof({ weight: 6, arbitrary: oddString }, fc.constantFrom('__proto__', 'constructor', HUGE, `${HUGE}"\u0000\ud800`, 'x'.repeat(101), `${'y'.repeat(99)}\ud800`));

/** Decisions in the shape decisionLogFields builds (same key order, optional keys left out). */
const decisionFields: fc.Arbitrary<DecisionLogFields> = fc.record(
  {
    webhook: fc.constantFrom('validate', 'mutate'),
    uid: name,
    namespace: name,
    kind: fc.oneof(fc.constantFrom('Pod', 'Deployment', 'Sidecar'), oddString),
    name,
    operation: fc.constantFrom('CREATE', 'UPDATE', 'DELETE'),
    verdict: fc.constantFrom('allowed', 'denied', 'patched', 'audit_violation'),
    reason: fc.constantFrom('SIZED', 'MISSING_SIDECAR', 'EXEMPT'),
    mode: fc.constantFrom('enforce', 'audit', 'off'),
    dryRun: fc.boolean(),
    subject: name,
    profile: name,
    exemptions: fc.array(exemption, { minLength: 1, maxLength: 2 }),
    refusedExemptions: fc.array(refusal, { minLength: 1, maxLength: 2 }),
    warnings: fc.integer({ min: 1, max: 5 }),
  },
  { requiredKeys: ['webhook', 'uid', 'namespace', 'kind', 'name', 'operation', 'verdict', 'reason', 'mode', 'dryRun'] },
) as fc.Arbitrary<DecisionLogFields>;

/** No lone surrogate in a top-level string (UTF-8 has none: they come back as U+FFFD). */
const wellFormed = (fields: DecisionLogFields) => Object.values(fields).every((value) => typeof value !== 'string' || Buffer.from(value).toString() === value);

t.test('generated decisions: the compiled line is the line pino writes for the same call', async (t) => {
  let exact = 0;
  let surrogates = 0;
  fc.assert(
    fc.property(decisionFields, (fields) => {
      const { pinoLine, compiledLine, compiledViaPino } = bothLines(fields);
      if (compiledViaPino || pinoLine === undefined || compiledLine === undefined) return false;
      if (wellFormed(fields)) {
        exact++;
        return compiledLine === pinoLine;
      }
      // pino writes a lone surrogate of a string up to 100 characters as is (it turns into U+FFFD on
      // the way to UTF-8); the compiled line escapes it as JSON.stringify does. The same string either way.
      surrogates++;
      const [a, b] = [JSON.parse(compiledLine) as object, JSON.parse(pinoLine) as object];
      return JSON.stringify(Object.entries(a)) === JSON.stringify(Object.entries(b));
    }),
    fuzzParameters(2),
  );
  t.ok(exact > 0 && surrogates > 0, `both kinds were generated (${exact} well-formed, ${surrogates} with lone surrogates)`);
});

const sample: DecisionLogFields = {
  webhook: 'validate',
  uid: 'u-1',
  namespace: 'shop',
  kind: 'Pod',
  name: '',
  operation: 'CREATE',
  verdict: 'allowed',
  reason: 'EXEMPT',
  mode: 'enforce',
  dryRun: false,
  subject: 'Pod "web-*" of ReplicaSet "web"',
  profile: 'medium',
  exemptions: [{ target: 'namespace', kinds: ['scope'], reason: 'migration "A"', until: '2026-12-31' }],
  refusedExemptions: [{ target: 'workload', code: 'EXEMPTION_NOT_ALLOWED', message: 'not here' }],
  warnings: 2,
};

t.test('the line carries pino\'s level, time, pid, hostname, name, the child\'s bindings, the fields and msg', async (t) => {
  const { lines, log } = capture();
  const before = Date.now();
  decisionLogLine.write(log, 'info', sample);
  const text = lines[0] as string;
  // The decision's `name` follows the logger's own, as pino writes it (JSON.parse keeps the last).
  const keys = [...text.matchAll(/[{,]"(\w+)":/g)].map((m) => m[1]);
  const fieldKeys = ['webhook', 'uid', 'namespace', 'kind', 'name', 'operation', 'verdict', 'reason', 'mode', 'dryRun', 'subject', 'profile'];
  const nested = ['exemptions', 'target', 'kinds', 'reason', 'until', 'refusedExemptions', 'target', 'code', 'message'];
  t.same(keys, ['level', 'time', 'pid', 'hostname', 'name', 'reqId', 'pod', ...fieldKeys, ...nested, 'warnings', 'msg'], "keys in pino's order");
  const line = JSON.parse(text) as Record<string, unknown>;
  t.match(line, { level: 30, pid: process.pid, reqId: 'req-7', pod: 'sidecar-guard-0', msg: 'admission decision', ...sample });
  t.match(text, /^\{"level":30,"time":\d+,"pid":\d+,"hostname":"[^"]*","name":"sidecar-guard","reqId":"req-7","pod":"sidecar-guard-0","webhook":/);
  t.ok((line.time as number) >= before && (line.time as number) <= Date.now(), 'time is now');
  t.ok((lines[0] as string).endsWith('}\n'));
});

// Every option that changes what pino writes for a call: the line must still be pino's line.
const configurations: { name: string; options?: LoggerOptions; child?: ChildLoggerOptions; viaPino: boolean; check?: (line: string) => boolean }[] = [
  { name: 'defaults', viaPino: false },
  { name: 'a level formatter (label instead of number)', options: { formatters: { level: (label) => ({ level: label }) } }, viaPino: false, check: (l) => l.startsWith('{"level":"info"') },
  { name: 'a bindings formatter', options: { formatters: { bindings: (b) => ({ ...b, node: 'n1' }) } }, viaPino: false, check: (l) => l.includes('"node":"n1"') },
  { name: 'no base bindings', options: { base: null }, viaPino: false, check: (l) => !l.includes('"pid"') },
  { name: 'ISO time', options: { timestamp: pino.stdTimeFunctions.isoTime }, viaPino: false },
  { name: 'no time', options: { timestamp: false }, viaPino: false },
  { name: 'CRLF line ends', options: { crlf: true }, viaPino: false, check: (l) => l.endsWith('}\r\n') },
  { name: 'redaction of a field', options: { redact: ['namespace'] }, viaPino: true, check: (l) => l.includes('"namespace":"[Redacted]"') },
  { name: 'redaction inside the exemptions', options: { redact: ['exemptions[*].reason'] }, viaPino: true, check: (l) => l.includes('"reason":"[Redacted]"') },
  { name: 'redaction by wildcard', options: { redact: ['*[*].message'] }, viaPino: true, check: (l) => !l.includes('not here') },
  { name: 'redaction of a key the line does not have', options: { redact: ['req.headers.authorization'] }, viaPino: false },
  { name: 'a serializer of a field', options: { serializers: { uid: (uid: string) => `uid:${uid}` } }, viaPino: true, check: (l) => l.includes('"uid":"uid:u-1"') },
  { name: 'a serializer given to the child', child: { serializers: { profile: () => 'hidden' } }, viaPino: true, check: (l) => l.includes('"profile":"hidden"') },
  { name: 'serializers of other keys only', options: { serializers: { req: () => 'r', res: () => 'r' } }, viaPino: false },
  { name: 'a log formatter', options: { formatters: { log: (o) => ({ ...o, extra: true }) } }, viaPino: true, check: (l) => l.includes('"extra":true') },
  { name: 'a mixin', options: { mixin: () => ({ trace: 'abc' }) }, viaPino: true, check: (l) => l.includes('"trace":"abc"') },
  { name: 'a message prefix', options: { msgPrefix: '[sg] ' }, viaPino: true, check: (l) => l.includes('"msg":"[sg] admission decision"') },
  { name: 'a message prefix on the child', child: { msgPrefix: '[req] ' }, viaPino: true, check: (l) => l.includes('"msg":"[req] admission decision"') },
  { name: 'another message key', options: { messageKey: 'message' }, viaPino: true, check: (l) => l.includes('"message":"admission decision"') },
  { name: 'a nested key', options: { nestedKey: 'payload' }, viaPino: true, check: (l) => l.includes('"payload":{"webhook"') },
  { name: 'an error key among the fields', options: { errorKey: 'reason' }, viaPino: true },
  { name: 'a logMethod hook', options: { hooks: { logMethod(args, method) { method.apply(this, args); } } }, viaPino: true },
  { name: 'a streamWrite hook', options: { hooks: { streamWrite: (s) => s.replace('admission decision', 'ADMISSION') } }, viaPino: true, check: (l) => l.includes('"msg":"ADMISSION"') },
];

for (const c of configurations) {
  t.test(`pino configured with ${c.name}: the same line (${c.viaPino ? 'pino writes it' : 'compiled'})`, async (t) => {
    const { pinoLine, compiledLine, compiledViaPino } = bothLines(sample, c.options, c.child);
    t.type(compiledLine, 'string');
    t.equal(compiledLine, pinoLine);
    t.equal(compiledViaPino, c.viaPino, c.viaPino ? 'left to pino' : 'not through pino');
    if (c.check) t.ok(c.check(compiledLine as string), 'the option shows in the line');
  });
}

t.test('a destination that wants metadata (multistream) gets it: pino writes the line', async (t) => {
  const lines: string[] = [];
  const multi = pino.multistream([{ stream: { write: (line: string) => void lines.push(line) } }]);
  const log = pino({ name: 'sidecar-guard' }, multi).child({ reqId: 'req-1' });
  log.info(sample, 'admission decision');
  decisionLogLine.write(log, 'info', sample);
  t.equal(lines.length, 2);
  t.equal(withoutTime(lines[1] as string), withoutTime(lines[0] as string));
  t.equal((multi as unknown as { lastMsg?: string }).lastMsg, 'admission decision', 'the metadata of the last line is set');
});

t.test("a subscriber to pino's asJson tracing channel sees the decision line", async (t) => {
  const { lines, log } = capture();
  const seen: unknown[] = [];
  const channel = tracingChannel('pino_asJson');
  const handlers = { start: (message: unknown) => void seen.push(message), end: () => {}, asyncStart: () => {}, asyncEnd: () => {}, error: () => {} };
  channel.subscribe(handlers);
  t.teardown(() => channel.unsubscribe(handlers));
  decisionLogLine.write(log, 'info', sample);
  t.equal(seen.length, 1, 'traced once');
  t.equal(lines.length, 1);
});

t.test('a disabled level writes nothing; debug lines are written when debug is on', async (t) => {
  const quiet = capture({ level: 'info' });
  decisionLogLine.write(quiet.log, 'debug', sample);
  t.same(quiet.lines, []);
  const silent = capture({ level: 'silent' });
  decisionLogLine.write(silent.log, 'info', sample);
  t.same(silent.lines, []);
  const { pinoLine, compiledLine, compiledViaPino } = bothLines(sample, { level: 'debug' }, undefined, 'debug');
  t.equal(compiledLine, pinoLine);
  t.match(compiledLine, /^\{"level":20,/);
  t.notOk(compiledViaPino);
  const child = capture({ level: 'info' }, { level: 'warn' });
  decisionLogLine.write(child.log, 'info', sample);
  t.same(child.lines, [], "a child's own level counts");
});

t.test('a logger that is not pino is called as usual', async (t) => {
  const calls: unknown[][] = [];
  const log = { info: (...args: unknown[]) => void calls.push(['info', ...args]), debug: (...args: unknown[]) => void calls.push(['debug', ...args]) };
  decisionLogLine.write(log as unknown as pino.BaseLogger, 'debug', sample);
  t.same(calls, [['debug', sample, 'admission decision']]);
});
