import { once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request, type Server, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';

/** An HTTPS server on 127.0.0.1 (answering `ok` unless given a handler); closes itself when the test ends. */
export async function startHttpsServer(
  t: { teardown: (fn: () => unknown) => void },
  options: ServerOptions,
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('ok'),
): Promise<{ server: Server; port: number }> {
  const server = createServer({ minVersion: 'TLSv1.2', ...options }, handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { server, port: (server.address() as AddressInfo).port };
}

export interface ClientResult {
  body: string;
  /** The serial number of the certificate the server presented. */
  serial: string;
}

/** One GET against 127.0.0.1:port trusting only `ca`, verifying the certificate for `servername`. */
export function httpsGet(
  port: number,
  { ca, servername, agent }: { ca: string | string[]; servername: string; agent?: import('node:https').Agent | false },
): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/', ca, servername, agent: agent ?? false, minVersion: 'TLSv1.2' },
      (res) => {
        const socket = res.socket as import('node:tls').TLSSocket;
        const serial = socket.getPeerCertificate().serialNumber;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ body, serial }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}
