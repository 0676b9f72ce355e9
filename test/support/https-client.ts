/** A client that talks to the webhook the way the kube-apiserver does: HTTPS, SNI, caBundle trust. */
import { request, type Agent } from 'node:https';

export interface HttpsAnswer {
  status: number;
  body: string;
  protocol: string | null;
}

export function postJson(url: string, path: string, body: unknown, options: { ca: string; servername?: string; agent?: Agent }): Promise<HttpsAnswer> {
  const payload = typeof body === 'string' ? body : JSON.stringify(body);
  const target = new URL(path, url);
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method: 'POST',
        ca: options.ca,
        servername: options.servername ?? 'sidecar-guard.sidecar-guard.svc',
        ...(options.agent ? { agent: options.agent } : {}),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, */*',
          'user-agent': 'kube-apiserver-admission',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        const socket = res.socket as { getProtocol?: () => string | null } | null;
        const protocol = socket?.getProtocol?.() ?? null;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), protocol }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** GET over HTTPS trusting `ca` (the webhook's probes, as a kubelet would call them). */
export function getHttps(url: string, path: string, options: { ca: string; servername?: string }): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method: 'GET', ca: options.ca, servername: options.servername ?? 'sidecar-guard.sidecar-guard.svc' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), protocol: null }));
    });
    req.on('error', reject);
    req.end();
  });
}
