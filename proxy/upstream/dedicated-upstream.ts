import type { CodecContext, CodecFactory, ErrorType, Message } from '../../codecs/api/index.js';
import type { TlsContext } from '../tls/tls-runtime.js';
import type { Cluster, Host } from './cluster.js';
import { UpstreamConnection } from './upstream-connection.js';
import type { UpstreamStream } from './upstream-connection.js';

/** What a pinned upstream needs from the client connection it belongs to. */
export interface PinnedClient {
  write(frame: Buffer): void;
  pause(): void;
  resume(): void;
  /** The dedicated connection is gone: the client's streams with it. */
  onPinnedUpstreamClosed(text: string): void;
}

/**
 * A client connection's own upstream connection, for protocols whose streams are not
 * multiplexed (bRPC STRM: frames carry stream ids the two peers chose, no correlation id).
 * The first request that the router sends opens it to the host picked for that request's
 * cluster; from then on, requests routed to the same cluster use it (they still get their
 * ids rewritten and matched, and keep timeouts and error replies), and every stream frame,
 * both ways, goes through it untouched. Requests routed to another cluster use the shared
 * pools: a stream must be opened by a request of the pinned cluster.
 */
export class DedicatedUpstream implements UpstreamStream {
  readonly #client: PinnedClient;
  readonly #factory: CodecFactory;
  readonly #ctx: CodecContext;
  #conn: UpstreamConnection | undefined;
  #clusterName = '';
  #closed = false;

  constructor(client: PinnedClient, factory: CodecFactory, ctx: CodecContext) {
    this.#client = client;
    this.#factory = factory;
    this.#ctx = ctx;
  }

  /** The dedicated connection for a request routed to `cluster` (and `host`), or undefined. */
  connectionFor(cluster: Cluster, host: Host): UpstreamConnection | undefined {
    if (this.#closed) return undefined;
    if (this.#conn === undefined) {
      const conn = new UpstreamConnection({
        host: host.address,
        port: host.port,
        connectTimeoutMs: cluster.connectTimeoutMs,
        highWatermark: cluster.settings.highWatermark,
        sourceAddress: cluster.settings.sourceAddress,
        codec: this.#factory.createClientCodec(this.#ctx),
        onClosed: () => undefined,
        onGoAway: () => undefined,
        ...tlsOf(host),
      });
      conn.setStreamSink(this);
      this.#conn = conn;
      this.#clusterName = cluster.name;
      return conn;
    }
    return cluster.name === this.#clusterName ? this.#conn : undefined;
  }

  /** Sends a client's stream frame as it is; false when no connection is pinned yet. */
  sendStreamFrame(msg: Message): boolean {
    const conn = this.#conn;
    if (conn === undefined || conn.closed) return false;
    conn.sendStreamFrame(this, msg, undefined, null);
    return true;
  }

  onUpstreamStreamFrame(msg: Message): void {
    if (!this.#closed) this.#client.write(msg.frame);
  }

  onUpstreamFailure(_error: ErrorType, text: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.onPinnedUpstreamClosed(text);
  }

  pauseSource(): void {
    this.#client.pause();
  }

  resumeSource(): void {
    this.#client.resume();
  }

  /** The client left: the dedicated connection goes too (the server ends its streams). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#conn?.close();
  }
}

/** The TLS option of a connection to `host` (`{}` for plaintext). */
function tlsOf(host: Host): { tls?: TlsContext } {
  const ctx = host.tlsContext();
  return ctx === undefined ? {} : { tls: ctx };
}
