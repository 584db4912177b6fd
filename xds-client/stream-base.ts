/**
 * What SotW and delta xDS streams share: one gRPC call to one control plane at a time,
 * reopened with jittered exponential backoff while the cached config keeps serving; the
 * node sent on the first request of each call; per-type state (version, latest nonce,
 * subscribed names, last NACK); the does-not-exist timer of named subscriptions.
 */
import type * as grpc from '@grpc/grpc-js';
import { Backoff } from './backoff.js';
import type { ControlPlaneChannel } from './grpc-channel.js';
import type { XdsLogger } from './logger.js';
import { INVALID_ARGUMENT } from './messages.js';
import type { MessageCodec, RpcStatus } from './messages.js';
import type { ResourceUpdate, TypeWatcher } from './type-watcher.js';
import { newTypeStats } from './xds-stats.js';
import type { StreamStats, TypeStats } from './xds-stats.js';

/** Envoy's default initial_fetch_timeout, used as the does-not-exist timeout (spec/xds.md §1.4). */
export const DOES_NOT_EXIST_TIMEOUT_MS = 15_000;

export interface StreamOptions {
  readonly channel: ControlPlaneChannel;
  /** core.v3.Node as a plain object. */
  readonly node: object;
  /** Envoy's set_node_on_first_message_only; Meltemi's default is true (spec/xds.md §1.4). */
  readonly nodeOnFirstMessageOnly?: boolean;
  readonly backoff?: Backoff;
  readonly doesNotExistTimeoutMs?: number;
  readonly logger: XdsLogger;
}

/**
 * Back-off between NACKs of the same resent update: go-control-plane answers every NACK by
 * resending the rejected version, and only pushes a newer version to a stream that has a
 * request outstanding. Answering each resend at once would loop; not answering stalls the
 * type for good. So each resend is answered with the same NACK after 1 s, 2 s, 4 s ... 30 s.
 */
export const NACK_BACKOFF_BASE_MS = 1000;
export const NACK_BACKOFF_MAX_MS = 30_000;
const NO_JITTER = (): number => 1;

/** The last rejected update of a type, for /config_dump. */
export interface NackRecord {
  readonly version: string;
  readonly message: string;
  readonly at: string;
}

/** Per-type protocol state. */
export interface TypeState {
  readonly watcher: TypeWatcher;
  names: Set<string>;
  /** Last accepted version (SotW), sent back on reconnect and in NACKs. */
  version: string;
  /** Latest nonce of this stream; empty after a reconnect. */
  nonce: string;
  /**
   * What was last NACKed (SotW: the version; delta: the resources and versions). A resend of
   * it is NACKed again after a back-off, not at once (go-control-plane's NACK loop).
   */
  nackedKey: string | undefined;
  lastNack: NackRecord | undefined;
  /** The delayed NACK of a resend, waiting for its back-off; replaced by any newer request of the type. */
  nackTimer: NodeJS.Timeout | undefined;
  /** 1 s doubling to 30 s between NACKs of the same resent update (spec/xds.md §3.3). */
  readonly nackBackoff: Backoff;
  /** Names the client holds (cached across reconnects). */
  readonly received: Set<string>;
  /** Per-resource versions (delta). */
  readonly resourceVersions: Map<string, string>;
  readonly timers: Map<string, NodeJS.Timeout>;
  readonly stats: TypeStats;
}

