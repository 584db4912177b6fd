import net from 'node:net';
import { logger } from '../logger.js';
import { reportFault } from '../net/fault.js';
import type { OriginalDestination } from '../net/original-dst.js';
import type { Cluster } from '../upstream/cluster.js';
import type { LogSink } from '../observability/access-log/sink.js';
import { pickTcpCluster } from './tcp-proxy-config.js';
import type { CompiledTcpProxy } from './tcp-proxy-config.js';
import type { TcpLogFormat, TcpLogRecord } from './tcp-access-log.js';
import type { TcpProxyStats } from './tcp-proxy-stats.js';

/** What a tcp_proxy chain needs from its listener. */
export interface TcpProxyRuntime {
  readonly config: CompiledTcpProxy;
  readonly stats: TcpProxyStats;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly accessLogs: readonly { readonly sink: LogSink; readonly format: TcpLogFormat }[];
  readonly highWatermark: number;
}

/**
 * One connection through `envoy.filters.network.tcp_proxy`: bytes are copied both ways as
 * they come, never parsed. Reading pauses on the side whose peer cannot keep up (the write
 * buffer passed the high watermark) and resumes on 'drain'. A FIN is passed on as a FIN
 * (half-close: the other direction keeps flowing until it ends too). The downstream socket
 * must come from a server with `allowHalfOpen: true`.
 */
export class TcpProxySession {
  readonly #down: net.Socket;
  #up: net.Socket | undefined;
  readonly #rt: TcpProxyRuntime;
  readonly #startedAt = Date.now();
  #rx = 0;
  #tx = 0;
  #cluster: string | undefined;
  #upstreamHost: string | undefined;
  #flags = '-';
  #closed = false;
  #downEnded = false;
  #upEnded = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #lastActivity = Date.now();
  readonly #onClosed: (s: TcpProxySession) => void;

