import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { logger } from '../logger.js';

/** What the admin server reads from the running proxy. */
export interface AdminSource {
  ready(): boolean;
  configDump(): unknown;
  statsLines(): string[];
  clustersText(): string;
  serverInfo(): unknown;
  listeners(): { name: string; address: string }[];
}

/**
 * The admin endpoint (Envoy's paths): /ready, /config_dump, /stats, /clusters,
 * /listeners, /server_info. Bind it to loopback unless it must be reached from elsewhere.
 */
export class AdminServer {
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(host: string, port: number, source: AdminSource): Promise<AdminServer> {
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://admin');
      const send = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
        res.writeHead(code, { 'content-type': type });
        res.end(body);
      };
      switch (url.pathname) {
        case '/ready':
          return source.ready() ? send(200, 'LIVE\n') : send(503, 'PRE_INITIALIZING\n');
        case '/config_dump':
          return send(200, JSON.stringify(source.configDump(), null, 2), 'application/json');
        case '/stats':
          return send(200, source.statsLines().join('\n') + '\n');
        case '/clusters':
          return send(200, source.clustersText());
        case '/listeners':
          return url.searchParams.get('format') === 'json'
            ? send(200, JSON.stringify({ listener_statuses: source.listeners().map((l) => ({ name: l.name, local_address: l.address })) }), 'application/json')
            : send(200, source.listeners().map((l) => `${l.name}::${l.address}`).join('\n') + '\n');
        case '/server_info':
          return send(200, JSON.stringify(source.serverInfo(), null, 2), 'application/json');
        default:
          return send(404, `unknown admin path ${url.pathname}; try /ready /config_dump /stats /clusters /listeners /server_info\n`);
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    logger.info({ admin: `${host}:${(server.address() as AddressInfo).port}` }, 'admin server listening');
    return new AdminServer(server);
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
