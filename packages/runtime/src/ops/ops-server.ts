/**
 * A member's HTTP server for operators (`ops.httpPort`): `GET /metrics` in Prometheus' text
 * format and `GET /status` as JSON. Read-only: nothing here changes the group.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { GroupMetrics } from './group-metrics.js';
import { nodeStatus } from './node-status.js';
import type { ObservedNode } from './observed-node.js';

export class OpsServerError extends Error {
  override readonly name = 'OpsServerError';
}

export class OpsServer {
  private constructor(
    private readonly server: Server,
    /** The port it listens on (the one asked for, or the one the system chose for port 0). */
    readonly port: number,
  ) {}

  /** Listens on `host:port`; rejects with an error naming the address and what to do when it cannot. */
  static async start(node: ObservedNode, metrics: GroupMetrics, host: string, port: number): Promise<OpsServer> {
    const server = createServer((req, res) => void handle(node, metrics, req, res));
    // A scrape that stalls must not keep the process from exiting once it drains.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const hint = err.code === 'EADDRINUSE' ? 'another process holds that port: choose another ops.httpPort (--http-port)' : err.code === 'EADDRNOTAVAIL' ? 'no interface of this machine has that address: set ops.httpHost (or node.bindHost)' : 'check ops.httpHost and ops.httpPort';
        reject(new OpsServerError(`cannot serve /metrics and /status on ${host}:${port}: ${err.message}; ${hint}`));
      });
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    return new OpsServer(server, typeof address === 'object' && address !== null ? address.port : port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

async function handle(node: ObservedNode, metrics: GroupMetrics, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET\n');
    if (url.pathname === '/metrics') return send(res, 200, metrics.contentType, await metrics.text());
    if (url.pathname === '/status') return send(res, 200, 'application/json', `${JSON.stringify(nodeStatus(node, new Date()), null, 2)}\n`);
    return send(res, 404, 'text/plain', 'not found: this server has /metrics and /status\n');
  } catch (err) {
    send(res, 500, 'text/plain', `${err instanceof Error ? err.message : String(err)}\n`);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
