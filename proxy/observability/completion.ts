import { ErrorType, MessageType, ResponseStatus } from '../../codecs/api/index.js';
import type { Metadata } from '../../codecs/api/index.js';
import type { ConnectionInfo, ExchangeCompletion, ExchangeOutcome } from '../../filters/api/index.js';
import type { ObservedExchange } from './observed-exchange.js';

/**
 * How `ex` ended, in the filter API's words. The proxy's own error comes first (a stream
 * reset after its INIT was answered, a response that could not be encoded), then the client
 * leaving, then the upstream's answer.
 */
export function outcomeOf(ex: ObservedExchange): ExchangeOutcome {
  switch (ex.localError) {
    case undefined:
      break;
    case ErrorType.Timeout:
      return 'timeout';
    case ErrorType.UpstreamReset:
      return 'reset';
    case ErrorType.BadResponse:
      return 'upstream-failure';
    case ErrorType.NoHealthyUpstream:
      // With a host picked, the connection to it failed; without, there was none to pick.
      return ex.upstreamHost !== undefined ? 'upstream-failure' : 'local-reply';
    default:
      return 'local-reply';
  }
  if (ex.abandoned) return 'downstream-disconnect';
  const r = ex.response;
  if (r !== undefined) return r.type === MessageType.Error || r.status !== ResponseStatus.Ok ? 'error' : 'success';
  return 'oneway';
}

/**
 * The end of one exchange as onComplete hooks read it: a view over the exchange (nothing
 * is copied unless asked for), made once per exchange and only for chains with a hook.
 * Runtime hooks (the access log) read the whole observed exchange through `exchange`.
 */
export class Completion implements ExchangeCompletion {
  readonly exchange: ObservedExchange;
  readonly durationMs: number;
  readonly #end: number;

  constructor(ex: ObservedExchange, end: number) {
    this.exchange = ex;
    this.#end = end;
    this.durationMs = end - ex.startTime;
  }

  get outcome(): ExchangeOutcome {
    return outcomeOf(this.exchange);
  }

  get errorType(): ErrorType | undefined {
    return this.exchange.localError;
  }

  get responseStatus(): ResponseStatus | undefined {
    return this.exchange.response?.status;
  }

  get startTime(): number {
    return this.exchange.startTime;
  }

  get upstreamLatencyMs(): number | undefined {
    const t = this.exchange.upstreamStartTime;
    return t === undefined ? undefined : this.#end - t;
  }

  get metadata(): Metadata {
    return this.exchange.metadata;
  }

  get responseMetadata(): Metadata | undefined {
    return this.exchange.response?.metadata;
  }

  get operationName(): string {
    return this.exchange.request.operationName;
  }

  get requestBytes(): number {
    return this.exchange.request.frame.length;
  }

  get responseBytes(): number {
    return this.exchange.responseBytes;
  }

  get routeName(): string | undefined {
    return this.exchange.routeName;
  }

  get upstreamCluster(): string | undefined {
    return this.exchange.upstreamCluster;
  }

  get upstreamHost(): string | undefined {
    return this.exchange.upstreamHost;
  }

  get downstreamRemoteAddress(): string {
    return this.exchange.downstreamRemoteAddress;
  }

  get downstreamLocalAddress(): string {
    return this.exchange.downstreamLocalAddress;
  }

  get connection(): ConnectionInfo | undefined {
    return this.exchange.connection;
  }
}

/** A hook of the runtime itself (the access log) that runs after the filters' onComplete. */
export interface RuntimeCompleter {
  onComplete(c: Completion): void;
}
