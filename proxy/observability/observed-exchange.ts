import { ErrorType } from '../../codecs/api/index.js';
import type { ConnectionInfo } from '../../filters/api/index.js';
import type { Message, Metadata } from '../../codecs/api/index.js';
import type { ClusterStats } from '../stats.js';

/**
 * Per-exchange tracing state, owned by the tracer. The exchange only carries it, so that
 * the data path does not depend on the tracing library.
 */
export interface ExchangeTrace {
  /** Ends the spans of the exchange; called once, when it ends. */
  end(ex: ObservedExchange): void;
}

/** What observers (metrics, access log, tracing, Istio stats) read from an exchange. */
export interface ObservedExchange {
  readonly request: Message;
  readonly metadata: Metadata;
  readonly response: Message | undefined;
  /** performance.now() when the request was decoded. */
  readonly startTime: number;
  /** performance.now() when the first try was written upstream (kept only when an onComplete hook wants it). */
  readonly upstreamStartTime?: number | undefined;
  /** Set when the exchange ended with a local error reply. */
  readonly localError: ErrorType | undefined;
  /** True when the client went away before its answer. */
  readonly abandoned: boolean;
  readonly routeName: string | undefined;
  readonly upstreamCluster: string | undefined;
  /** `address:port` of the upstream host, once one was picked. */
  readonly upstreamHost: string | undefined;
  /** The stats of the cluster the request went to (upstream latency). */
  readonly upstreamClusterStats: ClusterStats | undefined;
  readonly downstreamRemoteAddress: string;
  readonly downstreamLocalAddress: string;
  /** Addresses and TLS peer identity of the client connection (access log); undefined for test doubles. */
  readonly connection?: ConnectionInfo | undefined;
  /** Bytes of the answer written to the client (response or local reply), 0 for none. */
  readonly responseBytes: number;
  /** Keys the proxy adds to the forwarded request (route mutation, generated x-request-id, trace context). */
  readonly requestMutation: ReadonlyMap<string, string> | null;
  trace: ExchangeTrace | undefined;
  setRequestHeader(key: string, value: string): void;
  setResponseHeader(key: string, value: string): void;
}

/** Hooks a listener calls on its exchanges when any observability feature is on. */
export interface ExchangeObserver {
  /** True when onStart and onUpstream must be called (tracing); false keeps them off the path. */
  readonly wantsStart: boolean;
  onStart(ex: ObservedExchange): void;
  /** The request is about to be written to `cluster` (mutations still apply). */
  onUpstream(ex: ObservedExchange): void;
  /** Called exactly once, when the exchange ends. */
  onEnd(ex: ObservedExchange): void;
}

/**
 * Envoy's `%RESPONSE_FLAGS%` short codes for the ways an exchange can end without a
 * response from upstream ('-' when it had one).
 */
export function responseFlags(ex: ObservedExchange): string {
  if (ex.localError === undefined) return ex.abandoned ? 'DC' : '-';
  switch (ex.localError) {
    case ErrorType.RouteNotFound:
      return 'NR';
    case ErrorType.ClusterNotFound:
      return 'NC';
    case ErrorType.NoHealthyUpstream:
      return ex.upstreamHost === undefined ? 'UH' : 'UF';
    case ErrorType.Timeout:
      return 'UT';
    case ErrorType.UpstreamReset:
      return 'UC';
    case ErrorType.OverLimit:
      return 'RL';
    case ErrorType.Unauthorized:
      return 'UAEX';
    case ErrorType.BadRequest:
      return 'DPE';
    case ErrorType.BadResponse:
      return 'UPE';
    default:
      return 'LR';
  }
}

/** `%RESPONSE_CODE_DETAILS%`, with the words Aeraki's router uses (spec §8.2). */
export function responseCodeDetails(ex: ObservedExchange): string {
  if (ex.localError === undefined) return ex.abandoned ? 'downstream_remote_disconnect' : '';
  switch (ex.localError) {
    case ErrorType.RouteNotFound:
      return 'no_matched_route';
    case ErrorType.ClusterNotFound:
      return 'unknown_cluster';
    case ErrorType.NoHealthyUpstream:
      return 'no_healthy_upstream';
    case ErrorType.UpstreamReset:
      return 'upstream_reset';
    case ErrorType.BadResponse:
      return 'upstream_response_incomplete';
    case ErrorType.Timeout:
      return 'upstream_response_timeout';
    case ErrorType.OverLimit:
      return 'request_rate_limited';
    case ErrorType.Unauthorized:
      return 'unauthorized';
    case ErrorType.BadRequest:
      return 'downstream_protocol_error';
    default:
      return 'local_reply';
  }
}

/** `%RESPONSE_CODE%` as MetaProtocol sets it: 0 for an upstream response, 1 otherwise. */
export function responseCode(ex: ObservedExchange): number {
  return ex.response !== undefined ? 0 : 1;
}
