import { readFile } from 'node:fs/promises';
import { describeFileError } from '../fs-errors.js';
import type { ProxyRef } from './observations.js';
import { podFromPath } from './sources/files.js';

/**
 * One outbound call an istio-proxy logged, reduced to what names its destination. Read from
 * Istio's default access log formats (docs/istio-facts.md, "Access logs"): the TEXT format
 * (`meshConfig.accessLogEncoding: TEXT`, EnvoyTextLogFormat) and the JSON one (EnvoyJSONLogFormatIstio).
 */
export interface AccessLogEntry extends ProxyRef {
  /** `%START_TIME%` in milliseconds since the epoch, when it parses. */
  readonly timeMs?: number;
  /** `%UPSTREAM_CLUSTER%`: `outbound|PORT|SUBSET|HOST`, `PassthroughCluster`, `BlackHoleCluster`, `inbound|…`. */
  readonly upstreamCluster: string;
  /** `%REQ(:AUTHORITY)%` (HTTP only). */
  readonly authority?: string;
  /** `%DOWNSTREAM_LOCAL_ADDRESS%`: the address the application dialled (the original destination). */
  readonly downstreamLocal?: string;
  /** `%REQUESTED_SERVER_NAME%`: the TLS SNI, when the application spoke TLS. */
  readonly serverName?: string;
}

export interface AccessLogRead {
  readonly entries: readonly AccessLogEntry[];
  /** Lines that are neither format (pilot-agent's own log lines share the container's output). */
  readonly skipped: number;
}

const present = (value: string | undefined): string | undefined => (value === undefined || value === '' || value === '-' ? undefined : value);

/** Splits a text line into `[…]`, `"…"` and bare tokens, keeping the brackets and quotes. */
function tokens(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t') {
      i += 1;
      continue;
    }
    const close = c === '[' ? ']' : c === '"' ? '"' : undefined;
    const end = close === undefined ? line.slice(i).search(/[ \t]/) : line.indexOf(close, i + 1);
    const stop = end < 0 ? line.length : close === undefined ? i + end : end + 1;
    out.push(line.slice(i, stop));
    i = stop;
  }
  return out;
}

const unquote = (token: string | undefined): string | undefined => (token === undefined ? undefined : token.replace(/^"(.*)"$/, '$1'));
const isQuoted = (token: string): boolean => token.length >= 2 && token.startsWith('"') && token.endsWith('"');

/**
 * One line of Istio's default TEXT format: `[START_TIME] "…" … "AUTHORITY" "UPSTREAM_HOST"
 * UPSTREAM_CLUSTER UPSTREAM_LOCAL DOWNSTREAM_LOCAL DOWNSTREAM_REMOTE SNI ROUTE`. The fields this
 * needs follow the last two quoted fields, so older layouts (before 1.9, without
 * RESPONSE_CODE_DETAILS) read the same. `kubectl logs --prefix` lines (`[pod/NAME/istio-proxy] …`)
 * name their pod.
 */
function parseTextLine(line: string): (Omit<AccessLogEntry, 'namespace' | 'pod'> & { pod?: string }) | undefined {
  let parts = tokens(line);
  let pod: string | undefined;
  const prefix = /^\[pod\/([^/\]]+)\/[^\]]+\]$/.exec(parts[0] ?? '');
  if (prefix) {
    pod = prefix[1];
    parts = parts.slice(1);
  }
  const time = parts[0];
  if (time === undefined || !time.startsWith('[') || !time.endsWith(']')) return undefined;
  const lastQuoted = parts.map(isQuoted).lastIndexOf(true);
  if (lastQuoted < 2) return undefined;
  const cluster = parts[lastQuoted + 1];
  if (cluster === undefined) return undefined;
  const timeMs = Date.parse(time.slice(1, -1));
  const authority = present(unquote(parts[lastQuoted - 1]));
  const downstreamLocal = present(parts[lastQuoted + 3]);
  const serverName = present(parts[lastQuoted + 5]);
  return {
    ...(pod === undefined ? {} : { pod }),
    ...(Number.isNaN(timeMs) ? {} : { timeMs }),
    upstreamCluster: cluster,
    ...(authority === undefined ? {} : { authority }),
    ...(downstreamLocal === undefined ? {} : { downstreamLocal }),
    ...(serverName === undefined ? {} : { serverName }),
  };
}

/** One line of Istio's default JSON format (keys `start_time`, `upstream_cluster`, `authority`, …). */
function parseJsonLine(line: string): (Omit<AccessLogEntry, 'namespace' | 'pod'> & { pod?: string; namespace?: string }) | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  const field = (key: string): string | undefined => (typeof record[key] === 'string' ? present(record[key]) : undefined);
  const cluster = field('upstream_cluster');
  if (cluster === undefined) return undefined;
  const start = field('start_time');
  const timeMs = start === undefined ? Number.NaN : Date.parse(start);
  const optional = { authority: field('authority'), downstreamLocal: field('downstream_local_address'), serverName: field('requested_server_name'), pod: field('pod_name'), namespace: field('pod_namespace') };
  return {
    upstreamCluster: cluster,
    ...(Number.isNaN(timeMs) ? {} : { timeMs }),
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
}

/**
 * The access log lines of one proxy's output (`kubectl logs POD -c istio-proxy`), TEXT or JSON,
 * line by line; `ref` names the proxy where the lines do not.
 *
 * @example parseAccessLog('[2020-11-25T21:26:18.409Z] "GET /status/418 HTTP/1.1" 418 … "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local …', ref)
 */
export function parseAccessLog(text: string, ref: ProxyRef): AccessLogRead {
  const entries: AccessLogEntry[] = [];
  let skipped = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    const parsed = line.startsWith('{') ? parseJsonLine(line) : parseTextLine(line);
    if (parsed === undefined) {
      skipped += 1;
      continue;
    }
    entries.push({ ...ref, ...parsed });
  }
  return { entries, skipped };
}

/**
 * Reads `--access-log` files, each named by path as dumps are (`<namespace>/<pod>.log`), unless
 * its lines name their pod. A file with no access log line in it is an input error naming it.
 */
export async function readAccessLogs(files: readonly string[]): Promise<AccessLogEntry[]> {
  const all: AccessLogEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw describeFileError(error, `--access-log ${file}`, file);
    }
    const { entries } = parseAccessLog(text, podFromPath(file));
    if (entries.length === 0) {
      throw new Error(
        `--access-log ${file}: no access log line in it: give kubectl logs POD -c istio-proxy output with access logging on ` +
          "(meshConfig.accessLogFile: /dev/stdout, or a Telemetry with the envoy provider) in Istio's default TEXT or JSON format",
      );
    }
    for (const entry of entries) all.push(entry); // not push(...entries): a day's log of a busy proxy overflows the call stack
  }
  return all;
}
