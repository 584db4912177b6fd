import type { ClientCodec } from '../../codecs/api/index.js';
import { UpstreamConnection } from './upstream-connection.js';
import type { TlsContext } from '../tls/tls-runtime.js';

export interface PoolOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  highWatermark: number;
  /** Connections to open at most; requests are spread over them. */
  size: number;
  /** Idle time after which a connection sends a heartbeat. */
  heartbeatMs?: number;
  /** The local address to connect from (upstream_bind_config). */
  sourceAddress?: string | undefined;
  /** The cluster's connection circuit breaker: false when no more may be opened. */
  mayOpen?(): boolean;
  createCodec(): ClientCodec;
  /**
   * True (the default): a client connection keeps its requests to this host on one upstream
   * connection, in order (meltemi `keep_client_order`). False: each request goes to the
   * least-loaded connection.
   */
  keepClientOrder?: boolean;
  /** Called when an exception was caught on one of the pool's connections. */
  onFault?(): void;
  /** TLS to this host; absent: plaintext. */
  tls?: TlsContext;
}

/**
 * The upstream connections of one host for one codec variant. Connections open lazily up
 * to `size`; each request goes to the one with the fewest requests in flight.
 */
export class UpstreamPool {
  readonly #opts: PoolOptions;
  readonly #conns: UpstreamConnection[] = [];
  /** Round-robin position for binding clients to connections. */
  #next = 0;
  readonly keepClientOrder: boolean;

  constructor(opts: PoolOptions) {
    this.#opts = opts;
    this.keepClientOrder = opts.keepClientOrder ?? true;
  }

  get connections(): readonly UpstreamConnection[] {
    return this.#conns;
  }

  pick(): UpstreamConnection {
    const conns = this.#conns;
    if (conns.length < this.#opts.size && (conns.length === 0 || this.#opts.mayOpen?.() !== false)) return this.#open();
    let best = conns[0]!;
    // Open streams count as load too: they are long-lived and each carries its own frames.
    let bestLoad = best.pendingCount + best.streamCount;
    for (let i = 1; i < conns.length; i++) {
      const load = conns[i]!.pendingCount + conns[i]!.streamCount;
      if (load < bestLoad) {
        best = conns[i]!;
        bestLoad = load;
      }
    }
    return best;
  }

  /**
   * The connection a new client binds to (see UpstreamAffinity): a new one while the pool
   * may grow, else the next in turn, so clients spread evenly over the connections.
   */
  pickForClient(): UpstreamConnection {
    const conns = this.#conns;
    if (conns.length < this.#opts.size && (conns.length === 0 || this.#opts.mayOpen?.() !== false)) return this.#open();
    const i = this.#next >= conns.length ? 0 : this.#next;
    this.#next = i + 1;
    return conns[i]!;
  }

  #open(): UpstreamConnection {
    const o = this.#opts;
    const conn = new UpstreamConnection({
      host: o.host,
      port: o.port,
      connectTimeoutMs: o.connectTimeoutMs,
      highWatermark: o.highWatermark,
      ...(o.heartbeatMs !== undefined ? { heartbeatMs: o.heartbeatMs } : {}),
      sourceAddress: o.sourceAddress,
      codec: o.createCodec(),
      onClosed: (c) => this.#remove(c),
      onGoAway: (c) => this.#remove(c),
      ...(o.onFault !== undefined ? { onFault: o.onFault } : {}),
      ...(o.tls !== undefined ? { tls: o.tls } : {}),
    });
    this.#conns.push(conn);
    return conn;
  }

  #remove(conn: UpstreamConnection): void {
    const i = this.#conns.indexOf(conn);
    if (i >= 0) this.#conns.splice(i, 1);
  }

  close(): void {
    for (const c of [...this.#conns]) c.close();
  }
}
