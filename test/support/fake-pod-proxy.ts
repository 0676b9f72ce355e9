import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface FakePodProxyOptions {
  /** Pod objects the list endpoints return (kind, apiVersion optional). */
  readonly pods: readonly { metadata: { name: string; namespace: string } }[];
  /** Stats text for the n-th scrape (1-based) of a pod; undefined answers 503 like an unready proxy. */
  readonly stats: (namespace: string, pod: string, scrape: number) => string | undefined;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  readonly token?: string;
}

export interface FakePodProxy {
  readonly url: string;
  /** Paths requested, in order. */
  readonly requests: string[];
  /** A kubeconfig for this server (http, so skipTLSVerify: true, as client-node 1.4 requires). */
  kubeConfig(): KubeConfig;
  close(): Promise<void>;
}

const PROXY_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/proxy\/stats\/prometheus$/;

/**
 * A Kubernetes API stand-in for the pod proxy: lists pods (all namespaces or one, with
 * labelSelector equality) and serves /api/v1/namespaces/NS/pods/POD:15020/proxy/stats/prometheus.
 */
export async function startFakePodProxy(options: FakePodProxyOptions): Promise<FakePodProxy> {
  const requests: string[] = [];
  const scrapes = new Map<string, number>();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname);
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return send(401, 'application/json', JSON.stringify({ kind: 'Status', status: 'Failure', code: 401, reason: 'Unauthorized' }));
    }
    const selector = (url.searchParams.get('labelSelector') ?? '')
      .split(',')
      .filter((s) => s !== '')
      .map((s) => s.split('=') as [string, string]);
    const listed = (namespace?: string) =>
      options.pods.filter(
        (p) =>
          (namespace === undefined || p.metadata.namespace === namespace) &&
          selector.every(([k, v]) => (p.metadata as { labels?: Record<string, string> }).labels?.[k] === v),
      );
    const list = (namespace?: string): void =>
      send(200, 'application/json', JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1' }, items: listed(namespace) }));
    if (url.pathname === '/api/v1/pods') return list();
    const namespaced = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(url.pathname);
    if (namespaced) return list(decodeURIComponent(namespaced[1] as string));
    const proxy = PROXY_PATH.exec(url.pathname);
    if (proxy) {
      const namespace = decodeURIComponent(proxy[1] as string);
      const [pod = '', port] = decodeURIComponent(proxy[2] as string).split(':');
      if (port !== '15020') return send(404, 'text/plain', 'no such port');
      const key = `${namespace}/${pod}`;
      const scrape = (scrapes.get(key) ?? 0) + 1;
      scrapes.set(key, scrape);
      const text = options.stats(namespace, pod, scrape);
      return text === undefined ? send(503, 'text/plain', 'upstream connect error') : send(200, 'text/plain; version=0.0.4', text);
    }
    return send(404, 'application/json', JSON.stringify({ kind: 'Status', code: 404 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    requests,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'fake', server: url, skipTLSVerify: true }],
        users: [{ name: 'tester', ...(options.token === undefined ? {} : { token: options.token }) }],
        contexts: [{ name: 'fake', cluster: 'fake', user: 'tester' }],
        currentContext: 'fake',
      });
      return kc;
    },
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
