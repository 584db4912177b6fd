import { ErrorType, ResponseStatus } from '../../codecs/api/index.js';
import type { Message, Metadata } from '../../codecs/api/index.js';
import type {
  CopySink,
  Deadline,
  PickContext,
  RequestSnapshot,
  RetryOn,
  RouterRoute,
  SendResult,
  SubsetSelector,
  UpstreamCluster,
  UpstreamClusters,
  UpstreamHost,
  UpstreamLink,
} from '../api/index.js';
import { admitTo, pickAndBind } from './forward.js';
import { sendMirrors } from './mirror.js';
import type { MirrorSource } from './mirror.js';
import { backOffMs, mayRetry, retryOnFor } from './retry.js';

const NO_KEYS: readonly string[] = [];

/**
 * How an exchange ended, as its upstream accounting needs to know: answered by the
 * upstream, answered with a local reply, or neither (one-way, or the client left).
 */
export type Outcome = 'response' | 'local-reply' | 'none';

/**
 * The upstream side of one request: admission, the host of each try, per-try timeouts,
 * retries that avoid the failed host, the request timeout, mirrors, and the cluster and
 * host counters. The runtime's exchange extends it and supplies the bytes and the
 * connections (UpstreamLink), the filter chain, the answer to the client and the end of
 * the exchange. Being the exchange's base class, it costs no object per request.
 */
