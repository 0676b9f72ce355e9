import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A stored series: labels (including __name__) and [unix seconds, value] points. */
export interface FakeSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly points: readonly (readonly [number, number])[];
}

export interface FakePrometheusOptions {
  /** Answered for plain selectors (`name{a="b"}`): query_range by time range, query by last point; and for `increase`, `max_over_time`, `last_over_time` of them, `sum by` of those and `group by` of a selector. */
  readonly series?: readonly FakeSeries[];
  /** Exact query text → instant vector, answered before anything is evaluated (for the aggregations the stand-in does not evaluate). */
  readonly canned?: Readonly<Record<string, readonly { metric: Record<string, string>; value: number }[]>>;
}

export interface FakePrometheus {
  readonly url: string;
  /** Every query received, in order. */
  readonly queries: { path: string; query: string; params: Record<string, string> }[];
  close(): Promise<void>;
}

const SELECTOR = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?(?:\{(.*)\})?$/;

/** One label matcher: `=`, `!=`, `=~`, `!~` (regexes anchored, as in PromQL). */
interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

const matches = (metric: Readonly<Record<string, string>>, m: Matcher): boolean => {
  const value = metric[m.label] ?? '';
  if (m.op === '=') return value === m.value;
  if (m.op === '!=') return value !== m.value;
  const re = new RegExp(`^(?:${m.value})$`);
  return m.op === '=~' ? re.test(value) : !re.test(value);
};

/** Parses `name{a="b",c=~"d.+"}` or `{__name__=~"…"}`; undefined for anything else (no commas inside values). */
function parseSelector(query: string): Matcher[] | undefined {
  const match = SELECTOR.exec(query.trim());
  if (match === null || (match[1] === undefined && match[2] === undefined)) return undefined;
  const matchers: Matcher[] = match[1] === undefined ? [] : [{ label: '__name__', op: '=', value: match[1] }];
  for (const part of (match[2] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)(=~|!~|!=|=)"((?:[^"\\]|\\.)*)"\s*$/.exec(part);
    if (m === null) return undefined;
    matchers.push({ label: m[1] as string, op: m[2] as Matcher['op'], value: (m[3] as string).replace(/\\(.)/g, '$1') });
  }
  return matchers;
}

const RANGE_FUNCTION = /^(increase|max_over_time|last_over_time)\((.+)\[(\d+)s\]\)$/;
const AGGREGATION_BY = /^(sum|group) by \(([^)]*)\) \((.+)\)$/;

/** Counter increase as Prometheus counts it: resets add the new value; no extrapolation to the window's edges. */
function counterIncrease(values: readonly number[]): number {
  let total = 0;
  for (let i = 1; i < values.length; i += 1) {
    const [prev, cur] = [values[i - 1] as number, values[i] as number];
    total += cur >= prev ? cur - prev : cur;
  }
  return total;
}

/**
 * The few instant expressions the recommenders send that the stand-in evaluates over its stored
 * series: `increase`, `max_over_time`, `last_over_time` of a selector over `[Ns]`, `sum by (…)` of
 * one of those, and `group by (…)` of a selector (every stored series it matches, whatever its age).
 * The range is left-open, (time − N, time], as in Prometheus 3. Undefined for anything else.
 */
