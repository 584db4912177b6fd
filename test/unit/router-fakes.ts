/**
 * Fakes at the upstream API (filters/api/upstream.ts) for the router's unit tests: clusters
 * whose picks are scripted, a request whose runtime side records what the router asked of
 * it, and deadlines the test fires by hand. Nothing here opens a socket.
 */
import { EMPTY_METADATA, ErrorType, MessageType, ResponseStatus } from '../../codecs/api/index.js';
import type { Message, Metadata } from '../../codecs/api/index.js';
import { NO_HOST } from '../../filters/api/index.js';
import type {
  CopySink,
  Deadline,
  HostPick,
  MirrorPolicy,
  PickContext,
  PickResult,
  RequestSnapshot,
  RetryOn,
  RouterRoute,
  SendResult,
  SubsetSelector,
  UpstreamCluster,
  UpstreamClusterStats,
  UpstreamHostStats,
  UpstreamLink,
} from '../../filters/api/index.js';
import { UpstreamRequest } from '../../filters/router/index.js';
import type { Outcome } from '../../filters/router/index.js';

export class FakeHost {
  readonly id: string;
  readonly stats: UpstreamHostStats = { rq_total: 0, rq_success: 0, rq_error: 0, rq_timeout: 0, rq_active: 0 };
  readonly picked: HostPick<FakeHost> = { kind: 'host', host: this };
  constructor(id: string) {
    this.id = id;
  }
}

export function clusterStats(): UpstreamClusterStats {
  return {
    upstream_rq_total: 0,
    upstream_rq_completed: 0,
    upstream_rq_error: 0,
    upstream_rq_timeout: 0,
    upstream_rq_active: 0,
    upstream_rq_oneway: 0,
    upstream_rq_tx_bytes: 0,
    upstream_rs_rx_bytes: 0,
    upstream_rq_pending_overflow: 0,
    upstream_rq_retry: 0,
    upstream_rq_retry_success: 0,
    upstream_rq_retry_overflow: 0,
    mirror_rq_total: 0,
    mirror_rq_dropped: 0,
    mirror_rq_failed: 0,
  };
}

/** What a pick was asked, copied at the time of the pick. */
export interface SeenPick {
  readonly avoid: string | undefined;
  readonly hashKeys: readonly string[];
  readonly subset: string | undefined;
  readonly hashed: readonly (string | undefined)[];
}

/**
 * A cluster whose balancer is round robin over its hosts, skipping `avoid` when it can;
 * `script` overrides the result of the next picks.
 */
export class FakeCluster implements UpstreamCluster<FakeHost> {
  readonly name: string;
  readonly hosts: FakeHost[];
  readonly stats = clusterStats();
  retriesActive = 0;
  maxRequests = 1024;
  maxRetries = 3;
  readonly picks: SeenPick[] = [];
  readonly reports: [string, boolean][] = [];
  script: PickResult<FakeHost>[] = [];
  #next = 0;

  constructor(name: string, hostCount = 2) {
    this.name = name;
    this.hosts = Array.from({ length: hostCount }, (_, i) => new FakeHost(`10.0.0.${i + 1}:20880`));
  }

  admitRequest(): boolean {
    return this.stats.upstream_rq_active < this.maxRequests;
  }

  admitRetry(): boolean {
    return this.retriesActive < this.maxRetries;
  }

