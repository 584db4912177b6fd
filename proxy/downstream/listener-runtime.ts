import type { CodecContext, CodecFactory } from '../../codecs/api/index.js';
import type { Filter } from '../../filters/api/index.js';
import type { FilterChain } from './filter-chain.js';
import type { RbacAuthorizer } from '../../filters/rbac/index.js';
import type { DeadlineQueue } from '../net/deadline-queue.js';
import type { OverloadState } from '../overload/overload-manager.js';
import type { ExchangeObserver } from '../observability/observed-exchange.js';
import type { RouteTable } from '../route/route-table.js';
import type { OnewayMethods } from './oneway-methods.js';
import type { ListenerStats } from '../stats.js';
import type { Cluster } from '../upstream/cluster.js';
import type { ChainSelection } from '../tls/listener-accept.js';

/**
 * Everything a downstream connection needs from its listener's compiled config. The route
 * table is read through `routes.current` per request, so a new table applies from the next
 * request on every connection (hot swap) while requests in flight keep theirs.
 */
export interface ListenerRuntime {
  readonly name: string;
  readonly codecFactory: CodecFactory;
  readonly codecContext: CodecContext;
  readonly routes: { current: RouteTable };
  readonly filters: readonly (() => Filter)[];
  /** `envoy.filters.network.rbac` filters before the MetaProtocol proxy; undefined when none. */
  readonly networkRbac?: readonly RbacAuthorizer[] | undefined;
  /** The filter chain of a new exchange (shared when the filters are; see filterChainBuilder). */
  readonly newFilterChain: () => FilterChain;
  readonly stats: ListenerStats;
  /** Aeraki's idle_timeout: no byte read for this long closes the connection. */
  readonly idleTimeoutMs: number | undefined;
  /** A frame partly read and not complete for this long closes the connection; 0: never. */
  readonly frameReadTimeoutMs: number;
  /** How long a draining connection sent a go-away frame is still read. */
  readonly drainGraceMs: number;
  /** Overload actions now in force (a property read per request). */
  readonly overload: OverloadState;
  readonly requestTimeoutMs: number;
  /** Streams idle this long are reset both ways; undefined: the default (60 s). */
  readonly streamIdleTimeoutMs?: number | undefined;
  readonly highWatermark: number;
  /** Methods declared one-way in the codec config (`onewayMethods`); undefined when none. */
  readonly onewayMethods?: OnewayMethods | undefined;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly deadlines: DeadlineQueue;
  /** Metrics, access log, tracing hooks; undefined when all are off (nothing is paid). */
  readonly observer?: ExchangeObserver | undefined;
  /** The filter chains (match, TLS context) a new connection is sorted into; absent: plaintext only. */
  readonly chainSelection?: ChainSelection | undefined;
}
