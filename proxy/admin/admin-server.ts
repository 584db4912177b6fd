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
import { certificates } from './certs.js';
import type { DrainListenersOptions } from '../downstream/listener-manager.js';
import type { ServerState } from '../server-state.js';
import { renderClustersJson, renderClustersText } from './clusters-view.js';
import { SERVER_GAUGES, addServerGauges } from './server-gauges.js';
import type { ClusterStatus } from './clusters-view.js';
import { renderConfigDump } from './config-dump/render.js';
import type { ConfigDumpSource } from './config-dump/source.js';
import { CounterReset } from './counter-reset.js';

/**
 * What the admin server reads from the running proxy. In multi-worker mode the primary
 * implements it: `statsSnapshot()` returns `mergeStatsSnapshots` of the workers' latest
 * snapshots (observability/stats-snapshot.ts), and the drain goes to every worker.
 */
export interface AdminSource {
  /** PRE_INITIALIZING/INITIALIZING until the first xDS config is applied, DRAINING on shutdown, else LIVE. */
  serverState(): ServerState;
  /** What /config_dump shows (config-dump/source-from-config.ts builds it). */
  configDump(): ConfigDumpSource;
  statsSnapshot(): StatsSnapshot;
  clusters(): ClusterStatus[];
  serverInfo(): Record<string, unknown>;
  listeners(): { name: string; address: string }[];
  /** Memory of every Meltemi process (the primary and its workers), and how many there are. */
  memory(): { total: MemoryReport; processes: number };
  /** Envoy's /drain_listeners (downstream/listener-manager.ts says what each option does). */
  drainListeners(opts: DrainListenersOptions): void;
  /** POST /quitquitquit: the shutdown a SIGTERM starts (inbound drain, exit at zero connections). */
  quit(): void;
}

/** Every path, with what /help says of it. */
const ENDPOINTS: readonly { readonly path: string; readonly help: string }[] = [
  { path: '/certs', help: 'print the certificates in use (empty until TLS is configured)' },
  { path: '/clusters', help: 'upstream clusters and their hosts (?format=json)' },
  { path: '/config_dump', help: 'dump the current config as envoy.admin.v3.ConfigDump (?resource=, ?mask=, ?name_regex=, ?include_eds)' },
  { path: '/drain_listeners', help: 'drain listeners (?graceful, ?inboundonly, ?skip_exit)' },
  { path: '/healthcheck/fail', help: 'make /ready fail' },
  { path: '/healthcheck/ok', help: 'make /ready pass again' },
  { path: '/help', help: 'print this list' },
  { path: '/listeners', help: 'listener names and addresses (?format=json)' },
  { path: '/logging', help: 'show or set the log level (?level=)' },
  { path: '/memory', help: 'memory of every Meltemi process' },
  { path: '/quitquitquit', help: 'shut down as on SIGTERM: drain inbound listeners, exit once no connection is open' },
  { path: '/ready', help: 'LIVE (200) when serving, else the state (503)' },
  { path: '/reset_counters', help: 'reset every counter to zero' },
  { path: '/server_info', help: 'version, state, uptime, command line and node as envoy.admin.v3.ServerInfo' },
  { path: '/stats', help: 'counters, gauges and histograms (?format=json|prometheus, ?filter=, ?usedonly)' },
  { path: '/stats/prometheus', help: 'stats in Prometheus text format' },
];
const PATHS = ENDPOINTS.map((e) => e.path);
/** Paths that change state: POST only, as Envoy requires (a stray GET must not drain a proxy). */
const MUTATING = new Set(['/healthcheck/fail', '/healthcheck/ok', '/drain_listeners', '/quitquitquit', '/logging', '/reset_counters']);

/** Envoy's /help text: one `  <path>: <what it does>` line per endpoint. */
function helpText(): string {
  return 'admin commands are:\n' + ENDPOINTS.map((e) => `  ${e.path}: ${e.help}\n`).join('');
}

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
 * /drain_listeners, /quitquitquit, /reset_counters, /logging?level=; /help lists them all. Bind it to loopback unless it must be reached from elsewhere.
 */
export class AdminServer {
  readonly #server: http.Server;

