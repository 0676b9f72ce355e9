import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A stored series: labels (including __name__) and [unix seconds, value] points. */
export interface FakeSeries {
  readonly metric: Readonly<Record<string, string>>;
  readonly points: readonly (readonly [number, number])[];
}

export interface FakePrometheusOptions {
  /** Answered for plain selectors (`name{a="b"}`): query_range by time range, query by last point. */
  readonly series?: readonly FakeSeries[];
  /** Exact query text → instant vector, for the aggregations the stand-in does not evaluate. */
  readonly canned?: Readonly<Record<string, readonly { metric: Record<string, string>; value: number }[]>>;
}

export interface FakePrometheus {
  readonly url: string;
  /** Every query received, in order. */
  readonly queries: { path: string; query: string; params: Record<string, string> }[];
  close(): Promise<void>;
}

const SELECTOR = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$/;

/** Parses `name{a="b",c="d"}` (equality matchers only); undefined for anything else. */
function parseSelector(query: string): Record<string, string> | undefined {
  const match = SELECTOR.exec(query.trim());
  if (match === null) return undefined;
  const matchers: Record<string, string> = { __name__: match[1] as string };
  for (const part of (match[2] ?? '').split(',').filter((p) => p.trim() !== '')) {
    const m = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*$/.exec(part);
    if (m === null) return undefined;
    matchers[m[1] as string] = (m[2] as string).replace(/\\(.)/g, '$1');
  }
  return matchers;
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
  const matching = (matchers: Record<string, string>): FakeSeries[] =>
    series.filter((s) => Object.entries(matchers).every(([k, v]) => s.metric[k] === v));
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
