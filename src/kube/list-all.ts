import type { KubeConfig } from '@kubernetes/client-node';
import { getFromApiServer } from './api-get.js';

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
  options: { pageSize?: number; onPage?: (count: number) => void } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ limit: String(options.pageSize ?? 500), ...(token ? { continue: token } : {}) });
    const list = JSON.parse(await getFromApiServer(kubeConfig, `${path}?${query.toString()}`)) as ListBody;
    const kind = list.kind?.replace(/List$/, '');
    for (const item of list.items ?? []) items.push({ apiVersion: list.apiVersion, kind, ...item });
    options.onPage?.(items.length);
    token = list.metadata?.continue || undefined;
  } while (token);
  return items;
}
