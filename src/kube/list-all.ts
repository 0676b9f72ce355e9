import type { KubeConfig } from '@kubernetes/client-node';
import { getFromApiServer } from './api-get.js';
import { toListPage, type ClientList, type ListPageFn } from './resource-watcher.js';

interface ListBody {
  apiVersion?: string;
  kind?: string;
  metadata?: { continue?: string };
  items?: Record<string, unknown>[];
}

/**
 * Every object of a collection (`/apis/apps/v1/deployments`), read in pages of `pageSize` with
 * `limit`/`continue` so a large cluster never arrives in one response. List items carry no
 * apiVersion/kind; they are filled in from the list's own.
 */
export async function listAll(
  kubeConfig: KubeConfig,
  path: string,
  options: { pageSize?: number; onPage?: (count: number) => void; labelSelector?: string } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ limit: String(options.pageSize ?? 500), ...(token ? { continue: token } : {}), ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}) });
    const list = JSON.parse(await getFromApiServer(kubeConfig, `${path}?${query.toString()}`)) as ListBody;
    const kind = list.kind?.replace(/List$/, '');
    for (const item of list.items ?? []) items.push({ apiVersion: list.apiVersion, kind, ...item });
    options.onPage?.(items.length);
    token = list.metadata?.continue || undefined;
  } while (token);
  return items;
}

/**
 * A ResourceWatcher's page reader for `path` (`/api/v1/services`), reading the raw JSON: the typed
 * clients turn every item into model class instances first (in a profile of a 50,000-Service sync,
 * a fifth of the process's time), only for `reduce` to keep a few fields of each.
 *
 * Pages are pipelined: as soon as a page has arrived, the next one is asked for (its continue token
 * read from the list's metadata, which the API server writes before the items), so the server
 * reads and encodes page N+1 while this process parses and reduces page N. A page asked for with
 * any other token or limit (a re-list, an abandoned list) is fetched afresh.
 */
export function rawListPages<T>(kubeConfig: KubeConfig, path: string, reduce: (item: unknown) => T | undefined, labelSelector?: string): ListPageFn<T> {
  const fetchPage = (limit: number, continueToken: string | undefined) => {
    const query = new URLSearchParams({ limit: String(limit), ...(continueToken ? { continue: continueToken } : {}), ...(labelSelector ? { labelSelector } : {}) });
    return getFromApiServer(kubeConfig, `${path}?${query.toString()}`);
  };
  let ahead: { limit: number; continueToken: string; body: Promise<string> } | undefined;
  return async (page) => {
    const prefetched = ahead !== undefined && ahead.continueToken === page.continueToken && ahead.limit === page.limit ? ahead.body : undefined;
    ahead = undefined;
    const body = await (prefetched ?? fetchPage(page.limit, page.continueToken));
    const next = peekContinueToken(body);
    if (next !== undefined) {
      const nextBody = fetchPage(page.limit, next);
      nextBody.catch(() => undefined); // Its error surfaces when that page is asked for; unasked (a stopped list), it is dropped.
      ahead = { limit: page.limit, continueToken: next, body: nextBody };
      // Let the request go out before the parse below holds the thread.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const list = JSON.parse(body) as ClientList;
    if (ahead !== undefined && list.metadata?.continue !== ahead.continueToken) ahead = undefined;
    return toListPage(list, reduce);
  };
}

/**
 * The continue token of a LIST reply, read from the JSON before `"items":` alone (kube-apiserver
 * encodes a list's kind, apiVersion and metadata first); undefined when it is not there.
 */
export function peekContinueToken(body: string): string | undefined {
  const at = body.indexOf('"items":');
  if (at < 0) return undefined;
  try {
    const token = (JSON.parse(`${body.slice(0, at)}"items":[]}`) as ClientList).metadata?.continue;
    return typeof token === 'string' && token !== '' ? token : undefined;
  } catch {
    return undefined;
  }
}
