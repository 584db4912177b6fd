import type { ErrorType, Metadata, ResponseStatus } from '../../codecs/api/index.js';
import type { ConnectionInfo } from './connection.js';

/**
 * How an exchange ended, from the client's point of view:
 * - `success`: the upstream answered with a normal response;
 * - `error`: the upstream answered with an error (a business exception, an error status);
 * - `local-reply`: the proxy answered itself before or instead of the upstream (no route,
 *   unknown cluster, rate limited, unauthorized, a filter's own reply, an internal error);
 * - `upstream-failure`: the upstream could not be reached or sent no usable answer
 *   (connection failure, no healthy host after a connect failure, an answer that does not decode);
 * - `timeout`: the request timeout or the last per-try timeout passed;
 * - `reset`: the upstream connection closed with the request in flight;
 * - `oneway`: a one-way request was forwarded (no answer is expected);
 * - `downstream-disconnect`: the client went away before its answer.
 */
export type ExchangeOutcome = 'success' | 'error' | 'local-reply' | 'upstream-failure' | 'timeout' | 'reset' | 'oneway' | 'downstream-disconnect';

/**
 * What a filter learns when an exchange has ended (Filter.onComplete). Read it during the
 * call: the proxy may reuse what stands behind it afterwards.
 */
export interface ExchangeCompletion {
  readonly outcome: ExchangeOutcome;
  /** The error the proxy answered with (every outcome but success, error, oneway and downstream-disconnect). */
  readonly errorType: ErrorType | undefined;
  /** The upstream response's status, when there was one. */
  readonly responseStatus: ResponseStatus | undefined;
  /** `performance.now()` when the request was decoded, in ms. */
  readonly startTime: number;
  /** From the request's decode to the end of the exchange, in ms. */
  readonly durationMs: number;
  /** From the first try's write upstream to the end, in ms; undefined when nothing went upstream. */
  readonly upstreamLatencyMs: number | undefined;
  /** The request's metadata (lower-cased keys). */
  readonly metadata: Metadata;
  /** The upstream response's metadata, when there was one. */
  readonly responseMetadata: Metadata | undefined;
  /** The codec's name of the call, e.g. `<interface>/<method>`. */
  readonly operationName: string;
  /** Size of the request frame as received, in bytes. */
  readonly requestBytes: number;
  /** Bytes written to the client (response or local reply); 0 for none. */
  readonly responseBytes: number;
  readonly routeName: string | undefined;
  readonly upstreamCluster: string | undefined;
  /** `address:port` of the upstream host of the last try, when one was picked. */
  readonly upstreamHost: string | undefined;
  readonly downstreamRemoteAddress: string;
  readonly downstreamLocalAddress: string;
  /** The downstream connection (addresses, TLS peer identity); undefined for a test double's exchange. */
  readonly connection: ConnectionInfo | undefined;
}
