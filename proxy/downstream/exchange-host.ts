import type { Message, RequestId, ServerCodec } from '../../codecs/api/index.js';
import type { DownstreamPeer } from '../../filters/api/index.js';
import type { Cluster, Host } from '../upstream/cluster.js';
import type { UpstreamConnection } from '../upstream/upstream-connection.js';
import type { UpstreamPool } from '../upstream/upstream-pool.js';
import type { ListenerRuntime } from './listener-runtime.js';

/**
 * What an exchange needs from the client connection it serves. Kept apart from
 * DownstreamConnection so that the two files do not import each other.
 */
export interface ExchangeHost {
  readonly listener: ListenerRuntime;
  readonly codec: ServerCodec;
  readonly remoteAddress: string;
  /** `address:port` the client connected to (access log). */
  readonly localAddress: string;
  /** TLS facts and peer identity of the client connection (undefined for test doubles). */
  readonly peer?: DownstreamPeer | undefined;
  restoreId(response: Message, id: RequestId): void;
  write(frame: Buffer): void;
  pause(): void;
  resume(): void;
  onExchangeDone(exchange: object): void;
  /** The client's own upstream connection for `cluster`, when it is pinned to one. */
  pinnedUpstream?(cluster: Cluster, host: Host): UpstreamConnection | undefined;
  /** The connection of `pool` for this client's next request (one per host keeps order). */
  upstreamFor(pool: UpstreamPool): UpstreamConnection;
  /** An exception with no better answer than closing: counted, logged, the connection closed. */
  closeOnFault(where: string, err: unknown): void;
}
