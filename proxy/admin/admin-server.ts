import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { compileRegex } from '../../config/regex.js';
import { LOG_LEVEL_NAMES, changeLogLevel, logger, logLevel } from '../logger.js';
import { renderMemoryJson } from '../observability/memory.js';
import type { MemoryReport } from '../observability/memory.js';
import { renderPrometheus } from '../observability/prometheus.js';
import type { StatsSnapshot } from '../observability/stats-snapshot.js';
import { renderStatsJson, renderStatsText } from '../observability/stats-text.js';
import type { StatsQuery } from '../observability/stats-text.js';
import { renderClustersJson, renderClustersText } from './clusters-view.js';
import type { ClusterStatus } from './clusters-view.js';

/**
 * What the admin server reads from the running proxy. In multi-worker mode the primary
 * implements it: `statsSnapshot()` returns `mergeStatsSnapshots` of the workers' latest
 * snapshots (observability/stats-snapshot.ts), and the drain goes to every worker.
 */
export interface AdminSource {
  /** False while starting or draining. */
  ready(): boolean;
  configDump(): unknown;
  statsSnapshot(): StatsSnapshot;
  clusters(): ClusterStatus[];
  serverInfo(): Record<string, unknown>;
  listeners(): { name: string; address: string }[];
  /** Memory of every Meltemi process (the primary and its workers), and how many there are. */
  memory(): { total: MemoryReport; processes: number };
  /** Stops accepting on every listener (or only inbound ones); `graceful`: drain first. */
  drainListeners(opts: { graceful: boolean; inboundOnly: boolean }): void;
}

const PATHS = [
  '/ready',
  '/server_info',
  '/config_dump',
  '/stats',
  '/stats/prometheus',
  '/clusters',
  '/listeners',
  '/memory',
  '/healthcheck/fail',
  '/healthcheck/ok',
  '/drain_listeners',
  '/logging',
];
/** Paths that change state: POST only, as Envoy requires (a stray GET must not drain a proxy). */
const MUTATING = new Set(['/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/logging']);

function statsQuery(url: URL): StatsQuery | string {
  const q: StatsQuery = { usedOnly: url.searchParams.has('usedonly') };
  const filter = url.searchParams.get('filter');
  if (filter !== null && filter !== '') {
    // RE2, as Envoy's: a search (not a full match) over each stat name, in linear time.
    try {
      q.filter = compileRegex(filter);
    } catch (err) {
      return `invalid filter: ${(err as Error).message}`;
    }
  }
  return q;
}

/**
 * The admin endpoint, on Envoy's paths: /ready, /server_info, /config_dump, /stats
 * (text, `?format=json`, `?filter=`, `?usedonly`), /stats/prometheus, /clusters
 * (`?format=json`), /listeners, /memory, and the POST-only /healthcheck/fail, /healthcheck/ok,
 * /drain_listeners, /logging?level=. Bind it to loopback unless it must be reached from elsewhere.
 */
export class AdminServer {
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(host: string, port: number, source: AdminSource): Promise<AdminServer> {
    let healthCheckFailed = false;
    const state = (): string => (healthCheckFailed || !source.ready() ? 'DRAINING' : 'LIVE');
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://admin');
      const send = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
        res.writeHead(code, { 'content-type': type, 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' });
        res.end(body);
      };
      const json = (body: unknown): void => send(200, JSON.stringify(body, null, 2) + '\n', 'application/json');
      const path = url.pathname;
      if (MUTATING.has(path) && req.method !== 'POST') return send(405, `${path} changes the proxy: use POST\n`);
      switch (path) {
        case '/ready': {
          const s = state();
          return send(s === 'LIVE' ? 200 : 503, `${s}\n`);
        }
        case '/server_info':
          return json({ ...source.serverInfo(), state: state() });
        case '/config_dump':
          return json(source.configDump());
        case '/stats': {
          const q = statsQuery(url);
          if (typeof q === 'string') return send(400, `${q}\n`);
          const snap = source.statsSnapshot();
          if (url.searchParams.get('format') === 'json') return json(renderStatsJson(snap, q));
          if (url.searchParams.get('format') === 'prometheus') return send(200, renderPrometheus(snap), 'text/plain; version=0.0.4; charset=utf-8');
          return send(200, renderStatsText(snap, q));
        }
        case '/stats/prometheus':
          return send(200, renderPrometheus(source.statsSnapshot()), 'text/plain; version=0.0.4; charset=utf-8');
        case '/clusters':
          return url.searchParams.get('format') === 'json' ? json(renderClustersJson(source.clusters())) : send(200, renderClustersText(source.clusters()));
        case '/listeners':
          return url.searchParams.get('format') === 'json'
            ? json({ listener_statuses: source.listeners().map((l) => ({ name: l.name, local_address: l.address })) })
            : send(200, source.listeners().map((l) => `${l.name}::${l.address}`).join('\n') + '\n');
        case '/memory': {
          const m = source.memory();
          return json(renderMemoryJson(m.total, m.processes));
        }
        case '/healthcheck/fail':
          healthCheckFailed = true;
          logger.info('admin: health checks now fail');
          return send(200, 'OK\n');
        case '/healthcheck/ok':
          healthCheckFailed = false;
          logger.info('admin: health checks now pass');
          return send(200, 'OK\n');
        case '/drain_listeners':
          source.drainListeners({ graceful: url.searchParams.has('graceful'), inboundOnly: url.searchParams.has('inboundonly') });
          return send(200, 'OK\n');
        case '/logging': {
          const level = url.searchParams.get('level');
          if (level !== null && changeLogLevel(level, 'admin') === undefined) return send(400, `unknown level '${level}'; one of ${LOG_LEVEL_NAMES}\n`);
          return send(200, `active loggers:\n  meltemi: ${logLevel()}\n`);
        }
        default:
          return send(404, `unknown admin path ${path}; try ${PATHS.join(' ')}\n`);
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
