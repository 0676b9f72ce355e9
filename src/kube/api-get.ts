import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** The TLS settings client-node puts on request options; an agent is reused only while they stay the same. */
const AGENT_FIELDS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;
type AgentSettings = Pick<https.RequestOptions, (typeof AGENT_FIELDS)[number]>;

/** An idle kept connection is closed after this long (Node's agent destroys only free sockets on timeout). */
const IDLE_MS = 30_000;

const keptAgents = new WeakMap<KubeConfig, { server: string; settings: AgentSettings; agent: http.Agent }>();

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b));
}

/**
 * One keep-alive agent per kubeconfig and TLS settings. client-node's `applyToHTTPSOptions` makes a
 * new agent on every call, so every GET opened its own connection: a TCP connect (and against a real
 * API server a TLS handshake) per LIST page. A changed credential (an exec plugin's new client
 * certificate) gets a new agent; a proxied cluster keeps client-node's proxy agent.
 */
function keptAgent(kubeConfig: KubeConfig, server: string, options: https.RequestOptions): http.Agent | undefined {
  if (kubeConfig.getCurrentCluster()?.proxyUrl) return undefined;
  const settings: AgentSettings = Object.fromEntries(AGENT_FIELDS.filter((f) => options[f] !== undefined).map((f) => [f, options[f]]));
  const kept = keptAgents.get(kubeConfig);
  if (kept && kept.server === server && AGENT_FIELDS.every((f) => sameValue(kept.settings[f], settings[f]))) return kept.agent;
  // A replaced agent is left to its requests in flight; its idle connections close after IDLE_MS like any other's.
  const agent = server.startsWith('http:') ? new http.Agent({ keepAlive: true, timeout: IDLE_MS }) : new https.Agent({ ...settings, keepAlive: true, timeout: IDLE_MS });
  keptAgents.set(kubeConfig, { server, settings, agent });
  return agent;
}

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
  const agent = keptAgent(kubeConfig, url.origin, options);
  if (agent) options.agent = agent;
  try {
    return await getOnce(url, options);
  } catch (error) {
    // A kept connection the server closed while idle fails on reuse: a GET is safe to send again once.
    if ((error as { reusedSocket?: boolean }).reusedSocket) return getOnce(url, options);
    throw error;
  }
}

function getOnce(url: URL, options: https.RequestOptions): Promise<string> {
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
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(req.reusedSocket && error.code === 'ECONNRESET' ? Object.assign(error, { reusedSocket: true }) : error),
    );
    req.end();
  });
}