export abstract class UpstreamRequest<H extends UpstreamHost = UpstreamHost, C extends UpstreamCluster<H> = UpstreamCluster<H>>
  implements PickContext<H>, UpstreamLink<H, C>, MirrorSource<H, C>, Deadline
{
  #route: RouterRoute | undefined = undefined;
  #cluster: C | undefined = undefined;
  #host: H | undefined = undefined;
  /** Tries sent so far, and a token that tells a try's timer whether its try is current. */
  #tries = 0;
  #attempt = 0;
  /** True once this request counts in its cluster's retries in flight. */
  #retrying = false;
  /** The host the last failed try went to: a retry prefers another one. */
  avoid: H | undefined = undefined;

  abstract readonly done: boolean;
  abstract readonly metadata: Metadata;
  /** Requests that get no answer: never retried, done once written. */
  abstract readonly oneway: boolean;
  /** The request frame's size (upstream_rq_tx_bytes). */
  protected abstract readonly requestBytes: number;
  /** The clusters of the listener. */
  protected abstract readonly clusters: UpstreamClusters<C>;
  /** The listener's request timeout, for routes without one. */
  protected abstract readonly defaultTimeoutMs: number;

  /** The route the request matched (matched once). */
  abstract route(): RouterRoute | undefined;
  abstract bind(cluster: C, host: H): boolean;
  abstract send(): SendResult;
  abstract forgetTry(): void;
  abstract schedule(target: Deadline, ms: number): void;
  abstract openCopy(snapshot: RequestSnapshot, sink: CopySink): UpstreamLink<H, C> | undefined;
  abstract sendLocalReply(error: ErrorType, text: string): void;
  abstract onFault(where: string, err: unknown): void;
  /** The request's bytes before the first try changes them (for mirrors). */
  protected abstract snapshot(): RequestSnapshot;
  /** The first try is about to be written (tracing). */
  protected abstract onFirstTry(): void;
  /** The answer goes to the client: response filters, encode, write, end. */
  protected abstract deliver(response: Message): void;
  /** A one-way request was written: the exchange ends. */
  protected abstract endForwarded(): void;
  /** The request timeout fired (counted by the listener). */
  protected abstract countTimeout(): void;

  get hashKeys(): readonly string[] {
    return this.#route?.hashKeys ?? NO_KEYS;
  }

  get subset(): SubsetSelector | undefined {
    return this.#route?.subset;
  }

  /** The cluster the request went to, once admitted. */
  protected get upstreamTarget(): C | undefined {
    return this.#cluster;
  }

  /** The host of the last try. */
  protected get upstreamPick(): H | undefined {
    return this.#host;
  }

  /** Sends the request to `clusterName` (the router's job). Failures become local replies. */
  forward(clusterName: string): void {
    const cluster = admitTo(this.clusters, clusterName, this);
    if (cluster === undefined) return;
    const route = this.route();
    this.#route = route;
    const mirrors = route?.mirrors;
    // The copy is taken before the id is rewritten in place for the first try.
    const snapshot = mirrors !== undefined && mirrors.length > 0 ? this.snapshot() : undefined;
    this.#cluster = cluster;
    const cs = cluster.stats;
    cs.upstream_rq_total++;
    cs.upstream_rq_active++;
    cs.upstream_rq_tx_bytes += this.requestBytes;
    if (!this.#sendTry()) return;
    const timeoutMs = route?.timeoutMs ?? this.defaultTimeoutMs;
    if (snapshot !== undefined) sendMirrors(this.clusters, mirrors!, this, snapshot, timeoutMs);
    if (this.oneway) {
      cs.upstream_rq_oneway++;
      this.endForwarded();
      return;
    }
    // A timeout of 0 disables it, as in Envoy (docs/configuration.md).
    if (!this.done && timeoutMs > 0) this.schedule(this, timeoutMs);
  }

  /** Sends one try; false when the request ended with a local reply instead. */
  #sendTry(): boolean {
    const host = pickAndBind(this.#cluster!, this);
    if (host === undefined) return false;
    if (this.#host !== undefined) this.#host.stats.rq_active--;
    this.#host = host;
    host.stats.rq_total++;
    host.stats.rq_active++;
    if (this.#tries === 0) this.onFirstTry();
    this.#tries++;
    const attempt = ++this.#attempt;
    const unencodable = this.send();
    if (unencodable !== undefined) {
      this.sendLocalReply(ErrorType.BadRequest, `meta protocol router: ${unencodable.message}`);
      return false;
    }
    const perTry = this.#route?.retryPolicy?.perTryTimeoutMs;
    if (perTry !== undefined && !this.oneway && !this.done) this.schedule(new PerTryDeadline(this, attempt), perTry);
    return true;
  }

  #mayRetry(kind: RetryOn): boolean {
    return !this.oneway && mayRetry(this.#route?.retryPolicy, kind, this.#tries, this.#cluster!, this.#retrying);
  }

  /** Forgets the failed try and sends another after the back-off, to another host if there is one. */
  #retry(): void {
    const cluster = this.#cluster!;
    this.forgetTry();
    this.#attempt++;
    if (!this.#retrying) {
      this.#retrying = true;
      cluster.retriesActive++;
    }
    cluster.stats.upstream_rq_retry++;
    this.avoid = this.#host;
    setTimeout(() => {
      if (this.done) return;
      try {
        this.#sendTry();
      } catch (err) {
        this.onFault('retry', err);
      }
    }, backOffMs(this.#route!.retryPolicy!, this.#tries, Math.random()));
  }

  /** True while `attempt` is the try in flight (a per-try timer of an older one is stale). */
  isCurrentTry(attempt: number): boolean {
    return !this.done && this.#attempt === attempt;
  }

  /** The per-try timeout of try `attempt` passed. */
  onPerTryTimeout(attempt: number): void {
    if (!this.isCurrentTry(attempt)) return;
    this.#cluster!.reportResult(this.#host!, false);
    if (this.#mayRetry('per-try-timeout')) {
      this.#retry();
      return;
    }
    this.forgetTry();
    this.sendLocalReply(ErrorType.Timeout, `meta protocol router: upstream request per-try timeout after ${this.#route?.retryPolicy?.perTryTimeoutMs} ms`);
  }

  /** The upstream answered the try in flight. */
  onUpstreamResponse(response: Message): void {
    if (this.done) return;
    // Response filters, the id restore and the encode are this exchange's: a throw there is
    // its error reply, never the failure of the shared upstream connection.
    try {
      const failed = response.status === ResponseStatus.Error;
      if (this.#host !== undefined) this.#cluster?.reportResult(this.#host, !failed);
      if (failed && this.#mayRetry('error-reply')) {
        this.#retry();
        return;
      }
      this.deliver(response);
    } catch (err) {
      this.onFault('response', err);
    }
  }

  /** The try in flight failed on its connection (connect failure, reset, bad response). */
  onUpstreamFailure(error: ErrorType, text: string): void {
    if (this.done) return;
    try {
      if (this.#host !== undefined) this.#cluster?.reportResult(this.#host, false);
      if (this.#mayRetry(retryOnFor(error))) {
        this.#retry();
        return;
      }
      this.sendLocalReply(error, text);
    } catch (err) {
      this.onFault('upstream failure', err);
    }
  }

  /** The request timeout passed (the runtime's deadline queue calls it). */
  expire(): void {
    if (this.done) return;
    try {
      this.countTimeout();
      const host = this.#host;
      if (host !== undefined) {
        this.#cluster!.reportResult(host, false);
        host.stats.rq_timeout++;
        this.#cluster!.stats.upstream_rq_timeout++;
      }
      this.forgetTry();
      const ms = this.#route?.timeoutMs ?? this.defaultTimeoutMs;
      this.sendLocalReply(ErrorType.Timeout, `meta protocol router: upstream request timeout after ${ms} ms`);
    } catch (err) {
      this.onFault('timeout', err);
    }
  }

  /** The exchange ends: retry slot, cluster and host counters. `responseBytes` counts for a response. */
  protected settleUpstream(outcome: Outcome, responseBytes: number): void {
    const cluster = this.#cluster;
    if (cluster === undefined) return;
    const cs = cluster.stats;
    if (this.#retrying) {
      cluster.retriesActive--;
      if (outcome === 'response') cs.upstream_rq_retry_success++;
    }
    cs.upstream_rq_active--;
    const host = this.#host;
    if (host !== undefined) host.stats.rq_active--;
    if (outcome === 'response') {
      if (host !== undefined) host.stats.rq_success++;
      cs.upstream_rq_completed++;
      cs.upstream_rs_rx_bytes += responseBytes;
    } else if (outcome === 'local-reply') {
      if (host !== undefined) host.stats.rq_error++;
      cs.upstream_rq_error++;
    }
  }
}

/** What a per-try timer needs of its request. */
interface TryOwner {
  isCurrentTry(attempt: number): boolean;
  onPerTryTimeout(attempt: number): void;
  onFault(where: string, err: unknown): void;
}

/** The per-try timeout of one try; stale once the request ended or a newer try replaced it. */
class PerTryDeadline implements Deadline {
  readonly #req: TryOwner;
  readonly #attempt: number;

  constructor(req: TryOwner, attempt: number) {
    this.#req = req;
    this.#attempt = attempt;
  }

  get done(): boolean {
    return !this.#req.isCurrentTry(this.#attempt);
  }

  expire(): void {
    try {
      this.#req.onPerTryTimeout(this.#attempt);
    } catch (err) {
      this.#req.onFault('per-try timeout', err);
    }
  }
}