function evaluate(query: string, time: number, matching: (matchers: readonly Matcher[]) => FakeSeries[]): { metric: Record<string, string>; value: number }[] | undefined {
  const aggregation = AGGREGATION_BY.exec(query.trim());
  if (aggregation !== null) {
    const innerQuery = aggregation[3] as string;
    const selected = parseSelector(innerQuery);
    // `group by` of a plain selector groups its series as they are; otherwise the inner expression is evaluated.
    const inner = selected !== undefined ? matching(selected).map((s) => ({ metric: { ...s.metric }, value: 1 })) : evaluate(innerQuery, time, matching);
    if (inner === undefined) return undefined;
    const by = (aggregation[2] as string).split(',').map((l) => l.trim()).filter((l) => l !== '');
    const groups = new Map<string, { metric: Record<string, string>; value: number }>();
    for (const r of inner) {
      const metric = Object.fromEntries(by.flatMap((l) => (r.metric[l] === undefined ? [] : [[l, r.metric[l] as string]])));
      const key = JSON.stringify(metric);
      const group = groups.get(key) ?? { metric, value: 0 };
      group.value = aggregation[1] === 'group' ? 1 : group.value + r.value;
      groups.set(key, group);
    }
    return [...groups.values()];
  }
  const fn = RANGE_FUNCTION.exec(query.trim());
  const matchers = fn === null ? undefined : parseSelector(fn[2] as string);
  if (fn === null || matchers === undefined) return undefined;
  const range = Number(fn[3]);
  return matching(matchers).flatMap((s) => {
    const values = s.points.filter(([t]) => t > time - range && t <= time).map(([, v]) => v);
    const { __name__: _name, ...metric } = s.metric;
    if (fn[1] === 'increase') return values.length < 2 ? [] : [{ metric, value: counterIncrease(values) }];
    if (values.length === 0) return [];
    return [{ metric, value: fn[1] === 'max_over_time' ? Math.max(...values) : (values.at(-1) as number) }];
  });
}

async function readParams(req: IncomingMessage, url: URL): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  return { ...Object.fromEntries(url.searchParams), ...Object.fromEntries(body) };
}

/**
 * A Prometheus HTTP API stand-in on 127.0.0.1: /api/v1/query_range answers matrices and
 * /api/v1/query vectors, over GET or form POST, in the real response envelope.
 */
export async function startFakePrometheus(options: FakePrometheusOptions = {}): Promise<FakePrometheus> {
  const queries: FakePrometheus['queries'] = [];
  const series = options.series ?? [];
  const matching = (matchers: readonly Matcher[]): FakeSeries[] => series.filter((s) => matchers.every((m) => matches(s.metric, m)));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    void readParams(req, url).then((params) => {
      const query = params['query'] ?? '';
      queries.push({ path: url.pathname, query, params });
      const send = (status: number, body: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const matchers = parseSelector(query);
      if (url.pathname === '/api/v1/query_range') {
        const start = Number(params['start']);
        const end = Number(params['end']);
        // Prometheus' own check (web/api/v1/api.go), so a query it would refuse fails here too.
        if ((end - start) / Number(params['step']) > 11_000) {
          return send(400, { status: 'error', errorType: 'bad_data', error: 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)' });
        }
        if (matchers === undefined) return send(400, { status: 'error', errorType: 'bad_data', error: `stand-in cannot evaluate ${query}` });
        const result = matching(matchers)
          .map((s) => ({ metric: s.metric, values: s.points.filter(([t]) => t >= start && t <= end).map(([t, v]) => [t, String(v)]) }))
          .filter((s) => s.values.length > 0);
        return send(200, { status: 'success', data: { resultType: 'matrix', result } });
      }
      if (url.pathname === '/api/v1/query') {
        const time = Number(params['time']);
        const canned = options.canned?.[query];
        if (canned !== undefined) {
          return send(200, { status: 'success', data: { resultType: 'vector', result: canned.map((r) => ({ metric: r.metric, value: [time, String(r.value)] })) } });
        }
        const evaluated = evaluate(query, time, matching);
        if (evaluated !== undefined) {
          return send(200, { status: 'success', data: { resultType: 'vector', result: evaluated.map((r) => ({ metric: r.metric, value: [time, String(r.value)] })) } });
        }
        const result = (matchers === undefined ? [] : matching(matchers)).flatMap((s) => {
          const last = s.points.filter(([t]) => t <= time).at(-1);
          return last === undefined ? [] : [{ metric: s.metric, value: [time, String(last[1])] }];
        });
        return send(200, { status: 'success', data: { resultType: 'vector', result } });
      }
      return send(404, { status: 'error', errorType: 'not_found', error: url.pathname });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queries,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
