import type { ClientCodec } from '../../codecs/api/index.js';
import { UpstreamConnection } from './upstream-connection.js';

export interface PoolOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  highWatermark: number;
  /** Connections to open at most; requests are spread over them. */
  size: number;
  /** Idle time after which a connection sends a heartbeat. */
  heartbeatMs?: number;
  /** The cluster's connection circuit breaker: false when no more may be opened. */
  mayOpen?(): boolean;
  createCodec(): ClientCodec;
}

/**
 * The upstream connections of one host for one codec variant. Connections open lazily up
 * to `size`; each request goes to the one with the fewest requests in flight.
 */
export class UpstreamPool {
  readonly #opts: PoolOptions;
  readonly #conns: UpstreamConnection[] = [];

  constructor(opts: PoolOptions) {
    this.#opts = opts;
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

  #open(): UpstreamConnection {
    const o = this.#opts;
    const conn = new UpstreamConnection({
      host: o.host,
      port: o.port,
      connectTimeoutMs: o.connectTimeoutMs,
      highWatermark: o.highWatermark,
      ...(o.heartbeatMs !== undefined ? { heartbeatMs: o.heartbeatMs } : {}),
      codec: o.createCodec(),
      onClosed: (c) => this.#remove(c),
      onGoAway: (c) => this.#remove(c),
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
