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

/**
 * Pre-admission (see KeyState.lease): a lease is at most a hundredth of what the service said
 * is left, none below LEASE_MIN (small limits are asked request by request, exactly), at most
 * LEASE_MAX; it lapses LEASE_TTL_MS after the answer that granted it, and the hits it admits
 * are told to the service at the latest REPORT_MS after the first of them.
 */
export const LEASE_SHARE = 100;
export const LEASE_MIN = 8;
export const LEASE_MAX = 1024;
export const LEASE_TTL_MS = 20;
export const REPORT_MS = 10;

/** One request waiting for the service's answer. */
interface Waiter {
  readonly ex: FilterExchange;
  readonly resolve: (s: FilterStatus) => void;
}

/**
 * Requests with the same descriptor values, answered by one ShouldRateLimit call. A batch may
 * also carry hits admitted on a lease (`reported`), or only those (a report: no waiters).
 */
class Batch implements CallHolder {
  readonly values: readonly string[];
  readonly waiters: Waiter[] = [];
  /** Hits admitted on a lease that this call tells the service of. */
  reported = 0;
  call: CallHolder['call'] = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  settled = false;
  readonly createdAt = performance.now();
  readonly state: KeyState;

  constructor(values: readonly string[], state: KeyState) {
    this.values = values;
    this.state = state;
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
  /**
   * Requests this proxy may still let through without asking: granted by an OK answer that
   * said plenty is left (a hundredth of it), until `leaseUntil`. Their hits are told to the
   * service in the next call (hits_addend), so it keeps counting every request. This is what
   * keeps a filter that does not limit cheap: one call per many requests, and no promise.
   */
  lease = 0;
  leaseUntil = 0;
  /** Hits admitted on the lease and not yet told to the service. */
  unreported = 0;
  /** Tells the service of unreported hits at the latest REPORT_MS after the first. */
  reportTimer: NodeJS.Timeout | undefined = undefined;
  /** The channel of this key's last call: reports go there. */
  channel: RlsChannel | undefined = undefined;
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

  /** How long a lease holds (LEASE_TTL_MS; a test may hold it longer to isolate other causes). */
  readonly #leaseTtlMs: number;

  constructor(cfg: RateLimitConfig, shared: RateLimitShared, leaseTtlMs = LEASE_TTL_MS) {
    this.#cfg = cfg;
    this.#leaseTtlMs = leaseTtlMs;
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
    const stats = this.#shared.stats;
    stats.total++;
    let state = this.#states.get(key);
    if (state === undefined) {
      if (this.#states.size >= MAX_KEYS) this.#forgetIdle();
      state = new KeyState();
      this.#states.set(key, state);
    }
    if (state.lease > 0) {
      if (performance.now() < state.leaseUntil) return this.#admitOnLease(key, state, values);
      state.lease = 0;
    }
    const s = state;
    return new Promise<FilterStatus>((resolve) => this.#enqueue(key, s, values, { ex, resolve }));
  }

  /** Lets a request through on the lease; its hit goes to the service with the next call. */
  #admitOnLease(key: string, state: KeyState, values: readonly string[]): FilterStatus {
    const stats = this.#shared.stats;
    state.lease--;
    stats.ok++;
    stats.preadmitted++;
    if (state.unreported++ === 0) state.reportTimer = setTimeout(() => this.#report(key, state, values), REPORT_MS);
    else if (state.unreported >= reportAt(state.lease)) this.#report(key, state, values);
    return FilterStatus.Continue;
  }

  /** Tells the service of the lease's hits now, or with the call in flight's successor. */
  #report(key: string, state: KeyState, values: readonly string[]): void {
    clearTimeout(state.reportTimer);
    state.reportTimer = undefined;
    if (state.unreported === 0 || state.inFlight > 0 || (state.queued !== undefined && !state.queued.settled)) return;
    this.#send(key, state, this.#newBatch(values, state));
  }

  #enqueue(key: string, state: KeyState, values: readonly string[], w: Waiter): void {
    let batch = state.queued;
    // A queued batch whose deadline passed was answered already: start a new one.
    if (batch !== undefined && batch.settled) batch = state.queued = undefined;
    if (batch === undefined) {
      batch = this.#newBatch(values, state);
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

  #newBatch(values: readonly string[], state: KeyState): Batch {
    const batch = new Batch(values, state);
    // The deadline runs from the first request of the batch; later ones wait less.
    batch.timer = setTimeout(() => this.#onDeadline(batch), this.#cfg.timeoutMs);
    return batch;
  }

  #send(key: string, state: KeyState, batch: Batch): void {
    // A request's exchange picks the service's host; a report has no request of its own and
    // goes on the channel of the call that granted the lease.
    const ex = batch.waiters[0]?.ex;
    const host = ex === undefined ? undefined : ex.clusterHost?.(this.#cfg.clusterName);
    if (ex !== undefined && host === undefined) {
      state.lease = 0;
      this.#settle(batch);
      for (const w of batch.waiters) {
        w.ex.sendLocalReply(ErrorType.ClusterNotFound, `meta protocol global ratelimit: no host of rate limit service cluster '${this.#cfg.clusterName}'`);
        w.resolve(FilterStatus.Stop);
      }
      this.#sendQueued(key, state, batch.values);
      return;
    }
    let channel = host === undefined ? state.channel : this.#channels.get(host);
    if (channel === undefined && host !== undefined) {
      channel = rlsChannel(host.address, host.port);
      this.#channels.set(host, channel);
    }
    if (channel === undefined) {
      // A report with no channel known: nothing granted a lease on this key, so nothing to tell.
      this.#settle(batch);
      state.unreported = 0;
      return;
    }
    state.channel = channel;
    state.inFlight++;
    const shared = this.#shared;
    shared.stats.rls_calls++;
    batch.reported = state.unreported;
    state.unreported = 0;
    clearTimeout(state.reportTimer);
    state.reportTimer = undefined;
    const request = encodeRequest(this.#domainField, this.#keys, batch.values, batch.waiters.length + batch.reported);
    shared.breaker.fire(channel, request, batch).then(
      (answer) => {
        state.inFlight--;
        this.#onAnswer(state, batch, answer);
        this.#sendQueued(key, state, batch.values);
      },
      (err: unknown) => {
        state.inFlight--;
        state.lease = 0;
        this.#onFailure(batch, err);
        this.#sendQueued(key, state, batch.values);
      },
    );
  }

  /** After a call ended: sends the requests that queued meanwhile, or the lease's hits due. */
  #sendQueued(key: string, state: KeyState, values: readonly string[]): void {
    const next = state.queued;
    state.queued = undefined;
    if (next !== undefined && !next.settled) this.#send(key, state, next);
    else if (state.unreported > 0 && state.reportTimer === undefined) this.#send(key, state, this.#newBatch(values, state));
  }

  /**
   * Drops the value sets with nothing in flight or queued (many distinct values, e.g. one
   * per user): what the service said of them is forgotten, so their next call goes alone.
   */
  #forgetIdle(): void {
    for (const [k, s] of this.#states) if (s.inFlight === 0 && s.unreported === 0 && (s.queued === undefined || s.queued.settled)) this.#states.delete(k);
  }

  /** Marks the batch answered; false when its deadline already answered it. */
  #settle(batch: Batch): boolean {
    if (batch.settled) return false;
    batch.settled = true;
    clearTimeout(batch.timer);
    // A report (no request waiting) has no wait to record.
    if (batch.waiters.length > 0) this.#shared.stats.wait_ms.record(performance.now() - batch.createdAt);
    return true;
  }

  #onAnswer(state: KeyState, batch: Batch, answer: RlsAnswer): void {
    state.cap = nextCap(answer);
    state.lease = leaseOf(answer);
    state.leaseUntil = performance.now() + this.#leaseTtlMs;
    if (!this.#settle(batch)) return;
    const stats = this.#shared.stats;
    const n = batch.waiters.length;
    if (answer.code === RlsCode.OverLimit) {
      stats.over_limit += n;
      for (const w of batch.waiters) {
        w.ex.sendLocalReply(ErrorType.OverLimit, `meta protocol global ratelimit: request '${w.ex.downstreamRequestId}' has been rate limited`);
        w.resolve(FilterStatus.Stop);
      }
      return;
    }
    // Envoy's reading: anything but OVER_LIMIT lets the request through.
    stats.ok += n;
    for (const w of batch.waiters) w.resolve(FilterStatus.Continue);
  }

  #onFailure(batch: Batch, err: unknown): void {
    if (!this.#settle(batch)) return;
    const stats = this.#shared.stats;
    if (isBreakerOpen(err)) stats.circuit_breaker_rejected += batch.waiters.length;
    this.#fail(batch, isBreakerOpen(err) ? 'circuit breaker open' : ((err as ServiceError).details ?? String(err)));
  }

  /** The deadline passed: the call (if sent) is cancelled, which the breaker counts failed. */
  #onDeadline(batch: Batch): void {
    if (!this.#settle(batch)) return;
    batch.state.lease = 0;
    batch.call?.cancel();
    this.#fail(batch, `no answer within ${this.#cfg.timeoutMs} ms`);
  }

  /** No answer from the service: fail open, or refuse with failure_mode_deny. */
  #fail(batch: Batch, why: string): void {
    const stats = this.#shared.stats;
    const n = batch.waiters.length;
    stats.error += n;
    if (this.#cfg.failureModeDeny) {
      for (const w of batch.waiters) {
        w.ex.sendLocalReply(ErrorType.OverLimit, `meta protocol global ratelimit: request '${w.ex.downstreamRequestId}' has been rate limited (rate limit service failed: ${why}; failure_mode_deny)`);
        w.resolve(FilterStatus.Stop);
      }
      return;
    }
    stats.failure_mode_allowed += n;
    for (const w of batch.waiters) w.resolve(FilterStatus.Continue);
  }
}

/** The lease an answer grants (see KeyState.lease): none unless the service said plenty is left. */
function leaseOf(answer: RlsAnswer): number {
  if (answer.code !== RlsCode.Ok || answer.remaining === undefined || answer.limit === undefined) return 0;
  const lease = Math.floor(Math.min(answer.remaining, answer.limit) / LEASE_SHARE);
  return lease < LEASE_MIN ? 0 : Math.min(LEASE_MAX, lease);
}

/** Unreported lease hits that make a report due before its timer: a quarter of the lease. */
function reportAt(lease: number): number {
  return Math.max(LEASE_MIN, lease >> 2);
}

/** The batch size the next call may have, from what the service said (see KeyState.cap). */
function nextCap(answer: RlsAnswer): number {
  const share = answer.limit === undefined ? MAX_BATCH : Math.floor(answer.limit / 20);
  const left = answer.code === RlsCode.OverLimit ? share : (answer.remaining ?? 1);
  return Math.max(1, Math.min(MAX_BATCH, share, left));
}
