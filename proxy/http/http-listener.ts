import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { logger } from '../logger.js';
import type { StatsSnapshot } from '../observability/stats-snapshot.js';
import { selectVirtualHost } from './compile-http-listener.js';
import type { CompiledHttpListener } from './compile-http-listener.js';
import { FAILURE_REPLY, HttpUpstream } from './http-forward.js';

/** Envoy's HTTP connection manager counters, under `http.<stat_prefix>.`. */
interface HcmStats {
  downstream_cx_total: number;
  downstream_rq_total: number;
  downstream_rq_2xx: number;
  downstream_rq_3xx: number;
  downstream_rq_4xx: number;
  downstream_rq_5xx: number;
  no_route: number;
  rq_timeout: number;
}

/**
 * A static HTTP listener of the bootstrap (Istio's 15090 and 15021): HTTP/1.1 served by
 * node:http, routed by the compiled route_config, forwarded with undici. It takes no part
 * in listener drains (the probes and scrapes must keep answering until the process exits),
 * and no connection limit applies to it (the template sets ignore_global_conn_limit).
 */
export class HttpListener {
  readonly compiled: CompiledHttpListener;
  readonly #server: http.Server;
  readonly #upstreams = new Map<string, HttpUpstream>();
  readonly #sockets = new Set<Socket>();
  readonly #stats: HcmStats = { downstream_cx_total: 0, downstream_rq_total: 0, downstream_rq_2xx: 0, downstream_rq_3xx: 0, downstream_rq_4xx: 0, downstream_rq_5xx: 0, no_route: 0, rq_timeout: 0 };
  #port: number;

  constructor(compiled: CompiledHttpListener) {
    this.compiled = compiled;
    this.#port = compiled.port;
    for (const c of compiled.clusters.values()) this.#upstreams.set(c.name, new HttpUpstream(c));
    this.#server = http.createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        logger.error({ listener: compiled.name, err: (err as Error).message }, 'HTTP listener: request failed');
        if (!res.headersSent) this.#reply(res, 500, 'internal error');
        else res.destroy();
      });
    });
    this.#server.on('connection', (s: Socket) => {
      this.#stats.downstream_cx_total++;
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    this.#server.on('clientError', (_err, socket: Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  #reply(res: http.ServerResponse, status: number, body: string): void {
    this.#count(status);
    res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  #count(status: number): void {
    const s = this.#stats;
    if (status >= 500) s.downstream_rq_5xx++;
    else if (status >= 400) s.downstream_rq_4xx++;
    else if (status >= 300) s.downstream_rq_3xx++;
    else s.downstream_rq_2xx++;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.#stats.downstream_rq_total++;
    const path = req.url ?? '/';
    const vh = selectVirtualHost(this.compiled.virtualHosts, req.headers.host ?? '');
    const route = vh?.routes.find((r) => r.matches(path));
    const upstream = route === undefined ? undefined : this.#upstreams.get(route.cluster);
    if (route === undefined || upstream === undefined) {
      // Envoy answers an unrouted request with a bare 404 (response flag NR).
      this.#stats.no_route++;
      req.resume();
      this.#reply(res, 404, '');
      return;
    }
    const result = await upstream.forward(req, res, route.timeoutMs);
    if (typeof result === 'number') {
      this.#count(result);
      return;
    }
    if (result === 'timeout') this.#stats.rq_timeout++;
    const reply = FAILURE_REPLY[result];
    this.#reply(res, reply.status, reply.body);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.compiled.port, this.compiled.host, () => {
        this.#server.off('error', reject);
        this.#port = (this.#server.address() as AddressInfo).port;
        resolve();
      });
    });
    logger.info({ listener: this.compiled.name, address: this.address }, 'HTTP listener started');
  }

  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `${this.compiled.host}:${this.#port}`;
  }

  /** Adds `http.<stat_prefix>.*` and `listener.<address>.downstream_cx_*` (Envoy's names). */
  collect(into: StatsSnapshot): void {
    const prefix = `http.${this.compiled.statPrefix}.`;
    for (const [k, v] of Object.entries(this.#stats)) into.counters[prefix + k] = v;
    into.gauges[`${prefix}downstream_cx_active`] = this.#sockets.size;
    const listener = `listener.${this.compiled.host}_${this.#port}.`;
    into.counters[`${listener}downstream_cx_total`] = this.#stats.downstream_cx_total;
    into.gauges[`${listener}downstream_cx_active`] = this.#sockets.size;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await Promise.all([...this.#upstreams.values()].map((u) => u.close()));
  }
}

/** Starts every HTTP listener; on a failure closes those started and rethrows. */
export async function startHttpListeners(compiled: readonly CompiledHttpListener[]): Promise<HttpListener[]> {
  const started: HttpListener[] = [];
  try {
    for (const c of compiled) {
      const l = new HttpListener(c);
      await l.listen();
      started.push(l);
    }
  } catch (err) {
    await Promise.all(started.map((l) => l.close()));
    throw err;
  }
  return started;
}
