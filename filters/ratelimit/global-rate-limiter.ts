import type { ServiceError } from '@grpc/grpc-js';
import { ErrorType } from '../../codecs/api/index.js';
import { FilterStatus } from '../api/index.js';
import type { Filter, FilterExchange, FilterResult } from '../api/index.js';
import type { RateLimitConfig } from './config.js';
import { rlsChannel } from './rls-channel.js';
import type { RlsChannel } from './rls-channel.js';
import { encodeDomain, encodeRequest, RlsCode } from './rls-wire.js';
import type { RlsAnswer } from './rls-wire.js';
import { isBreakerOpen } from './service-breaker.js';
import type { CallHolder, RateLimitShared } from './service-breaker.js';

/** The most requests one service call carries (as its hits_addend). */
export const MAX_BATCH = 64;

/** Descriptor value sets remembered (with what the service last said); idle ones go beyond this. */
const MAX_KEYS = 4096;

/** One request waiting for the service's answer. */
interface Waiter {
  readonly ex: FilterExchange;
  readonly resolve: (s: FilterStatus) => void;
}

/** Requests with the same descriptor values, answered by one ShouldRateLimit call. */
class Batch implements CallHolder {
  readonly values: readonly string[];
  readonly waiters: Waiter[] = [];
  call: CallHolder['call'] = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  settled = false;
  readonly createdAt = performance.now();

  constructor(values: readonly string[]) {
    this.values = values;
  }
}

/** The calls of one descriptor value set. */
class KeyState {
  inFlight = 0;
  /** Requests that came while a call was in flight; they go together in the next call. */
  queued: Batch | undefined = undefined;
  /**
   * The most requests the next call may carry: at most what the service last said is left,
   * and at most a twentieth of the limit. The RLS counts a batch whole or not at all, so
   * the one batch that crosses the limit in a window is refused whole: with batches this
   * small, what a window loses that way stays under 5% of the limit, however many proxies
   * share it. Nothing known yet: 1.
   */
  cap = 1;
}

/**
 * `aeraki.meta_protocol.filters.ratelimit`: asks Envoy's rate-limit service whether a
 * request may pass (spec/xds.md §4). Asynchronous with a deadline: a request waits at most
 * `timeout` (one timer per call, not per request), then passes (fail open) or is refused
 * (`failure_mode_deny`). Requests with the same descriptors that arrive while a call for
 * them is in flight are sent together in the next call as its `hits_addend`, so under load
 * one call answers many requests. Requests the filter does not limit (no match, no
 * descriptor value) cost one match and no promise.
 */
export class GlobalRateLimiter implements Filter {
  readonly #cfg: RateLimitConfig;
  readonly #shared: RateLimitShared;
  readonly #keys: readonly string[];
  readonly #domainField: Buffer;
  readonly #states = new Map<string, KeyState>();
  /** The channel of the last host picked, by host object (no string built per call). */
  readonly #channels = new WeakMap<object, RlsChannel>();

  constructor(cfg: RateLimitConfig, shared: RateLimitShared) {
    this.#cfg = cfg;
    this.#shared = shared;
    this.#keys = cfg.descriptors.map((d) => d.key);
    this.#domainField = encodeDomain(cfg.domain);
  }