  pick(ctx: PickContext<FakeHost>): PickResult<FakeHost> {
    this.picks.push({
      avoid: ctx.avoid?.id,
      hashKeys: ctx.hashKeys,
      subset: ctx.subset?.key,
      hashed: ctx.hashKeys.map((k) => ctx.metadata.get(k)),
    });
    const scripted = this.script.shift();
    if (scripted !== undefined) return scripted;
    if (this.hosts.length === 0) return NO_HOST;
    let host = this.hosts[this.#next++ % this.hosts.length]!;
    if (host === ctx.avoid && this.hosts.length > 1) host = this.hosts[this.#next++ % this.hosts.length]!;
    return host.picked;
  }

  reportResult(host: FakeHost, ok: boolean): void {
    this.reports.push([host.id, ok]);
  }
}

export function metadataOf(entries: Record<string, string>): Metadata {
  const map = new Map(Object.entries(entries));
  return { get: (k: string) => map.get(k), entries: () => map.entries() };
}

export function routeOf(over: Partial<RouterRoute> & { retryOn?: RetryOn[]; numRetries?: number; perTryTimeoutMs?: number } = {}): RouterRoute {
  const { retryOn, numRetries, perTryTimeoutMs, ...rest } = over;
  return {
    name: 'r',
    pickCluster: () => 'c',
    requestMutation: null,
    responseMutation: null,
    hashKeys: [],
    timeoutMs: undefined,
    retryPolicy:
      retryOn === undefined
        ? undefined
        : { retryOn: new Set(retryOn), numRetries: numRetries ?? 1, perTryTimeoutMs, baseIntervalMs: 1, maxIntervalMs: 2 },
    mirrors: [] as MirrorPolicy[],
    subset: undefined as SubsetSelector | undefined,
    stats: { requests: 0, responses: 0, errors: 0, localReplies: 0 },
    ...rest,
  };
}

export function response(status: ResponseStatus = ResponseStatus.Ok, bytes = 10): Message {
  return {
    type: status === ResponseStatus.Ok ? MessageType.Response : MessageType.Error,
    requestId: 1,
    streamId: 0,
    frame: Buffer.alloc(bytes),
    headerSize: 0,
    bodySize: 0,
    status,
    operationName: '',
    metadata: EMPTY_METADATA,
    upstreamKey: '',
  };
}

/** A deadline the router set, fired by the test. */
export interface SetDeadline {
  readonly target: Deadline;
  readonly ms: number;
}

/** A copy the router sent to a mirror cluster. */
export class FakeCopy implements UpstreamLink<FakeHost, FakeCluster> {
  readonly sink: CopySink;
  host: FakeHost | undefined;
  sent = 0;
  forgotten = 0;
  congested = false;
  readonly deadlines: SetDeadline[] = [];
  constructor(sink: CopySink) {
    this.sink = sink;
  }
  bind(_cluster: FakeCluster, host: FakeHost): boolean {
    if (this.congested) return false;
    this.host = host;
    return true;
  }
  send(): SendResult {
    this.sent++;
    return undefined;
  }
  forgetTry(): void {
    this.forgotten++;
  }
  schedule(target: Deadline, ms: number): void {
    this.deadlines.push({ target, ms });
  }
}

/**
 * A request whose runtime side is recorded: the hosts it was bound to, what it sent, the
 * deadlines it got, its local reply or delivered response, and how it ended.
 */
export class FakeRequest extends UpstreamRequest<FakeHost, FakeCluster> {
  done = false;
  readonly metadata: Metadata;
  oneway = false;
  readonly #route: RouterRoute | undefined;
  readonly #clusters: Map<string, FakeCluster>;
  readonly bound: string[] = [];
  sends = 0;
  forgets = 0;
  readonly deadlines: SetDeadline[] = [];
  readonly copies: FakeCopy[] = [];
  reply: { error: ErrorType; text: string } | undefined;
  delivered: Message | undefined;
  outcome: Outcome | undefined;
  timeouts = 0;
  firstTries = 0;
  /** Set to make bind refuse (max_pending_requests) or send fail (unencodable). */
  refuseBind = false;
  unencodable: string | undefined;
  faults: string[] = [];

  constructor(clusters: FakeCluster[], route: RouterRoute | undefined, metadata: Metadata = EMPTY_METADATA) {
    super();
    this.#clusters = new Map(clusters.map((c) => [c.name, c]));
    this.#route = route;
    this.metadata = metadata;
  }

  protected get requestBytes(): number {
    return 100;
  }
  protected get clusters(): ReadonlyMap<string, FakeCluster> {
    return this.#clusters;
  }
  protected get defaultTimeoutMs(): number {
    return 5000;
  }
  route(): RouterRoute | undefined {
    return this.#route;
  }
  bind(_cluster: FakeCluster, host: FakeHost): boolean {
    if (this.refuseBind) return false;
    this.bound.push(host.id);
    return true;
  }
  send(): SendResult {
    this.sends++;
    return this.unencodable === undefined ? undefined : { message: this.unencodable };
  }
  forgetTry(): void {
    this.forgets++;
  }
  schedule(target: Deadline, ms: number): void {
    this.deadlines.push({ target, ms });
  }
  openCopy(_snapshot: RequestSnapshot, sink: CopySink): FakeCopy {
    const copy = new FakeCopy(sink);
    this.copies.push(copy);
    return copy;
  }
  sendLocalReply(error: ErrorType, text: string): void {
    if (this.done) return;
    this.reply = { error, text };
    this.#end('local-reply');
  }
  onFault(where: string): void {
    this.faults.push(where);
  }
  protected snapshot(): RequestSnapshot {
    return Buffer.alloc(100);
  }
  protected onFirstTry(): void {
    this.firstTries++;
  }
  protected deliver(res: Message): void {
    this.delivered = res;
    this.#end('response', res.frame.length);
  }
  protected endForwarded(): void {
    this.#end('none');
  }
  protected countTimeout(): void {
    this.timeouts++;
  }
  /** The host of the last try (the runtime reads it for access logs). */
  get lastHost(): string | undefined {
    return this.upstreamPick?.id;
  }
  #end(outcome: Outcome, bytes = 0): void {
    this.done = true;
    this.outcome = outcome;
    this.settleUpstream(outcome, bytes);
  }
}

/** Waits for the router's back-off timers (1-2 ms in these tests) to run. */
export function backOff(): Promise<void> {
  return new Promise((r) => setTimeout(r, 10));
}

/** The error types by name, for readable assertion messages. */
export const ERROR = ErrorType;
