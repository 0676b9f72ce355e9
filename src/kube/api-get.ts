import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/**
 * GET a path from the API server with the kubeconfig's credentials and TLS settings, returning
 * the raw body; a non-2xx answer rejects with `code` and `body` as client-node's ApiException has
 * them (describeApiError reads either). Plain node:http(s) on purpose: Node's fetch cannot take client-node's TLS agent,
 * and the generated clients re-encode paths (pod proxy) and re-shape objects (lists).
 */
export async function getFromApiServer(kubeConfig: KubeConfig, path: string, accept = 'application/json'): Promise<string> {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(path, cluster.server.endsWith('/') ? cluster.server : `${cluster.server}/`);
  const options: https.RequestOptions = { method: 'GET', headers: { Accept: accept } };
  await kubeConfig.applyToHTTPSOptions(options);
  const request = url.protocol === 'http:' ? http.request : https.request;
  return new Promise<string>((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(body);
        else reject(Object.assign(new Error(`GET ${url.pathname}: HTTP ${res.statusCode ?? '?'} ${body.slice(0, 200).trim()}`), { statusCode: res.statusCode, code: res.statusCode, body }));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