  constructor(down: net.Socket, rt: TcpProxyRuntime, destination: OriginalDestination | undefined, onClosed: (s: TcpProxySession) => void) {
    this.#down = down;
    this.#rt = rt;
    this.#onClosed = onClosed;
    rt.stats.downstream_cx_total++;
    rt.stats.downstream_cx_active++;
    down.on('error', (err) => this.#close(`downstream: ${err.message}`));
    down.on('close', () => this.#close(undefined));
    // Nothing is read until the upstream is connected: the kernel holds the client's bytes.
    down.pause();
    try {
      this.#connect(destination);
    } catch (err) {
      reportFault('tcp_proxy connect', err, { client: `${down.remoteAddress}:${down.remotePort}` });
      this.#close('internal error');
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  #connect(destination: OriginalDestination | undefined): void {
    const rt = this.#rt;
    const name = pickTcpCluster(rt.config, Math.random());
    this.#cluster = name;
    const cluster = rt.clusters.get(name);
    if (cluster === undefined) {
      rt.stats.downstream_cx_no_route++;
      this.#flags = 'NR';
      this.#close(`no cluster '${name}'`);
      return;
    }
    let target: { address: string; port: number } | undefined;
    if (cluster.settings.originalDst === true) target = destination;
    else target = cluster.anyHost();
    if (target === undefined) {
      // BlackHoleCluster (STATIC, no endpoints), or an ORIGINAL_DST cluster for a connection that was not intercepted.
      rt.stats.downstream_cx_no_route++;
      cluster.stats.upstream_cx_none_healthy++;
      this.#flags = 'UH';
      this.#close(`cluster '${name}' has no host for this connection`);
      return;
    }
    this.#upstreamHost = `${target.address}:${target.port}`;
    const source = cluster.settings.sourceAddress;
    const up = net.connect({ host: target.address, port: target.port, noDelay: true, allowHalfOpen: true, ...(source !== undefined ? { localAddress: source } : {}) });
    this.#up = up;
    cluster.stats.upstream_cx_total++;
    const timer = setTimeout(() => {
      rt.stats.upstream_cx_connect_fail++;
      cluster.stats.upstream_cx_connect_timeout++;
      this.#flags = 'UF';
      this.#close(`connect to ${this.#upstreamHost} timed out`);
    }, cluster.connectTimeoutMs);
    let connected = false;
    up.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      this.#pipe(this.#down, up, true);
      this.#pipe(up, this.#down, false);
      this.#down.resume();
      this.#armIdle();
    });
    up.on('error', (err) => {
      clearTimeout(timer);
      if (!connected) {
        rt.stats.upstream_cx_connect_fail++;
        cluster.stats.upstream_cx_connect_fail++;
        this.#flags = 'UF';
      }
      this.#close(`upstream ${this.#upstreamHost}: ${err.message}`);
    });
    up.on('close', () => {
      clearTimeout(timer);
      this.#close(undefined);
    });
  }

  /** Copies `from` to `to` with backpressure; `fromDown`: the direction counted as received. */
  #pipe(from: net.Socket, to: net.Socket, fromDown: boolean): void {
    const stats = this.#rt.stats;
    from.on('data', (chunk: Buffer) => {
      this.#lastActivity = Date.now();
      if (fromDown) {
        this.#rx += chunk.length;
        stats.downstream_cx_rx_bytes_total += chunk.length;
      } else {
        this.#tx += chunk.length;
        stats.downstream_cx_tx_bytes_total += chunk.length;
      }
      if (!to.write(chunk) && !from.isPaused()) {
        from.pause();
        if (fromDown) stats.downstream_flow_control_paused_reading_total++;
      }
    });
    to.on('drain', () => {
      if (from.isPaused() && !this.#closed) {
        from.resume();
        if (fromDown) stats.downstream_flow_control_resumed_reading_total++;
      }
    });
    from.on('end', () => {
      // Half-close: pass the FIN on; the other direction keeps flowing until it ends too.
      if (fromDown) this.#downEnded = true;
      else this.#upEnded = true;
      to.end();
      if (this.#downEnded && this.#upEnded) this.#close(undefined);
    });
  }

  #armIdle(): void {
    const ms = this.#rt.config.idleTimeoutMs;
    if (ms === undefined) return;
    const check = (): void => {
      const left = this.#lastActivity + ms - Date.now();
      if (left > 0) {
        this.#idleTimer = setTimeout(check, left);
        return;
      }
      this.#rt.stats.idle_timeout++;
      this.#close('idle timeout');
    };
    this.#idleTimer = setTimeout(check, ms);
  }

  /** Closes both sides now (drain, shutdown, or the end of either side). */
  close(): void {
    this.#close('closed by the proxy');
  }

  #close(reason: string | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    const rt = this.#rt;
    rt.stats.downstream_cx_active--;
    if (reason !== undefined) logger.debug({ client: `${this.#down.remoteAddress}:${this.#down.remotePort}`, cluster: this.#cluster, reason }, 'tcp_proxy connection closed');
    this.#down.destroy();
    this.#up?.destroy();
    try {
      this.#log();
    } catch (err) {
      reportFault('tcp_proxy access log', err);
    }
    this.#onClosed(this);
  }

  #log(): void {
    if (this.#rt.accessLogs.length === 0) return;
    const d = this.#down;
    const record: TcpLogRecord = {
      startTime: this.#startedAt,
      durationMs: Date.now() - this.#startedAt,
      bytesReceived: this.#rx,
      bytesSent: this.#tx,
      downstreamRemote: `${d.remoteAddress ?? ''}:${d.remotePort ?? 0}`,
      downstreamLocal: `${d.localAddress ?? ''}:${d.localPort ?? 0}`,
      upstreamHost: this.#upstreamHost,
      upstreamLocal: this.#up?.localAddress === undefined ? undefined : `${this.#up.localAddress}:${this.#up.localPort ?? 0}`,
      upstreamCluster: this.#cluster,
      responseFlags: this.#flags,
    };
    for (const l of this.#rt.accessLogs) l.sink.write(l.format(record));
  }
}