  private constructor(server: http.Server) {
    this.#server = server;
  }

  static async start(host: string, port: number, source: AdminSource): Promise<AdminServer> {
    let healthCheckFailed = false;
    const counterReset = new CounterReset();
    /** Envoy starts its workers once init is done; the gauge stays 1 from then on. */
    let workersStarted = false;
    const state = (): ServerState => {
      const s = healthCheckFailed ? 'DRAINING' : source.serverState();
      if (s === 'LIVE') workersStarted = true;
      return s;
    };
    const stats = (): StatsSnapshot => {
      const s = state();
      const snap = counterReset.apply(source.statsSnapshot());
      // An empty snapshot is stats_config.stats_matcher.reject_all (memory gauges are always
      // there otherwise): Envoy rejects the server gauges too.
      const rejectAll = Object.keys(snap.counters).length === 0 && Object.keys(snap.gauges).length === 0 && Object.keys(snap.histograms).length === 0;
      return rejectAll ? snap : addServerGauges(snap, s, workersStarted);
    };
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://admin');
      const send = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
        res.writeHead(code, { 'content-type': type, 'cache-control': 'no-cache, max-age=0', 'x-content-type-options': 'nosniff' });
        res.end(body);
      };
      const json = (body: unknown): void => send(200, JSON.stringify(body, null, 2) + '\n', 'application/json');
      const path = url.pathname;
      if (MUTATING.has(path) && req.method !== 'POST') return send(405, `${path} changes the proxy: use POST\n`);
      // A bug in one endpoint answers 500 and leaves the proxy (and this server) running.
      try {
        route(path, url, send, json, res);
      } catch (err) {
        logger.error({ path, err: (err as Error).stack }, 'admin: exception while answering');
        if (!res.headersSent) send(500, `${path}: internal error: ${(err as Error).message}\n`);
        else res.destroy();
      }
    });
    const route = (path: string, url: URL, send: (code: number, body: string, type?: string) => void, json: (body: unknown) => void, res: http.ServerResponse): void => {
      switch (path) {
        case '/ready': {
          const s = state();
          return send(s === 'LIVE' ? 200 : 503, `${s}\n`);
        }
        case '/server_info':
          return json({ ...source.serverInfo(), state: state() });
        case '/config_dump': {
          const answer = renderConfigDump(source.configDump(), url.searchParams);
          return answer.json ? send(answer.status, answer.body, 'application/json') : send(answer.status, answer.body);
        }
        case '/certs':
          return json(certificates());
        case '/help':
          return send(200, helpText());
        case '/reset_counters':
          counterReset.reset(source.statsSnapshot());
          return send(200, 'OK\n');
        case '/stats': {
          const q = statsQuery(url);
          if (typeof q === 'string') return send(400, `${q}\n`);
          q.written = SERVER_GAUGES;
          const snap = stats();
          if (url.searchParams.get('format') === 'json') return json(renderStatsJson(snap, q));
          if (url.searchParams.get('format') === 'prometheus') return send(200, renderPrometheus(snap), 'text/plain; version=0.0.4; charset=utf-8');
          return send(200, renderStatsText(snap, q));
        }
        case '/stats/prometheus':
          return send(200, renderPrometheus(stats()), 'text/plain; version=0.0.4; charset=utf-8');
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
        case '/drain_listeners': {
          const opts = { graceful: url.searchParams.has('graceful'), inboundOnly: url.searchParams.has('inboundonly'), skipExit: url.searchParams.has('skip_exit') };
          if (opts.skipExit && !opts.graceful) return send(400, 'skip_exit requires graceful\n');
          source.drainListeners(opts);
          return send(200, 'OK\n');
        }
        case '/quitquitquit':
          res.once('finish', () => source.quit());
          return send(200, 'OK\n');
        case '/logging': {
          const level = url.searchParams.get('level');
          if (level !== null && changeLogLevel(level, 'admin') === undefined) return send(400, `unknown level '${level}'; one of ${LOG_LEVEL_NAMES}\n`);
          return send(200, `active loggers:\n  meltemi: ${logLevel()}\n`);
        }
        default:
          return send(404, `unknown admin path ${path}; try ${PATHS.join(' ')}\n`);
      }
    };
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