  onRequest(ex: FilterExchange): FilterResult {
    const cfg = this.#cfg;
    const md = ex.metadata;
    if (cfg.matches !== undefined && !cfg.matches(md)) return FilterStatus.Continue;
    // A descriptor value comes from the request, or from the matched route's request
    // mutation (what the upstream will see), so a MetaRDS update can change it.
    const mutation = ex.route()?.requestMutation ?? null;
    const descriptors = cfg.descriptors;
    const values: string[] = [];
    for (let i = 0; i < descriptors.length; i++) {
      const p = descriptors[i]!.property;
      const v = mutation?.get(p) ?? md.get(p);
      // RLS entries need a value (min_len 1): without one the request is not limited.
      if (v === undefined || v === '') return FilterStatus.Continue;
      values.push(v);
    }
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    this.#shared.stats.total.inc();
    return new Promise<FilterStatus>((resolve) => this.#enqueue(key, values, { ex, resolve }));
  }

  #enqueue(key: string, values: readonly string[], w: Waiter): void {
    let state = this.#states.get(key);
    if (state === undefined) {
      if (this.#states.size >= MAX_KEYS) this.#forgetIdle();
      state = new KeyState();
      this.#states.set(key, state);
    }
    let batch = state.queued;
    // A queued batch whose deadline passed was answered already: start a new one.
    if (batch !== undefined && batch.settled) batch = state.queued = undefined;
    if (batch === undefined) {
      batch = this.#newBatch(values);
      batch.waiters.push(w);
      if (state.inFlight === 0) this.#send(key, state, batch);
      else state.queued = batch;
      return;
    }
    batch.waiters.push(w);
    if (batch.waiters.length >= state.cap) {
      state.queued = undefined;
      this.#send(key, state, batch);
    }
  }

  #newBatch(values: readonly string[]): Batch {
    const batch = new Batch(values);
    // The deadline runs from the first request of the batch; later ones wait less.
    batch.timer = setTimeout(() => this.#onDeadline(batch), this.#cfg.timeoutMs);
    return batch;
  }

  #send(key: string, state: KeyState, batch: Batch): void {
    const host = batch.waiters[0]!.ex.clusterHost?.(this.#cfg.clusterName);
    if (host === undefined) {
      this.#settle(batch);
      for (const w of batch.waiters) {
        w.ex.sendLocalReply(ErrorType.ClusterNotFound, `meta protocol global ratelimit: no host of rate limit service cluster '${this.#cfg.clusterName}'`);
        w.resolve(FilterStatus.Stop);
      }
      this.#sendQueued(key, state);
      return;
    }
    let channel = this.#channels.get(host);
    if (channel === undefined) {
      channel = rlsChannel(host.address, host.port);
      this.#channels.set(host, channel);
    }
    state.inFlight++;
    const shared = this.#shared;
    shared.stats.rls_calls.inc();
    const request = encodeRequest(this.#domainField, this.#keys, batch.values, batch.waiters.length);
    shared.breaker.fire(channel, request, batch).then(
      (answer) => {
        state.inFlight--;
        this.#onAnswer(state, batch, answer);
        this.#sendQueued(key, state);
      },
      (err: unknown) => {
        state.inFlight--;
        this.#onFailure(batch, err);
        this.#sendQueued(key, state);
      },
    );
  }

  /** After a call ended: sends the requests that queued meanwhile. */
  #sendQueued(key: string, state: KeyState): void {
    const next = state.queued;
    if (next === undefined) return;
    state.queued = undefined;
    if (!next.settled) this.#send(key, state, next);
  }

  /**
   * Drops the value sets with nothing in flight or queued (many distinct values, e.g. one
   * per user): what the service said of them is forgotten, so their next call goes alone.
   */
  #forgetIdle(): void {
    for (const [k, s] of this.#states) if (s.inFlight === 0 && (s.queued === undefined || s.queued.settled)) this.#states.delete(k);
  }

  /** Marks the batch answered; false when its deadline already answered it. */
  #settle(batch: Batch): boolean {
    if (batch.settled) return false;
    batch.settled = true;
    clearTimeout(batch.timer);
    this.#shared.stats.wait_ms.record(performance.now() - batch.createdAt);
    return true;
  }

  #onAnswer(state: KeyState, batch: Batch, answer: RlsAnswer): void {
    state.cap = nextCap(answer);
    if (!this.#settle(batch)) return;
    const stats = this.#shared.stats;
    const n = batch.waiters.length;
    if (answer.code === RlsCode.OverLimit) {
      stats.over_limit.inc(n);
      for (const w of batch.waiters) {
        w.ex.sendLocalReply(ErrorType.OverLimit, `meta protocol global ratelimit: request '${w.ex.downstreamRequestId}' has been rate limited`);
        w.resolve(FilterStatus.Stop);
      }
      return;
    }
    // Envoy's reading: anything but OVER_LIMIT lets the request through.
    stats.ok.inc(n);
    for (const w of batch.waiters) w.resolve(FilterStatus.Continue);
  }

  #onFailure(batch: Batch, err: unknown): void {
    if (!this.#settle(batch)) return;
    const stats = this.#shared.stats;
    if (isBreakerOpen(err)) stats.circuit_breaker_rejected.inc(batch.waiters.length);
    this.#fail(batch, isBreakerOpen(err) ? 'circuit breaker open' : ((err as ServiceError).details ?? String(err)));
  }

  /** The deadline passed: the call (if sent) is cancelled, which the breaker counts failed. */
  #onDeadline(batch: Batch): void {
    if (!this.#settle(batch)) return;
    batch.call?.cancel();
    this.#fail(batch, `no answer within ${this.#cfg.timeoutMs} ms`);
  }

  /** No answer from the service: fail open, or refuse with failure_mode_deny. */
  #fail(batch: Batch, why: string): void {
    const stats = this.#shared.stats;
    const n = batch.waiters.length;
    stats.error.inc(n);
    if (this.#cfg.failureModeDeny) {
      for (const w of batch.waiters) {
        w.ex.sendLocalReply(ErrorType.OverLimit, `meta protocol global ratelimit: request '${w.ex.downstreamRequestId}' has been rate limited (rate limit service failed: ${why}; failure_mode_deny)`);
        w.resolve(FilterStatus.Stop);
      }
      return;
    }
    stats.failure_mode_allowed.inc(n);
    for (const w of batch.waiters) w.resolve(FilterStatus.Continue);
  }
}

/** The batch size the next call may have, from what the service said (see KeyState.cap). */
function nextCap(answer: RlsAnswer): number {
  const share = answer.limit === undefined ? MAX_BATCH : Math.floor(answer.limit / 20);
  const left = answer.code === RlsCode.OverLimit ? share : (answer.remaining ?? 1);
  return Math.max(1, Math.min(MAX_BATCH, share, left));
}
