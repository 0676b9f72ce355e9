import { Writable } from 'node:stream';
import { pino, type LoggerOptions } from 'pino';
import t from 'tap';
import { BUILT_IN_CONFIG } from '../../src/config/load-config.js';
import { buildApp } from '../../src/http/app.js';
import { decisionLogFieldsSchema } from '../../src/http/decision-log.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { MESH_NS, NOW, SCOPING, namespace, pod, review, type Json } from '../support/builders.js';
import { MemoryView } from '../support/memory-view.js';

interface Line { level: number; msg: string; verdict?: string; reason?: string; warnings?: number; exemptions?: unknown[] }

/** The app with a real pino logger at `level`, and the lines it wrote. */
function setup(level: 'info' | 'debug', objects: Json[], options: LoggerOptions = {}) {
  const lines: Line[] = [];
  const texts: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text === '') continue;
        texts.push(text);
        lines.push(JSON.parse(text) as Line);
      }
      done();
    },
  });
  const logger = pino({ level, ...options }, sink);
  const app = buildApp(
    { config: () => BUILT_IN_CONFIG, view: new MemoryView(objects), metrics: createMetrics({ defaultMetrics: false }), now: () => NOW, readiness: () => ({ ready: true }) },
    { loggerInstance: logger },
  );
  const post = async (url: string, body: unknown) => {
    const res = await app.inject({ method: 'POST', url, payload: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    t.equal(res.statusCode, 200);
    return res.json() as { response: { allowed: boolean; warnings?: string[] } };
  };
  const decisions = () => lines.filter((l) => l.msg === 'admission decision');
  return { app, post, decisions, texts };
}

const OUTSIDE = namespace('tools');
const AUDIT_NS = namespace('legacy', { 'istio-injection': 'enabled', 'sidecar-guard.io/mode': 'audit' });
const EXEMPT_NS = namespace('exempt', { 'istio-injection': 'enabled' }, { 'sidecar-guard.io/exempt': 'scope', 'sidecar-guard.io/exempt-reason': 'migration', 'sidecar-guard.io/exempt-until': '2026-12-01' });

t.test('at info, denials, patches, audit violations, warnings and exemptions are logged; untouched allowed requests are not', async (t) => {
  const { post, decisions } = setup('info', [MESH_NS, SCOPING, OUTSIDE, AUDIT_NS, EXEMPT_NS]);
  const sized = { 'sidecar-guard.io/applied-profile': 'medium', 'sidecar.istio.io/proxyCPU': '100m', 'sidecar.istio.io/proxyCPULimit': '1000m', 'sidecar.istio.io/proxyMemory': '128Mi', 'sidecar.istio.io/proxyMemoryLimit': '256Mi' };

  // Untouched: a pod outside the mesh (both webhooks), and a sized, scoped mesh pod.
  await post('/validate', review(pod({ name: 'tool', namespace: 'tools' }), { namespace: 'tools' }));
  await post('/mutate', review(pod({ name: 'tool', namespace: 'tools' }), { namespace: 'tools' }));
  await post('/validate', review(pod({ name: 'web', annotations: sized })));
  await post('/mutate', review(pod({ name: 'web', annotations: sized })));
  t.same(decisions(), [], 'nothing logged at info for allowed, untouched requests');

  const patched = await post('/mutate', review(pod({ name: 'web' })));
  t.equal(patched.response.allowed, true);
  const denied = await post('/validate', review(pod({ name: 'web', namespace: 'legacy-less' }), { namespace: 'legacy-less' }));
  t.equal(denied.response.allowed, true, 'a namespace the view does not know: allowed, nothing to log');
  await post('/validate', review(pod({ name: 'web', namespace: 'legacy' }), { namespace: 'legacy' }));
  const exempt = await post('/validate', review(pod({ name: 'web', namespace: 'exempt', annotations: sized }), { namespace: 'exempt' }));
  t.ok((exempt.response.warnings ?? []).length > 0, 'the exemption is announced');
  const logged = decisions().map((l) => [l.verdict, l.reason]);
  t.same(logged, [['patched', 'SIZED'], ['audit_violation', 'MISSING_SIDECAR'], ['allowed', 'EXEMPT']]);
  t.ok(decisions().every((l) => l.level === 30), 'all at info');
  const exemptLine = decisions()[2] as Line;
  t.ok(exemptLine.warnings !== undefined && exemptLine.warnings > 0 && Array.isArray(exemptLine.exemptions), 'the exemption line says what was exempted and that warnings went back');
});

t.test('a denial is logged at info', async (t) => {
  const { post, decisions } = setup('info', [MESH_NS]);
  const denied = await post('/validate', review(pod({ name: 'web' })));
  t.equal(denied.response.allowed, false);
  t.same(decisions().map((l) => [l.level, l.verdict, l.reason]), [[30, 'denied', 'MISSING_SIDECAR']]);
});

t.test('at debug, every decision is logged, the untouched ones at debug level', async (t) => {
  const { post, decisions } = setup('debug', [MESH_NS, SCOPING, OUTSIDE]);
  await post('/validate', review(pod({ name: 'tool', namespace: 'tools' }), { namespace: 'tools' }));
  await post('/mutate', review(pod({ name: 'web' })));
  t.same(decisions().map((l) => [l.level, l.verdict, l.reason]), [[20, 'allowed', 'NOT_IN_MESH'], [30, 'patched', 'SIZED']]);
});

t.test("the server's decision line is the line pino writes for the request's logger and the same fields", async (t) => {
  const { post, texts } = setup('info', [MESH_NS]);
  const odd = 'web-"quoted"\\back\tslash\u0001-__proto__-\u2028-漢';
  await post('/validate', review(pod({ name: odd })));
  await post('/validate', review(pod({ generateName: `${odd}-` })));
  const lines = texts.filter((text) => text.includes('"msg":"admission decision"'));
  t.equal(lines.length, 2);
  for (const text of lines) {
    const parsed = JSON.parse(text) as Record<string, unknown> & { reqId: string };
    t.match(parsed, { level: 30, pid: process.pid, reqId: /^req-/, msg: 'admission decision' });
    // Rebuilt in the fields' own order.
    const fields = Object.fromEntries(Object.keys(decisionLogFieldsSchema.properties ?? {}).filter((key) => key in parsed).map((key) => [key, parsed[key]]));
    const expected: string[] = [];
    const reference = pino({}, { write: (line: string) => void expected.push(line) }).child({ reqId: parsed.reqId });
    reference.info(fields, 'admission decision');
    const withoutTime = (line: string) => line.replace(/,"time":\d+/, '').trimEnd();
    t.equal(withoutTime(text), withoutTime(expected[0] as string), 'byte for byte, time aside');
    t.equal(text.split('"name":').length, 2, 'one `name` key: the object\'s');
  }
  t.ok(lines.some((text) => text.includes(JSON.stringify(odd).slice(1, -1))), 'the odd name is in a line, escaped');
});

t.test("redaction configured on the server's logger applies to the decision line", async (t) => {
  const { post, decisions } = setup('info', [MESH_NS], { redact: ['namespace', 'uid'] });
  await post('/validate', review(pod({ name: 'web' })));
  t.match(decisions(), [{ verdict: 'denied', namespace: '[Redacted]', uid: '[Redacted]' }]);
});