export abstract class XdsStreamBase<Req extends { type_url: string }, Resp> {
  protected readonly types = new Map<string, TypeState>();
  readonly stats: StreamStats = { connects: 0, reconnects: 0, types: new Map() };
  readonly #opts: StreamOptions;
  readonly #method: string;
  readonly #req: MessageCodec<Req>;
  readonly #resp: MessageCodec<Resp>;
  readonly #backoff: Backoff;
  #call: grpc.ClientDuplexStream<Req, Resp> | undefined;
  #sentNode = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(opts: StreamOptions, method: string, req: MessageCodec<Req>, resp: MessageCodec<Resp>) {
    this.#opts = opts;
    this.#method = method;
    this.#req = req;
    this.#resp = resp;
    this.#backoff = opts.backoff ?? new Backoff();
  }

  /** The control plane's static cluster name (for logs and the config dump). */
  get target(): string {
    return this.#opts.channel.clusterName;
  }

  get connected(): boolean {
    return this.#call !== undefined;
  }

  /** Adds a resource type to this stream; subscribes at once when connected. */
  watch(watcher: TypeWatcher): void {
    if (this.types.has(watcher.typeUrl)) throw new Error(`type ${watcher.typeUrl} is already watched on this stream`);
    const stats = newTypeStats();
    this.stats.types.set(watcher.shortName, stats);
    const st: TypeState = {
      watcher,
      names: new Set(),
      version: '',
      nonce: '',
      nackedKey: undefined,
      lastNack: undefined,
      nackTimer: undefined,
      nackBackoff: new Backoff(NACK_BACKOFF_BASE_MS, NACK_BACKOFF_MAX_MS, NO_JITTER),
      received: new Set(),
      resourceVersions: new Map(),
      timers: new Map(),
      stats,
    };
    this.types.set(watcher.typeUrl, st);
    if (this.#call !== undefined && watcher.wildcard) this.send(this.initialRequest(st));
  }

  /** Sets the names of a named subscription (EDS, RDS); sends a request when they changed. */
  setNames(typeUrl: string, names: Iterable<string>): void {
    const st = this.types.get(typeUrl);
    if (st === undefined) throw new Error(`type ${typeUrl} is not watched on this stream`);
    const next = new Set(names);
    const added = [...next].filter((n) => !st.names.has(n));
    const removed = [...st.names].filter((n) => !next.has(n));
    if (added.length === 0 && removed.length === 0) return;
    st.names = next;
    for (const n of removed) {
      this.#clearTimer(st, n);
      st.received.delete(n);
      st.resourceVersions.delete(n);
    }
    if (this.#call === undefined) return;
    this.send(this.namesChangedRequest(st, added, removed));
    for (const n of added) this.#startTimer(st, n);
  }

  /** Per-type state, read by the config dump. */
  typeStates(): ReadonlyMap<string, TypeState> {
    return this.types;
  }

  start(): void {
    this.#connect();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    const call = this.#call;
    this.#call = undefined;
    call?.cancel();
    for (const st of this.types.values()) {
      for (const n of [...st.timers.keys()]) this.#clearTimer(st, n);
      this.#cancelDelayedNack(st);
    }
    this.#opts.channel.client.close();
  }

  /** The request that (re)subscribes a type on a new call. */
  protected abstract initialRequest(st: TypeState): Req;
  /** The request after a change of a named subscription. */
  protected abstract namesChangedRequest(st: TypeState, added: string[], removed: string[]): Req;
  /** Handles one response (ACK/NACK included). */
  protected abstract handle(resp: Resp): void;

  protected send(req: Req): void {
    const call = this.#call;
    if (call === undefined) return;
    // A new request of a type supersedes a NACK still waiting for its back-off.
    const st = this.types.get(req.type_url);
    if (st !== undefined) this.#cancelDelayedNack(st);
    if (!this.#sentNode || this.#opts.nodeOnFirstMessageOnly === false) (req as { node?: object }).node = this.#opts.node;
    this.#sentNode = true;
    call.write(req);
  }

  /** A resource of a named subscription arrived: stop its does-not-exist timer. */
  protected markReceived(st: TypeState, name: string): void {
    st.received.add(name);
    this.#clearTimer(st, name);
  }

  /** The server said a resource is gone (delta removed_resources): no timer needed any more. */
  protected markRemoved(st: TypeState, name: string): void {
    st.received.delete(name);
    st.resourceVersions.delete(name);
    this.#clearTimer(st, name);
  }

  /**
   * Sends the NACK of a rejected response. `key` names what was rejected (the version, or the
   * delta resources): the first rejection of it is answered at once; a resend of the same
   * thing (go-control-plane's answer to a NACK) is answered after the NACK back-off, so one
   * request stays outstanding without a tight loop.
   */
  protected nack(st: TypeState, key: string, version: string, errors: string[], request: (errorDetail: RpcStatus) => Req): void {
    const message = `xDS response validation errors: [${errors.join('; ')}]`;
    const resend = st.nackedKey === key;
    st.nackedKey = key;
    st.lastNack = { version, message, at: new Date().toISOString() };
    st.stats.update_rejected++;
    const req = request({ code: INVALID_ARGUMENT, message });
    const type = st.watcher.shortName;
    if (!resend) {
      st.nackBackoff.reset();
      this.#opts.logger.warn({ xds: this.target, type, version }, `rejected (NACK): ${message}`);
      this.send(req);
      return;
    }
    const delay = st.nackBackoff.next();
    this.#opts.logger.debug({ xds: this.target, type, version, nackInMs: delay }, 'the server resent a rejected update; NACKing it again after a back-off');
    const call = this.#call;
    st.nackTimer = setTimeout(() => {
      st.nackTimer = undefined;
      if (this.#call === call) this.send(req);
    }, delay);
    st.nackTimer.unref();
  }

  /**
   * Validates and applies an update. An exception from a decoder (a bug, or input nobody
   * foresaw) must neither escape to the process nor leave the response unanswered: it
   * becomes the NACK's error.
   */
  protected applyUpdate(st: TypeState, update: ResourceUpdate): string[] {
    try {
      return st.watcher.onUpdate(update, st.watcher.wildcard ? '*' : st.names);
    } catch (err) {
      this.#opts.logger.error({ xds: this.target, type: st.watcher.shortName, err: (err as Error).stack }, 'exception while applying an xDS update');
      return [`exception while applying the update: ${(err as Error).message}`];
    }
  }

  /** An update was accepted: the next rejection is answered at once again. */
  protected accepted(st: TypeState): void {
    st.nackedKey = undefined;
    st.nackBackoff.reset();
  }

  /** Tells the owner a response of the type was answered (its initial fetch is over). */
  protected responded(st: TypeState, accepted: boolean): void {
    try {
      st.watcher.onResponse(accepted);
    } catch (err) {
      this.#opts.logger.error({ xds: this.target, type: st.watcher.shortName, err: (err as Error).stack }, 'exception in an xDS response listener');
    }
  }

  #cancelDelayedNack(st: TypeState): void {
    if (st.nackTimer === undefined) return;
    clearTimeout(st.nackTimer);
    st.nackTimer = undefined;
  }

  protected resetBackoff(): void {
    this.#backoff.reset();
  }

  #connect(): void {
    if (this.#closed) return;
    this.stats.connects++;
    this.#sentNode = false;
    const ch = this.#opts.channel;
    const call = ch.client.makeBidiStreamRequest(this.#method, this.#req.serialize, this.#resp.deserialize, ch.metadata());
    this.#call = call;
    let ended = false;
    const onEnd = (why: string): void => {
      if (ended) return;
      ended = true;
      if (this.#call === call) this.#call = undefined;
      this.#onCallEnded(why);
    };
    call.on('data', (resp: Resp) => {
      if (this.#call === call) this.handle(resp);
    });
    call.on('error', (err: Error) => onEnd(err.message));
    call.on('status', (s: grpc.StatusObject) => onEnd(`status ${s.code}: ${s.details}`));
    call.on('end', () => onEnd('stream ended'));
    for (const st of this.types.values()) {
      // Nonces do not survive a call; the versions do (the server may skip what we have).
      st.nonce = '';
      st.nackedKey = undefined;
      this.#cancelDelayedNack(st);
      if (st.watcher.wildcard || st.names.size > 0) this.send(this.initialRequest(st));
      for (const n of st.names) if (!st.received.has(n)) this.#startTimer(st, n);
    }
  }

  #onCallEnded(why: string): void {
    for (const st of this.types.values()) {
      for (const n of [...st.timers.keys()]) this.#clearTimer(st, n);
      this.#cancelDelayedNack(st);
    }
    if (this.#closed) return;
    const delay = this.#backoff.next();
    this.stats.reconnects++;
    this.#opts.logger.warn({ xds: this.target, retryInMs: delay }, `xDS stream closed (${why}); serving the cached config meanwhile`);
    this.#retry = setTimeout(() => this.#connect(), delay);
    this.#retry.unref();
  }

  #startTimer(st: TypeState, name: string): void {
    if (st.timers.has(name) || st.received.has(name)) return;
    const t = setTimeout(() => {
      st.timers.delete(name);
      st.stats.does_not_exist++;
      this.#opts.logger.warn({ xds: this.target, type: st.watcher.shortName, resource: name }, 'resource does not exist (not sent before the timeout)');
      st.watcher.onDoesNotExist(name);
    }, this.#opts.doesNotExistTimeoutMs ?? DOES_NOT_EXIST_TIMEOUT_MS);
    t.unref();
    st.timers.set(name, t);
  }

  #clearTimer(st: TypeState, name: string): void {
    const t = st.timers.get(name);
    if (t !== undefined) clearTimeout(t);
    st.timers.delete(name);
  }
}
